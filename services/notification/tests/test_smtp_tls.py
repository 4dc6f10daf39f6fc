"""The SMTP settings do what they say: STARTTLS upgrades before any mail is sent (a server that
requires it refuses plain mail permanently), and implicit TLS works from the first byte."""

from __future__ import annotations

import datetime as dt
import ipaddress
import ssl

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from nujoomy_notification.delivery.email import SmtpConfig, SmtpTransport
from nujoomy_notification.delivery.transport import DeliveryError, Outgoing
from nujoomy_notification.fakes.smtp_sink import SmtpSink


@pytest.fixture(scope="module")
def tls(tmp_path_factory) -> tuple[ssl.SSLContext, ssl.SSLContext]:
    """(server context, client context trusting only that server's self-signed certificate)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
        .sign(key, hashes.SHA256())
    )
    directory = tmp_path_factory.mktemp("smtp-tls")
    cert_pem, key_pem = directory / "cert.pem", directory / "key.pem"
    cert_pem.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_pem.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server.load_cert_chain(cert_pem, key_pem)
    client = ssl.create_default_context(cafile=str(cert_pem))
    return server, client


MAIL = Outgoing(message_id="msg_tls", recipient="a@example.com", subject="Hi", html="<p>x</p>", text="x")


async def _send(port: int, **config) -> str:
    transport = SmtpTransport(
        SmtpConfig("127.0.0.1", port, sender="Nujoomy <no-reply@nujoomy.dev>", **config)
    )
    try:
        return await transport.send(MAIL)
    finally:
        await transport.close()


async def test_starttls_upgrades_and_plain_mail_is_refused(tls):
    server, client = tls
    sink = await SmtpSink(starttls=server).start()
    try:
        with pytest.raises(DeliveryError) as refused:
            await _send(sink.port, start_tls=False)
        assert not refused.value.transient
        assert "530" in str(refused.value)
        await _send(sink.port, start_tls=True, tls_context=client)
        assert [m.rcpt_to for m in sink.messages] == [["a@example.com"]]
    finally:
        await sink.stop()


async def test_implicit_tls(tls):
    server, client = tls
    sink = await SmtpSink(implicit_tls=server).start()
    try:
        await _send(sink.port, use_tls=True, tls_context=client)
        assert len(sink.messages) == 1
    finally:
        await sink.stop()
