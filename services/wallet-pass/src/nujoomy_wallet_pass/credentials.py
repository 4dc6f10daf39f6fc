"""The Pass Type ID certificate and key (PEM or .p12, optionally encrypted) and the WWDR intermediate."""

from __future__ import annotations

import hashlib
import ssl
import tempfile
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID

from nujoomy_wallet_pass.settings import Settings


class CredentialsError(RuntimeError):
    """The configured pass certificate cannot be used."""


def _read(value: str) -> bytes:
    if not value:
        return b""
    if value.lstrip().startswith("-----BEGIN"):
        return value.encode()
    return Path(value).read_bytes()


@dataclass(frozen=True)
class PassCredentials:
    certificate: x509.Certificate
    key: PrivateKeyTypes
    wwdr: x509.Certificate
    pass_type_id: str
    team_id: str

    @property
    def fingerprint(self) -> str:
        return hashlib.sha256(self.certificate.public_bytes(serialization.Encoding.DER)).hexdigest()

    def ssl_context(self, ca_file: str = "") -> ssl.SSLContext:
        """A TLS client context presenting this certificate (APNs certificate auth)."""
        ctx = ssl.create_default_context()
        if ca_file:
            ctx.load_verify_locations(cafile=ca_file)
        ctx.set_alpn_protocols(["h2"])
        # load_cert_chain wants files; the key never leaves a 0600 temp file that is removed at once.
        with tempfile.TemporaryDirectory() as tmp:
            cert_path, key_path = Path(tmp) / "c.pem", Path(tmp) / "k.pem"
            # Leaf then WWDR: the server can only verify the leaf if we send the intermediate too.
            cert_path.write_bytes(
                self.certificate.public_bytes(serialization.Encoding.PEM)
                + self.wwdr.public_bytes(serialization.Encoding.PEM)
            )
            key_path.touch(mode=0o600)
            key_path.write_bytes(
                self.key.private_bytes(  # type: ignore[union-attr]
                    serialization.Encoding.PEM,
                    serialization.PrivateFormat.PKCS8,
                    serialization.NoEncryption(),
                )
            )
            ctx.load_cert_chain(cert_path, key_path)
        return ctx


def _subject(cert: x509.Certificate, oid: x509.ObjectIdentifier) -> str:
    values = cert.subject.get_attributes_for_oid(oid)
    return str(values[0].value) if values else ""


def load_credentials(settings: Settings) -> PassCredentials:
    password = settings.pass_key_password.encode() or None
    raw_cert = _read(settings.pass_cert)
    if not raw_cert:
        raise CredentialsError("NUJOOMY_WALLET_PASS_PASS_CERT is not set")
    if settings.pass_cert.endswith((".p12", ".pfx")):
        key, cert, _ = pkcs12.load_key_and_certificates(raw_cert, password)
        if key is None or cert is None:
            raise CredentialsError("the .p12 holds no key or no certificate")
    else:
        cert = x509.load_pem_x509_certificate(raw_cert)
        key = serialization.load_pem_private_key(_read(settings.pass_key), password)
    wwdr = x509.load_pem_x509_certificate(_read(settings.wwdr_cert))
    uid = _subject(cert, NameOID.USER_ID)
    if uid and uid != settings.pass_type_id:
        # Wallet refuses a pass whose passTypeIdentifier differs from the signing certificate's.
        raise CredentialsError(f"certificate is for {uid}, settings say {settings.pass_type_id}")
    return PassCredentials(
        certificate=cert,
        key=key,
        wwdr=wwdr,
        pass_type_id=uid or settings.pass_type_id,
        team_id=_subject(cert, NameOID.ORGANIZATIONAL_UNIT_NAME) or settings.team_id,
    )
