"""FieldCipher: AES-GCM field tokens bound to a context, and HMAC blind indexes."""

import base64
import hashlib
import hmac

import pytest
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from hpf.config import get_settings
from hpf.kit.crypto import ENCRYPTION_INFO, INDEX_INFO, FieldCipher, _derive, field_cipher

SECRET = "test-secret-key-0123456789"
CONTEXT = "member.id_number"


@pytest.fixture
def cipher() -> FieldCipher:
    return FieldCipher(SECRET)


def _b64decode(body: str) -> bytes:
    return base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))


def _b64encode(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


@pytest.mark.parametrize("plaintext", ["", "11010519491231002X", "张三丰", "北京市朝阳区 1 号 😀",
                                       "x" * 10_000])
def test_round_trip(cipher: FieldCipher, plaintext: str) -> None:
    token = cipher.encrypt(plaintext, CONTEXT)
    assert token.startswith("v1.")
    assert "=" not in token and "+" not in token and "/" not in token
    assert cipher.decrypt(token, CONTEXT) == plaintext
    # Another instance with the same secret decrypts it too (keys are derived, not random).
    assert FieldCipher(SECRET).decrypt(token, CONTEXT) == plaintext


def test_token_layout_is_nonce_then_ciphertext_and_tag(cipher: FieldCipher) -> None:
    raw = _b64decode(cipher.encrypt("abc", CONTEXT)[3:])
    assert len(raw) == 12 + 3 + 16


def test_each_encryption_uses_a_fresh_nonce(cipher: FieldCipher) -> None:
    tokens = {cipher.encrypt("same", CONTEXT) for _ in range(50)}
    assert len(tokens) == 50
    assert len({_b64decode(t[3:])[:12] for t in tokens}) == 50


def test_a_wrong_context_does_not_decrypt(cipher: FieldCipher) -> None:
    token = cipher.encrypt("secret", "gateway_client.secret")
    with pytest.raises(ValueError, match="undecryptable"):
        cipher.decrypt(token, "member.id_number")


def test_another_secret_does_not_decrypt(cipher: FieldCipher) -> None:
    token = cipher.encrypt("secret", CONTEXT)
    with pytest.raises(ValueError, match="undecryptable"):
        FieldCipher("another-secret-key-98765").decrypt(token, CONTEXT)


def test_every_flipped_byte_is_detected(cipher: FieldCipher) -> None:
    raw = _b64decode(cipher.encrypt("张三", CONTEXT)[3:])
    for i in range(len(raw)):
        tampered = raw[:i] + bytes([raw[i] ^ 0x01]) + raw[i + 1:]
        with pytest.raises(ValueError, match="undecryptable"):
            cipher.decrypt("v1." + _b64encode(tampered), CONTEXT)


@pytest.mark.parametrize("mangle", [
    pytest.param(lambda t: t[:-1], id="truncated by one"),
    pytest.param(lambda t: t[:3 + 20], id="shorter than nonce and tag"),
    pytest.param(lambda t: "v1.", id="empty body"),
    pytest.param(lambda t: "", id="empty"),
    pytest.param(lambda t: "v2." + t[3:], id="wrong version"),
    pytest.param(lambda t: t[3:], id="no version"),
    pytest.param(lambda t: "v1.!!!not base64!!!", id="garbage"),
    pytest.param(lambda t: "v1." + t[3:] + "A", id="extra character"),
    pytest.param(lambda t: t + "==", id="padding"),
    pytest.param(lambda t: t.replace("v1.", "v1.+/", 1), id="standard alphabet"),
    pytest.param(lambda t: "v1." + "A" * 100_000, id="huge"),
    pytest.param(lambda t: "v1." + _b64encode(b"\x00" * 40), id="zeros"),
])
def test_malformed_tokens_are_undecryptable(cipher: FieldCipher, mangle) -> None:
    token = cipher.encrypt("11010519491231002X", CONTEXT)
    with pytest.raises(ValueError, match="undecryptable"):
        cipher.decrypt(mangle(token), CONTEXT)


def test_a_non_string_token_is_undecryptable(cipher: FieldCipher) -> None:
    with pytest.raises(ValueError, match="undecryptable"):
        cipher.decrypt(None, CONTEXT)  # type: ignore[arg-type]


def test_blind_index_is_deterministic_and_short(cipher: FieldCipher) -> None:
    token = cipher.blind_index("11010519491231002X", CONTEXT)
    assert token == cipher.blind_index("11010519491231002X", CONTEXT)
    assert token == FieldCipher(SECRET).blind_index("11010519491231002X", CONTEXT)
    assert len(token) == 32
    assert int(token, 16) >= 0
    assert token != cipher.blind_index("11010519491231002x", CONTEXT)  # the caller normalises


def test_blind_index_is_separated_by_context(cipher: FieldCipher) -> None:
    assert (cipher.blind_index("13800000000", "member.phone")
            != cipher.blind_index("13800000000", "staff.phone"))
    # The separator keeps ("a", "bc") and ("ab", "c") apart.
    assert cipher.blind_index("bc", "a") != cipher.blind_index("c", "ab")


def test_blind_index_depends_on_the_secret(cipher: FieldCipher) -> None:
    other = FieldCipher("another-secret-key-98765")
    assert cipher.blind_index("张三", CONTEXT) != other.blind_index("张三", CONTEXT)


def test_blind_index_is_the_documented_hmac(cipher: FieldCipher) -> None:
    key = _derive(SECRET.encode(), INDEX_INFO)
    expected = hmac.new(key, f"{CONTEXT}\x00张三".encode(), hashlib.sha256).hexdigest()[:32]
    assert cipher.blind_index("张三", CONTEXT) == expected


def test_encryption_and_index_keys_are_independent(cipher: FieldCipher) -> None:
    enc_key = _derive(SECRET.encode(), ENCRYPTION_INFO)
    index_key = _derive(SECRET.encode(), INDEX_INFO)
    assert len(enc_key) == len(index_key) == 32
    assert enc_key != index_key
    assert SECRET.encode() not in (enc_key, index_key)
    raw = _b64decode(cipher.encrypt("张三", CONTEXT)[3:])
    # The token opens with the encryption key and not with the index key.
    assert AESGCM(enc_key).decrypt(raw[:12], raw[12:], CONTEXT.encode()) == "张三".encode()
    with pytest.raises(InvalidTag):
        AESGCM(index_key).decrypt(raw[:12], raw[12:], CONTEXT.encode())
    # And the index is not an HMAC under the encryption key.
    under_enc = hmac.new(enc_key, f"{CONTEXT}\x00张三".encode(), hashlib.sha256).hexdigest()[:32]
    assert cipher.blind_index("张三", CONTEXT) != under_enc


def test_an_empty_secret_is_refused() -> None:
    with pytest.raises(ValueError):
        FieldCipher("")


def test_field_cipher_uses_the_configured_secret() -> None:
    field_cipher.cache_clear()
    try:
        cipher = field_cipher()
        assert field_cipher() is cipher
        expected = FieldCipher(get_settings().secret_key)
        assert cipher.blind_index("x", CONTEXT) == expected.blind_index("x", CONTEXT)
        assert expected.decrypt(cipher.encrypt("x", CONTEXT), CONTEXT) == "x"
    finally:
        field_cipher.cache_clear()


def test_a_secret_the_current_key_cannot_open_is_a_clear_refusal():
    from hpf.kit.crypto import decrypt_or_refuse
    from hpf.kit.errors import HpfError

    token = FieldCipher("an-older-key-000").encrypt("s3cret", "gateway_client.secret")
    with pytest.raises(HpfError) as refused:
        decrypt_or_refuse(token, "gateway_client.secret")
    assert (refused.value.status, refused.value.code) == (503, "KEY_MISMATCH")
