"""The centre's certificate authority (数字证书认证): keys, certificates and their checks.

No database and no clock of its own: the caller passes `now` and the stored PEMs. Keys are EC
P-256 and every signature is ECDSA-SHA256. An operator certificate is a leaf signed directly
by the root: CA false, key usage digitalSignature, extended key usage clientAuth. Anything else
presented for login is refused with one of the problem codes below.
"""

from datetime import datetime, timedelta

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

# A P-256 leaf in PEM is under 1 KiB; 8 KiB leaves room for long names and nothing absurd.
MAX_PEM_BYTES = 8 * 1024
MAX_CSR_BYTES = 8 * 1024
ROOT_VALID_DAYS = 20 * 365
# Issued certificates start a little in the past so a client clock slightly behind still works.
BACKDATE_S = 300
PEM_BEGIN = "-----BEGIN CERTIFICATE-----"
PEM_END = "-----END CERTIFICATE-----"

# Problem codes (mapped to refusals with Chinese messages by hpf.identity.certificates).
MALFORMED = "MALFORMED_CERTIFICATE"
NOT_ISSUED = "CERT_NOT_ISSUED_BY_CENTRE"
WRONG_USAGE = "CERT_WRONG_USAGE"
NOT_YET_VALID = "CERT_NOT_YET_VALID"
EXPIRED = "CERT_EXPIRED"
INVALID_CSR = "INVALID_CSR"


class CertificateProblem(Exception):
    """A presented certificate or CSR that cannot be used; `code` says why."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


def new_key() -> ec.EllipticCurvePrivateKey:
    """A fresh EC P-256 private key."""
    return ec.generate_private_key(ec.SECP256R1())


def key_pem(key: ec.EllipticCurvePrivateKey) -> str:
    """A private key as unencrypted PKCS#8 PEM (the caller seals or hands it over)."""
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption()).decode("ascii")


def load_key(pem: str) -> ec.EllipticCurvePrivateKey:
    """A PKCS#8 PEM private key made by `key_pem`."""
    key = serialization.load_pem_private_key(pem.encode("ascii"), password=None)
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        raise ValueError("not an EC key")
    return key


def cert_pem(cert: x509.Certificate) -> str:
    """A certificate as PEM text."""
    return cert.public_bytes(serialization.Encoding.PEM).decode("ascii")


def load_cert(pem: str) -> x509.Certificate:
    """A certificate from trusted PEM (one the platform stored itself)."""
    return x509.load_pem_x509_certificate(pem.encode("ascii"))


def fingerprint(cert: x509.Certificate) -> str:
    """The SHA-256 fingerprint of the certificate's DER, lower-case hex."""
    return cert.fingerprint(hashes.SHA256()).hex()


def serial_text(cert: x509.Certificate) -> str:
    """The serial number as stored and shown: lower-case hex without leading zeros."""
    return f"{cert.serial_number:x}"


def subject_text(cert: x509.Certificate) -> str:
    """The subject as an RFC 4514 string (for lists and the audit)."""
    return cert.subject.rfc4514_string()[:200]


def _name(common_name: str, organization: str, unit: str | None = None,
          user_id: str | None = None) -> x509.Name:
    attrs = [x509.NameAttribute(NameOID.COUNTRY_NAME, "CN"),
             x509.NameAttribute(NameOID.ORGANIZATION_NAME, organization)]
    if unit:
        attrs.append(x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, unit))
    if user_id:
        attrs.append(x509.NameAttribute(NameOID.USER_ID, user_id))
    attrs.append(x509.NameAttribute(NameOID.COMMON_NAME, common_name))
    return x509.Name(attrs)


def build_root(common_name: str, organization: str, now: datetime,
               valid_days: int = ROOT_VALID_DAYS) -> tuple[ec.EllipticCurvePrivateKey,
                                                           x509.Certificate]:
    """A new self-signed root: its key and certificate (CA, may sign leaves only)."""
    key = new_key()
    name = _name(common_name, organization)
    ski = x509.SubjectKeyIdentifier.from_public_key(key.public_key())
    cert = (
        x509.CertificateBuilder()
        .subject_name(name).issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(seconds=BACKDATE_S))
        .not_valid_after(now + timedelta(days=valid_days))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(x509.KeyUsage(
            digital_signature=False, content_commitment=False, key_encipherment=False,
            data_encipherment=False, key_agreement=False, key_cert_sign=True, crl_sign=True,
            encipher_only=False, decipher_only=False), critical=True)
        .add_extension(ski, critical=False)
        .sign(key, hashes.SHA256())
    )
    return key, cert


def public_key_from_csr(pem: str) -> ec.EllipticCurvePublicKey:
    """The P-256 public key of a certificate signing request whose own signature holds.

    Only the key is taken from a CSR: the subject is the centre's to decide.
    """
    data = (pem or "").strip().encode("utf-8")
    if not data or len(data) > MAX_CSR_BYTES:
        raise CertificateProblem(INVALID_CSR)
    try:
        csr = x509.load_pem_x509_csr(data)
        valid = csr.is_signature_valid
        key = csr.public_key()
    except (ValueError, TypeError, UnsupportedAlgorithm):
        raise CertificateProblem(INVALID_CSR) from None
    if not valid or not isinstance(key, ec.EllipticCurvePublicKey) \
            or not isinstance(key.curve, ec.SECP256R1):
        raise CertificateProblem(INVALID_CSR)
    return key


def issue_leaf(ca_key: ec.EllipticCurvePrivateKey, ca_cert: x509.Certificate,
               public_key: ec.EllipticCurvePublicKey, *, common_name: str, organization: str,
               unit: str, user_id: str, now: datetime, valid_days: int) -> x509.Certificate:
    """An operator certificate for `public_key`, signed by the root, valid `valid_days` days."""
    not_after = min(now + timedelta(days=valid_days), ca_cert.not_valid_after_utc)
    return (
        x509.CertificateBuilder()
        .subject_name(_name(common_name, organization, unit, user_id))
        .issuer_name(ca_cert.subject)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(seconds=BACKDATE_S))
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(
            digital_signature=True, content_commitment=False, key_encipherment=False,
            data_encipherment=False, key_agreement=False, key_cert_sign=False, crl_sign=False,
            encipher_only=False, decipher_only=False), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
                       critical=False)
        .sign(ca_key, hashes.SHA256())
    )


def parse_presented(text: str) -> x509.Certificate:
    """The one certificate of a PEM text a client presented; MALFORMED otherwise.

    Refused: over MAX_PEM_BYTES, anything but ASCII, text around the PEM block, a chain (more
    than one certificate), other PEM types, and DER that does not parse.
    """
    if not isinstance(text, str) or len(text) > MAX_PEM_BYTES or not text.isascii():
        raise CertificateProblem(MALFORMED)
    body = text.strip()
    if not (body.startswith(PEM_BEGIN) and body.endswith(PEM_END)) \
            or body.count("-----BEGIN ") != 1 or body.count("-----END ") != 1:
        raise CertificateProblem(MALFORMED)
    try:
        certs = x509.load_pem_x509_certificates(body.encode("ascii"))
    except (ValueError, TypeError):
        raise CertificateProblem(MALFORMED) from None
    if len(certs) != 1:
        raise CertificateProblem(MALFORMED)
    return certs[0]


def verify_leaf(root: x509.Certificate, leaf: x509.Certificate, now: datetime) -> None:
    """Check a presented certificate against the root: its signature, its validity period, its
    use; raises CertificateProblem (NOT_ISSUED, NOT_YET_VALID, EXPIRED, WRONG_USAGE, MALFORMED)."""
    try:
        if not isinstance(leaf.signature_hash_algorithm, hashes.SHA256):
            raise CertificateProblem(NOT_ISSUED)
        leaf.verify_directly_issued_by(root)
    except (ValueError, TypeError, InvalidSignature, UnsupportedAlgorithm):
        raise CertificateProblem(NOT_ISSUED) from None
    if now < leaf.not_valid_before_utc:
        raise CertificateProblem(NOT_YET_VALID)
    if now > leaf.not_valid_after_utc or now > root.not_valid_after_utc:
        raise CertificateProblem(EXPIRED)
    try:
        extensions = leaf.extensions
        basic = extensions.get_extension_for_class(x509.BasicConstraints).value
        usage = extensions.get_extension_for_class(x509.KeyUsage).value
        extended = extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    except x509.ExtensionNotFound:
        raise CertificateProblem(WRONG_USAGE) from None
    except ValueError:  # an extension present but undecodable
        raise CertificateProblem(MALFORMED) from None
    if basic.ca or not usage.digital_signature \
            or ExtendedKeyUsageOID.CLIENT_AUTH not in list(extended):
        raise CertificateProblem(WRONG_USAGE)
    if not isinstance(leaf.public_key(), ec.EllipticCurvePublicKey):
        raise CertificateProblem(WRONG_USAGE)


def sign(key: ec.EllipticCurvePrivateKey, data: bytes) -> bytes:
    """An ECDSA-SHA256 signature (DER) of `data`, as an operator's client makes it."""
    return key.sign(data, ec.ECDSA(hashes.SHA256()))


def signature_holds(leaf: x509.Certificate, data: bytes, signature: bytes) -> bool:
    """True when `signature` (DER ECDSA-SHA256) over `data` verifies with the leaf's key."""
    key = leaf.public_key()
    if not isinstance(key, ec.EllipticCurvePublicKey):
        return False
    try:
        key.verify(signature, data, ec.ECDSA(hashes.SHA256()))
    except (InvalidSignature, ValueError):
        return False
    return True


def make_csr(key: ec.EllipticCurvePrivateKey, common_name: str) -> str:
    """A PEM certificate signing request for `key` (what an operator's tool sends)."""
    csr = (x509.CertificateSigningRequestBuilder()
           .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)]))
           .sign(key, hashes.SHA256()))
    return csr.public_bytes(serialization.Encoding.PEM).decode("ascii")
