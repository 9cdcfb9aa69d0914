"""Personal data at rest: encrypted text columns and the blind indexes that find them.

`Sealed(context)` is a column type that encrypts with hpf.kit.crypto on the way in and
decrypts on the way out, each column under its own context ("dep_member.id_number"), so a
ciphertext copied into another column does not open. Comparing a sealed column in SQL is
refused with a TypeError: the same plaintext encrypts differently every time, so
`Member.id_number == x` could only ever match nothing, silently. Lookups go through a blind
index column beside it (`id_number_bidx`), filled from `id_number_index` / `phone_index`.

Blind indexes use one context per kind of value, not per column ("id_number", "phone"), so a
phone typed at registration finds the same index as the phone on the member record.
Set-based inserts (the demo seed, the benchmark loader, the migration) call `seal` and the
index functions themselves per row; the ORM fills indexes through `validates` hooks.
"""

import re
from typing import Any

from sqlalchemy import String, Text
from sqlalchemy.sql import operators
from sqlalchemy.types import TypeDecorator

from hpf.kit.crypto import MAX_TOKEN_CHARS, decrypt_or_refuse, field_cipher
from hpf.kit.ids import upgrade_id15

# Room for the token of a short value: "v1." + base64 of nonce (12) + text + tag (16).
SEALED_CHARS = 128
INDEX_CHARS = 32
ID_NUMBER_INDEX = "id_number"
PHONE_INDEX = "phone"
RECIPIENT_INDEX = "recipient"
_ID15 = re.compile(r"[0-9]{15}")
_NON_DIGITS = re.compile(r"[^0-9]")
_PHONE_LIKE = re.compile(r"\+?[0-9][0-9 -]{5,23}")

# Operators that do not compare the stored value: NULL tests and ordering keywords.
_ALLOWED = frozenset({operators.is_, operators.is_not, operators.asc_op, operators.desc_op,
                      operators.nulls_first_op, operators.nulls_last_op})


def seal(value: str | None, context: str) -> str | None:
    """The stored token of a value for a sealed column (None stays None)."""
    return None if value is None else field_cipher().encrypt(value, context)


def unseal(token: str | None, context: str, max_chars: int = MAX_TOKEN_CHARS) -> str | None:
    """The plaintext of a stored token (None stays None); KEY_MISMATCH if it does not open."""
    return None if token is None else decrypt_or_refuse(token, context, max_chars)


def index_id_number(raw: str) -> str:
    """ID number as indexed: trimmed, upper-case X, a 15-digit number upgraded to 18."""
    value = (raw or "").strip().upper()
    return upgrade_id15(value) if _ID15.fullmatch(value) else value


def id_number_index(raw: str) -> str:
    """Blind index of an ID number (any accepted spelling gives the same index)."""
    return field_cipher().blind_index(index_id_number(raw), ID_NUMBER_INDEX)


def phone_index(raw: str) -> str:
    """Blind index of a phone number, digits only."""
    return field_cipher().blind_index(_NON_DIGITS.sub("", raw or ""), PHONE_INDEX)


def recipient_index(raw: str) -> str:
    """Blind index of a message recipient: a phone number's phone index, else the address."""
    value = (raw or "").strip()
    if _PHONE_LIKE.fullmatch(value):
        return phone_index(value)
    return field_cipher().blind_index(value, RECIPIENT_INDEX)


class Sealed(TypeDecorator[str]):
    """A text column stored encrypted under `context`; equality and LIKE raise TypeError."""

    impl = String
    cache_ok = True

    def __init__(self, context: str, length: int = SEALED_CHARS) -> None:
        super().__init__(length)
        self.context = context

    def process_bind_param(self, value: Any, dialect: Any) -> str | None:
        """Encrypt on the way to the database."""
        return seal(value, self.context)

    def process_result_value(self, value: Any, dialect: Any) -> str | None:
        """Decrypt on the way back."""
        return unseal(value, self.context)

    def process_literal_param(self, value: Any, dialect: Any) -> str:  # noqa: ARG002
        """Never inline personal data into SQL text."""
        raise TypeError(f"sealed column {self.context}: literal values are not rendered")

    class comparator_factory(TypeDecorator.Comparator):  # noqa: N801 (SQLAlchemy's name)
        """Refuses every comparison: ciphertexts never match; use the blind index."""

        def operate(self, op: Any, *other: Any, **kwargs: Any) -> Any:
            """Allow NULL tests and ordering only."""
            if op in _ALLOWED:
                return super().operate(op, *other, **kwargs)
            raise TypeError(
                f"sealed column {self.type.context} cannot be compared in SQL "
                f"({getattr(op, '__name__', op)}); look it up by its blind index (*_bidx)")

        def reverse_operate(self, op: Any, other: Any, **kwargs: Any) -> Any:
            """Same refusal with the column on the right."""
            if op in _ALLOWED:
                return super().reverse_operate(op, other, **kwargs)
            raise TypeError(
                f"sealed column {self.type.context} cannot be compared in SQL "
                f"({getattr(op, '__name__', op)}); look it up by its blind index (*_bidx)")


# A stored call's parameters and result: a 50,000-row roster export is several megabytes.
DOCUMENT_MAX_CHARS = 256 * 1024 * 1024


class SealedText(Sealed):
    """A sealed TEXT column for whole JSON documents (no length limit but DOCUMENT_MAX_CHARS)."""

    impl = Text
    cache_ok = True

    def __init__(self, context: str) -> None:
        TypeDecorator.__init__(self)
        self.context = context

    def process_result_value(self, value: Any, dialect: Any) -> str | None:
        """Decrypt on the way back, documents included."""
        return unseal(value, self.context, DOCUMENT_MAX_CHARS)
