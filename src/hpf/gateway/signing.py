"""Request signing of channel clients (渠道接入签名): pure rules, no I/O.

A registered client signs every API request with its secret: HMAC-SHA256 over the method, the
path with its query, the SHA-256 of the body, a timestamp and a nonce. The server refuses a
signature that does not match, a timestamp outside the allowed skew, and a nonce it has seen
(the nonce is remembered for twice the skew, so a replay is refused as long as the timestamp
would still be accepted). docs/channel-interface.md is the client's side of this.
"""

import hashlib
import hmac
import re
import secrets

CLIENT_HEADER = "X-HPF-Client"
TIMESTAMP_HEADER = "X-HPF-Timestamp"
NONCE_HEADER = "X-HPF-Nonce"
SIGNATURE_HEADER = "X-HPF-Signature"
MAX_SKEW_S = 300
NONCE_TTL_S = 2 * MAX_SKEW_S
NONCE = re.compile(r"^[A-Za-z0-9_-]{16,64}\Z")
CLIENT_ID = re.compile(r"^[a-z0-9][a-z0-9_-]{2,31}\Z")
SIGNATURE = re.compile(r"^[0-9a-f]{64}\Z")
TIMESTAMP = re.compile(r"^[0-9]{1,12}\Z")


def string_to_sign(method: str, path_and_query: str, body: bytes, timestamp: str,
                   nonce: str) -> str:
    """The canonical text a client signs (one field per line)."""
    return "\n".join((method.upper(), path_and_query, hashlib.sha256(body).hexdigest(),
                      timestamp, nonce))


def sign(secret: str, method: str, path_and_query: str, body: bytes, timestamp: str,
         nonce: str) -> str:
    """Hex HMAC-SHA256 of the canonical text under the client's secret."""
    text = string_to_sign(method, path_and_query, body, timestamp, nonce)
    return hmac.new(secret.encode(), text.encode(), hashlib.sha256).hexdigest()


def matches(secret: str, signature: str, method: str, path_and_query: str, body: bytes,
            timestamp: str, nonce: str) -> bool:
    """True when the signature is the client's (compared in constant time)."""
    expected = sign(secret, method, path_and_query, body, timestamp, nonce)
    return hmac.compare_digest(expected, signature.lower())


def fresh(timestamp: str, now_s: float) -> bool:
    """True for a whole-second Unix timestamp within the allowed skew of now."""
    # ASCII digits only: str.isdigit() also accepts "²", which int() refuses (a 500).
    if not TIMESTAMP.match(timestamp):
        return False
    return abs(int(timestamp) - now_s) <= MAX_SKEW_S


def new_secret() -> str:
    """A fresh client secret (256 bits, URL-safe text)."""
    return secrets.token_urlsafe(32)


def new_nonce() -> str:
    """A fresh nonce for a client to send."""
    return secrets.token_urlsafe(18)
