"""Field encryption and blind indexes for personal data and stored secrets.

A value is encrypted with AES-256-GCM under a key derived from the platform secret; the
context (table.column, e.g. "gateway_client.secret") is bound as associated data, so a token
copied into another column does not decrypt. A blind index is a keyed HMAC of the value, so a
column can be searched for equality without storing the plaintext. Encryption and index keys
are derived separately: knowing index tokens reveals nothing about the encryption key.

Token format: "v1." + urlsafe base64 (no padding) of the 12-byte nonce and the ciphertext
with its 16-byte tag.
"""

import base64
import binascii
import hashlib
import hmac
import os
import re
from functools import lru_cache

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from hpf.config import get_settings
from hpf.kit.errors import UpstreamUnavailable

VERSION = "v1."
NONCE_BYTES = 12
TAG_BYTES = 16
INDEX_HEX_CHARS = 32
# Fields hold ID numbers, names, phone numbers and client secrets; refuse anything absurd
# before decoding it (a token is about 4/3 of the plaintext plus 40 characters).
MAX_TOKEN_CHARS = 64 * 1024
# Strict alphabet: the decoder would otherwise skip stray characters and accept variants.
TOKEN_BODY = re.compile(r"[A-Za-z0-9_-]+")
ENCRYPTION_INFO = b"hpf field encryption v1"
INDEX_INFO = b"hpf blind index v1"


def _derive(secret: bytes, info: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=info).derive(secret)


class FieldCipher:
    """Encrypts, decrypts and blind-indexes field values under keys derived from one secret."""

    def __init__(self, secret: str) -> None:
        if not secret:
            raise ValueError("secret must not be empty")
        raw = secret.encode("utf-8")
        self._aead = AESGCM(_derive(raw, ENCRYPTION_INFO))
        self._index_key = _derive(raw, INDEX_INFO)

    def encrypt(self, plaintext: str, context: str) -> str:
        """Encrypt `plaintext` bound to `context`; a fresh random nonce every time."""
        nonce = os.urandom(NONCE_BYTES)
        sealed = self._aead.encrypt(nonce, plaintext.encode("utf-8"), context.encode("utf-8"))
        return VERSION + base64.urlsafe_b64encode(nonce + sealed).rstrip(b"=").decode("ascii")

    def decrypt(self, token: str, context: str, max_chars: int = MAX_TOKEN_CHARS) -> str:
        """Decrypt a token made by `encrypt` for the same context; ValueError otherwise.

        `max_chars` bounds the token; only columns meant for documents (a stored call's
        parameters and result) raise it."""
        if not isinstance(token, str) or not token.startswith(VERSION) or len(token) > max_chars:
            raise ValueError("undecryptable")
        body = token[len(VERSION):]
        if not TOKEN_BODY.fullmatch(body):
            raise ValueError("undecryptable")
        try:
            raw = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
            if len(raw) < NONCE_BYTES + TAG_BYTES:
                raise ValueError("undecryptable")
            plain = self._aead.decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], context.encode("utf-8"))
            return plain.decode("utf-8")
        # Every failure reads the same to the caller: no oracle on what exactly was wrong.
        except (binascii.Error, InvalidTag, UnicodeError, ValueError) as exc:
            raise ValueError("undecryptable") from exc

    def encrypt_bytes(self, data: bytes, context: str) -> bytes:
        """Encrypt a binary document (an uploaded file) bound to `context`: nonce + ciphertext."""
        nonce = os.urandom(NONCE_BYTES)
        return VERSION.encode("ascii") + nonce + self._aead.encrypt(nonce, data,
                                                                    context.encode("utf-8"))

    def decrypt_bytes(self, sealed: bytes, context: str) -> bytes:
        """Decrypt what `encrypt_bytes` made for the same context; ValueError otherwise."""
        head = len(VERSION)
        if not sealed.startswith(VERSION.encode("ascii")) \
                or len(sealed) < head + NONCE_BYTES + TAG_BYTES:
            raise ValueError("undecryptable")
        try:
            return self._aead.decrypt(sealed[head:head + NONCE_BYTES],
                                      sealed[head + NONCE_BYTES:], context.encode("utf-8"))
        except InvalidTag as exc:
            raise ValueError("undecryptable") from exc

    def blind_index(self, value: str, context: str) -> str:
        """Deterministic lookup token of an already normalised value within `context`."""
        message = (context + "\x00" + value).encode("utf-8")
        return hmac.new(self._index_key, message, hashlib.sha256).hexdigest()[:INDEX_HEX_CHARS]


@lru_cache
def field_cipher() -> FieldCipher:
    """The platform's FieldCipher, keyed by the configured secret_key (cached)."""
    return FieldCipher(get_settings().secret_key)


def decrypt_or_refuse(token: str, context: str, max_chars: int = MAX_TOKEN_CHARS) -> str:
    """Decrypt a stored secret; a value the current key cannot open (HPF_SECRET_KEY changed
    or the row damaged) is a clear 503 KEY_MISMATCH, not a stack trace."""
    try:
        return field_cipher().decrypt(token, context, max_chars)
    except ValueError:
        raise UpstreamUnavailable("系统密钥配置有误，请联系系统管理员", code="KEY_MISMATCH",
                                  context=context) from None
