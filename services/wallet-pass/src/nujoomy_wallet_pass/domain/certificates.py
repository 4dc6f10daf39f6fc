"""A tenant's own Pass Type ID certificate: reading an upload (PEM or .p12, optionally encrypted),
the checks Wallet and APNs would otherwise fail on later, and the key's encryption at rest.

Checks, each with a stable problem code (422): readable, key belongs to the certificate, a Pass Type
ID certificate (subject UID = pass type id, OU = team id, as Apple issues them), valid now, issued by
the configured WWDR intermediate. No I/O here.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from datetime import datetime

from cryptography import x509
from cryptography.exceptions import InvalidSignature, InvalidTag
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID
from nujoomy_kit.problems import DomainError, NotFound

SigningKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey
_BLOB_VERSION = b"\x01"


class CertificateProblem(DomainError):
    status = 422
    code = "certificate_invalid"
    title = "The certificate cannot be used"


class CertificateUnreadable(CertificateProblem):
    code = "certificate_unreadable"
    title = "The certificate or key cannot be read (format or password)"


class CertificateKeyMismatch(CertificateProblem):
    code = "certificate_key_mismatch"
    title = "The private key does not belong to the certificate"


class NotPassTypeCertificate(CertificateProblem):
    code = "certificate_not_pass_type"
    title = "Not a Pass Type ID certificate (subject UID pass.… and OU team id required)"


class CertificateExpired(CertificateProblem):
    code = "certificate_expired"
    title = "The certificate is expired or not yet valid"


class CertificateUntrusted(CertificateProblem):
    code = "certificate_untrusted"
    title = "The certificate is not issued by the Apple WWDR intermediate"


class CertificatesDisabled(DomainError):
    code = "tenant_certificates_disabled"
    status = 503
    title = "Tenant certificates need NUJOOMY_WALLET_PASS_CERTIFICATE_ENCRYPTION_KEY"


class CertificateNotFound(NotFound):
    code = "certificate_not_found"
    title = "No certificate of this tenant for this mode"


@dataclass(frozen=True)
class CheckedCertificate:
    certificate: x509.Certificate
    key: SigningKey
    pass_type_id: str
    team_id: str
    fingerprint: str
    not_after: datetime


def fingerprint(certificate: x509.Certificate) -> str:
    """SHA-256 of the DER certificate, hex (what Keychain Access and `openssl x509 -fingerprint` show)."""
    return hashlib.sha256(certificate.public_bytes(serialization.Encoding.DER)).hexdigest()


def read_upload(
    *, certificate: bytes | None, key: bytes | None, p12: bytes | None, password: str
) -> tuple[x509.Certificate, SigningKey]:
    """The certificate and key from PEM text (key optionally encrypted) or a .p12 bundle."""
    secret = password.encode() or None
    try:
        if p12:
            found_key, found_cert, _ = pkcs12.load_key_and_certificates(p12, secret)
            if found_key is None or found_cert is None:
                raise CertificateUnreadable("the .p12 holds no key or no certificate")
            return found_cert, _signing_key(found_key)
        if not certificate or not key:
            raise CertificateUnreadable("give certificate and private_key (PEM), or p12")
        cert = x509.load_pem_x509_certificate(certificate)
        return cert, _signing_key(serialization.load_pem_private_key(key, secret))
    except (ValueError, TypeError) as exc:
        # cryptography says ValueError for bad data or a wrong password, TypeError for a missing one.
        raise CertificateUnreadable(str(exc)) from exc


def _signing_key(key: object) -> SigningKey:
    if not isinstance(key, (rsa.RSAPrivateKey, ec.EllipticCurvePrivateKey)):
        raise CertificateUnreadable("the key must be RSA or EC")
    return key


def subject_field(cert: x509.Certificate, oid: x509.ObjectIdentifier) -> str:
    values = cert.subject.get_attributes_for_oid(oid)
    return str(values[0].value) if values else ""


def check(
    cert: x509.Certificate, key: SigningKey, wwdr: x509.Certificate, now: datetime
) -> CheckedCertificate:
    spki = serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    if cert.public_key().public_bytes(*spki) != key.public_key().public_bytes(*spki):
        raise CertificateKeyMismatch
    pass_type_id = subject_field(cert, NameOID.USER_ID)
    team_id = subject_field(cert, NameOID.ORGANIZATIONAL_UNIT_NAME)
    if not pass_type_id.startswith("pass.") or not team_id:
        raise NotPassTypeCertificate(f"subject is {cert.subject.rfc4514_string()}")
    if cert.not_valid_after_utc <= now:
        raise CertificateExpired(f"expired {cert.not_valid_after_utc.isoformat()}")
    if cert.not_valid_before_utc > now:
        raise CertificateExpired(f"valid only from {cert.not_valid_before_utc.isoformat()}")
    try:
        cert.verify_directly_issued_by(wwdr)
    except (ValueError, TypeError, InvalidSignature) as exc:
        raise CertificateUntrusted(f"issuer is {cert.issuer.rfc4514_string()}") from exc
    return CheckedCertificate(cert, key, pass_type_id, team_id, fingerprint(cert), cert.not_valid_after_utc)


def master_key(setting: str) -> bytes | None:
    """The 32-byte AES key from its base64 setting; None when unset (tenant certificates off)."""
    if not setting:
        return None
    import base64

    raw = base64.urlsafe_b64decode(setting.strip().replace("+", "-").replace("/", "_") + "==")
    if len(raw) != 32:
        raise ValueError("certificate_encryption_key must be 32 bytes, base64")
    return raw


def _aad(tenant: str, mode: str, print_: str) -> bytes:
    # Bound to its row: a ciphertext copied to another tenant's (or mode's) row does not decrypt.
    return f"{tenant}:{mode}:{print_}".encode()


def seal_key(master: bytes, key: SigningKey, *, tenant: str, mode: str, print_: str) -> bytes:
    der = key.private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    nonce = os.urandom(12)
    return _BLOB_VERSION + nonce + AESGCM(master).encrypt(nonce, der, _aad(tenant, mode, print_))


def open_key(master: bytes, blob: bytes, *, tenant: str, mode: str, print_: str) -> SigningKey:
    if blob[:1] != _BLOB_VERSION:
        raise ValueError("unknown key blob version")
    try:
        der = AESGCM(master).decrypt(blob[1:13], blob[13:], _aad(tenant, mode, print_))
    except InvalidTag as exc:
        raise ValueError("the key does not decrypt with this encryption key") from exc
    return _signing_key(serialization.load_der_private_key(der, None))
