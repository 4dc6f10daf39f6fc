"""Development certificates: a local root CA, a WWDR-G4-like intermediate, a Pass Type ID certificate,
the APNs fake's server certificate and a Google service-account key.

All of them say DEVELOPMENT in their subject: they are for `make up` and tests only and are trusted by
nothing but our own fakes. Generated once per directory; the same code serves the dev-env hook and
the tests (which call it on a tmp dir).
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import json
import secrets
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID, ObjectIdentifier

# Apple's Pass Type ID extension: its presence marks a certificate as a pass signing certificate.
PASS_TYPE_OID = ObjectIdentifier("1.2.840.113635.100.6.1.16")
PASS_TYPE_ID = "pass.dev.nujoomy.loyalty"
TEAM_ID = "NUJOOMYDEV"
SA_EMAIL = "wallet-dev@nujoomy-dev.iam.gserviceaccount.com"


def _key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _name(*attrs: tuple[ObjectIdentifier, str]) -> x509.Name:
    return x509.Name([x509.NameAttribute(oid, value) for oid, value in attrs])


def _cert(
    subject: x509.Name,
    key: rsa.RSAPrivateKey,
    issuer: x509.Name,
    issuer_key: rsa.RSAPrivateKey,
    *,
    ca: bool,
    extensions: list[tuple[x509.ExtensionType, bool]] = (),  # type: ignore[assignment]
    valid_days: tuple[int, int] = (-1, 825),
) -> x509.Certificate:
    now = dt.datetime.now(dt.UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now + dt.timedelta(days=valid_days[0]))
        .not_valid_after(now + dt.timedelta(days=valid_days[1]))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
    )
    for ext, critical in extensions:
        builder = builder.add_extension(ext, critical=critical)
    return builder.sign(issuer_key, hashes.SHA256())


def _write_key(path: Path, key: rsa.RSAPrivateKey) -> None:
    path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    path.chmod(0o600)


def _pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


def _pass_type_cert(
    pass_type_id: str,
    team_id: str,
    key: rsa.RSAPrivateKey,
    issuer: x509.Name,
    issuer_key: rsa.RSAPrivateKey,
    *,
    valid_days: tuple[int, int] = (-1, 825),
) -> x509.Certificate:
    # Apple's layout: CN "Pass Type ID: <id>", UID = pass type id, OU = team id.
    subject = _name(
        (NameOID.USER_ID, pass_type_id),
        (NameOID.COMMON_NAME, f"Pass Type ID: {pass_type_id}"),
        (NameOID.ORGANIZATIONAL_UNIT_NAME, team_id),
        (NameOID.ORGANIZATION_NAME, "Nujoomy DEVELOPMENT certificate"),
    )
    return _cert(
        subject,
        key,
        issuer,
        issuer_key,
        ca=False,
        extensions=[
            (
                x509.UnrecognizedExtension(
                    PASS_TYPE_OID, b"\x0c" + bytes([len(pass_type_id)]) + pass_type_id.encode()
                ),
                False,
            ),
            (x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), False),
        ],
        valid_days=valid_days,
    )


def mint_pass_cert(
    directory: Path,
    pass_type_id: str,
    team_id: str,
    *,
    valid_days: tuple[int, int] = (-1, 365),
    issued_by_wwdr: bool = True,
) -> tuple[bytes, bytes]:
    """An extra DEVELOPMENT Pass Type ID certificate (what a tenant brings), issued by the dev WWDR
    (or, with issued_by_wwdr=False, by a stranger CA): (certificate PEM, unencrypted PKCS#8 key PEM)."""
    key = _key()
    if issued_by_wwdr:
        wwdr = x509.load_pem_x509_certificate((directory / "wwdr.pem").read_bytes())
        issuer, issuer_key = (
            wwdr.subject,
            serialization.load_pem_private_key((directory / "wwdr.key").read_bytes(), None),
        )
    else:
        issuer, issuer_key = _name((NameOID.COMMON_NAME, "Nujoomy DEVELOPMENT stranger CA")), _key()
    cert = _pass_type_cert(pass_type_id, team_id, key, issuer, issuer_key, valid_days=valid_days)  # type: ignore[arg-type]
    key_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return _pem(cert), key_pem


def encryption_key(directory: Path) -> str:
    """The dev certificate-encryption key (base64, 32 bytes), created on first use."""
    import base64

    path = directory / "certificate-encryption.key"
    if not path.exists():
        path.write_text(base64.urlsafe_b64encode(secrets.token_bytes(32)).decode())
        path.chmod(0o600)
    return path.read_text().strip()


def generate(directory: Path, pass_type_id: str = PASS_TYPE_ID, team_id: str = TEAM_ID) -> Path:
    """Create the material under `directory` unless it is already there; return the directory."""
    directory.mkdir(parents=True, exist_ok=True)
    if (directory / "google-service-account.json").exists():
        return directory
    ca_key, wwdr_key, pass_key, apns_key, sa_key = _key(), _key(), _key(), _key(), _key()
    ca_name = _name(
        (NameOID.COMMON_NAME, "Nujoomy DEVELOPMENT Root CA"), (NameOID.ORGANIZATION_NAME, "Nujoomy dev")
    )
    ca = _cert(ca_name, ca_key, ca_name, ca_key, ca=True)
    wwdr_name = _name(
        (NameOID.COMMON_NAME, "Nujoomy DEVELOPMENT WWDR-like Intermediate (G4 stand-in)"),
        (NameOID.ORGANIZATIONAL_UNIT_NAME, "G4"),
        (NameOID.ORGANIZATION_NAME, "Nujoomy dev"),
    )
    wwdr = _cert(wwdr_name, wwdr_key, ca_name, ca_key, ca=True)
    pass_cert = _pass_type_cert(pass_type_id, team_id, pass_key, wwdr_name, wwdr_key)
    apns_cert = _cert(
        _name((NameOID.COMMON_NAME, "Nujoomy DEVELOPMENT APNs fake")),
        apns_key,
        ca_name,
        ca_key,
        ca=False,
        extensions=[
            (
                x509.SubjectAlternativeName(
                    [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
                ),
                False,
            ),
            (x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), False),
        ],
    )
    (directory / "ca.pem").write_bytes(_pem(ca))
    (directory / "wwdr.pem").write_bytes(_pem(wwdr))
    _write_key(directory / "wwdr.key", wwdr_key)  # kept so tests can mint tenant certificates
    (directory / "pass.pem").write_bytes(_pem(pass_cert))
    _write_key(directory / "pass.key", pass_key)
    (directory / "apns-fake.pem").write_bytes(_pem(apns_cert) + _pem(ca))
    _write_key(directory / "apns-fake.key", apns_key)
    key_id = secrets.token_hex(20)
    account = {
        "type": "service_account",
        "project_id": "nujoomy-dev",
        "private_key_id": key_id,
        "private_key": sa_key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        ).decode(),
        "client_email": SA_EMAIL,
        "client_id": str(secrets.randbelow(10**20)),
        "auth_uri": "https://accounts.google.com/o/oauth2/auth",
        "token_uri": "https://oauth2.googleapis.com/token",
    }
    path = directory / "google-service-account.json"
    path.write_text(json.dumps(account, indent=2))
    path.chmod(0o600)
    return directory


def wallet_env(directory: Path, apns_url: str, google_url: str, google_token_url: str) -> dict[str, str]:
    """The NUJOOMY_WALLET_PASS_* settings that point the service at this material and the fakes
    (the Google fake also serves the callbacks' root signing keys, at Google's path)."""
    from urllib.parse import urlsplit

    p = "NUJOOMY_WALLET_PASS_"
    fake_google = urlsplit(google_token_url)
    return {
        f"{p}PASS_TYPE_ID": PASS_TYPE_ID,
        f"{p}TEAM_ID": TEAM_ID,
        f"{p}PASS_CERT": str(directory / "pass.pem"),
        f"{p}PASS_KEY": str(directory / "pass.key"),
        f"{p}WWDR_CERT": str(directory / "wwdr.pem"),
        f"{p}APNS_CA_FILE": str(directory / "ca.pem"),
        f"{p}APNS_BASE_URL": apns_url,
        f"{p}APNS_BASE_URL_TEST": apns_url,
        f"{p}GOOGLE_BASE_URL": google_url,
        f"{p}GOOGLE_BASE_URL_TEST": google_url,
        f"{p}GOOGLE_TOKEN_URL": google_token_url,
        f"{p}GOOGLE_TOKEN_URL_TEST": google_token_url,
        f"{p}GOOGLE_SERVICE_ACCOUNT": str(directory / "google-service-account.json"),
        f"{p}CERTIFICATE_ENCRYPTION_KEY": encryption_key(directory),
        f"{p}GOOGLE_CALLBACK_KEYS_URL": f"{fake_google.scheme}://{fake_google.netloc}/gp/m/issuer/keys",
    }
