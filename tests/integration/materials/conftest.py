"""The deposit tests' small city serves the material tests (members, a unit operator, a clerk,
a reviewer `rev1`, an approver `rev2`), plus tiny files of each accepted type."""

from collections.abc import Iterator

import pytest
from deposits.conftest import City, _city, cheap_argon2  # noqa: F401 (autouse here too)

# Smallest headers each type is recognised by, with a body that makes each file distinct.
PDF = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00\x00\x00"
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00\xff\xd9"


@pytest.fixture
def city(db_url: str) -> Iterator[City]:
    yield from _city(db_url)
