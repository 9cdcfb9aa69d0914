"""The centre's CA without a database: issue, verify, and every way a presented certificate
is refused (other CA, self-made, expired, not yet valid, wrong use, malformed PEM)."""

import base64
from datetime import UTC, datetime, timedelta

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from hpf.identity import ca

NOW = datetime(2026, 3, 16, 2, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def root():
    return ca.build_root("测试根CA", "测试中心", NOW)


def _leaf(root, key=None, *, now=NOW, days=365):
    root_key, root_cert = root
    key = key or ca.new_key()
    cert = ca.issue_leaf(root_key, root_cert, key.public_key(), common_name="经办人甲",
                         organization="测试中心", unit="单位经办人", user_id="unit:op1",
                         now=now, valid_days=days)
    return key, cert


def _problem(code, fn, *args):
    with pytest.raises(ca.CertificateProblem) as caught:
        fn(*args)
    assert caught.value.code == code


def test_a_leaf_verifies_and_its_key_signs(root):
    key, leaf = _leaf(root)
    parsed = ca.parse_presented(ca.cert_pem(leaf))
    ca.verify_leaf(root[1], parsed, NOW)
    assert parsed.subject.get_attributes_for_oid(x509.NameOID.USER_ID)[0].value == "unit:op1"
    assert len(ca.fingerprint(parsed)) == 64 and ca.serial_text(parsed) == f"{leaf.serial_number:x}"
    signature = ca.sign(key, b"challenge")
    assert ca.signature_holds(parsed, b"challenge", signature)
    assert not ca.signature_holds(parsed, b"challenge!", signature)
    assert not ca.signature_holds(parsed, b"challenge", b"\x30\x00")
    assert not ca.signature_holds(parsed, b"challenge", ca.sign(ca.new_key(), b"challenge"))


def test_validity_period(root):
    _, leaf = _leaf(root, days=30)
    _problem(ca.NOT_YET_VALID, ca.verify_leaf, root[1], leaf, NOW - timedelta(hours=1))
    ca.verify_leaf(root[1], leaf, NOW - timedelta(seconds=ca.BACKDATE_S))  # slow clocks
    ca.verify_leaf(root[1], leaf, NOW + timedelta(days=30))
    _problem(ca.EXPIRED, ca.verify_leaf, root[1], leaf, NOW + timedelta(days=30, seconds=1))


def test_a_leaf_never_outlives_its_root():
    root = ca.build_root("短期根CA", "测试中心", NOW, valid_days=10)
    _, leaf = _leaf(root, days=365)
    assert leaf.not_valid_after_utc == root[1].not_valid_after_utc


def test_other_ca_and_self_made_certificates_are_not_the_centres(root):
    other = ca.build_root("测试根CA", "测试中心", NOW)  # same name, other key
    _, foreign = _leaf(other)
    _problem(ca.NOT_ISSUED, ca.verify_leaf, root[1], foreign, NOW)
    key = ca.new_key()
    name = x509.Name([x509.NameAttribute(x509.NameOID.COMMON_NAME, "测试根CA")])
    self_made = (x509.CertificateBuilder().subject_name(name).issuer_name(root[1].subject)
                 .public_key(key.public_key()).serial_number(1)
                 .not_valid_before(NOW - timedelta(days=1)).not_valid_after(NOW + timedelta(days=1))
                 .sign(key, hashes.SHA256()))
    _problem(ca.NOT_ISSUED, ca.verify_leaf, root[1], self_made, NOW)
    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    rsa_made = (x509.CertificateBuilder().subject_name(name).issuer_name(root[1].subject)
                .public_key(rsa_key.public_key()).serial_number(2)
                .not_valid_before(NOW - timedelta(days=1)).not_valid_after(NOW + timedelta(days=1))
                .sign(rsa_key, hashes.SHA256()))
    _problem(ca.NOT_ISSUED, ca.verify_leaf, root[1], rsa_made, NOW)


def test_the_root_itself_and_leaves_without_client_use_are_refused(root):
    _problem(ca.WRONG_USAGE, ca.verify_leaf, root[1], root[1], NOW)
    root_key, root_cert = root
    key = ca.new_key()
    server_only = (x509.CertificateBuilder().subject_name(root_cert.subject)
                   .issuer_name(root_cert.subject).public_key(key.public_key()).serial_number(3)
                   .not_valid_before(NOW - timedelta(days=1))
                   .not_valid_after(NOW + timedelta(days=1))
                   .add_extension(x509.BasicConstraints(ca=False, path_length=None), True)
                   .sign(root_key, hashes.SHA256()))
    _problem(ca.WRONG_USAGE, ca.verify_leaf, root_cert, server_only, NOW)


def test_malformed_pem_variants(root):
    _, leaf = _leaf(root)
    pem = ca.cert_pem(leaf)
    lines = pem.strip().splitlines()
    variants = {
        "empty": "",
        "garbage": "hello",
        "random bytes": base64.b64encode(bytes(range(256))).decode(),
        "truncated": "\n".join(lines[:-3] + lines[-1:]),
        "no end": "\n".join(lines[:-1]),
        "chain of two": pem + ca.cert_pem(root[1]),
        "huge": pem + " " * (ca.MAX_PEM_BYTES + 1),
        "not ascii": pem.replace("-----END", "证-----END"),
        "text around": "subject=x\n" + pem,
        "a key": ca.key_pem(ca.new_key()),
        "body not DER": lines[0] + "\n" + base64.b64encode(b"\x30\x03\x02\x01\x01").decode()
                        + "\n" + lines[-1],
    }
    for label, text in variants.items():
        with pytest.raises(ca.CertificateProblem) as caught:
            ca.parse_presented(text)
        assert caught.value.code == ca.MALFORMED, label


def test_csr_gives_its_key_only_when_it_is_p256_and_self_signed():
    key = ca.new_key()
    assert ca.public_key_from_csr(ca.make_csr(key, "op1")).public_numbers() == \
        key.public_key().public_numbers()
    p384 = ec.generate_private_key(ec.SECP384R1())
    for bad in ("", "junk", ca.make_csr(p384, "op1"), "x" * (ca.MAX_CSR_BYTES + 1)):
        _problem(ca.INVALID_CSR, ca.public_key_from_csr, bad)
    # A CSR whose signature does not hold (a bit flipped in the signature).
    der = x509.load_pem_x509_csr(ca.make_csr(key, "op1").encode()).public_bytes(
        serialization.Encoding.DER)
    tampered = bytearray(der)
    tampered[-5] ^= 0x01
    pem = ("-----BEGIN CERTIFICATE REQUEST-----\n" + base64.encodebytes(bytes(tampered)).decode()
           + "-----END CERTIFICATE REQUEST-----\n")
    _problem(ca.INVALID_CSR, ca.public_key_from_csr, pem)
