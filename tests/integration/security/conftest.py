"""The deposit tests' small city serves the user security tests too."""

from collections.abc import Iterator

import pytest
from deposits.conftest import City, _city, cheap_argon2  # noqa: F401 (autouse here too)


@pytest.fixture
def city(db_url: str) -> Iterator[City]:
    yield from _city(db_url)
