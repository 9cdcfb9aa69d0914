"""A small city for withdrawal tests: the deposit tests' city (wd_support adds members with
money, cards and registry records)."""

from collections.abc import Iterator

import pytest

from hpf.config import get_settings
from integration.deposits.conftest import City, _city, cheap_argon2  # noqa: F401


@pytest.fixture
def city(db_url: str, tmp_path, monkeypatch: pytest.MonkeyPatch) -> Iterator[City]:
    # Each test's bank keeps its own files: batch numbers restart with each test database.
    monkeypatch.setenv("HPF_BANK_FILES_DIR", str(tmp_path / "bank"))
    get_settings.cache_clear()
    yield from _city(db_url)
    get_settings.cache_clear()
