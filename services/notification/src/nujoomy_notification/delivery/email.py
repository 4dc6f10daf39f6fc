"""Email over SMTP with aiosmtplib: a small pool of kept-open connections, STARTTLS or implicit TLS.

Kept-open connections matter for throughput: a fresh connection costs a TCP handshake, the banner,
EHLO and (with STARTTLS) a TLS handshake before the first byte of mail.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
from email.header import Header
from email.message import Message
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.utils import formataddr, formatdate, make_msgid

import aiosmtplib

from nujoomy_notification.delivery.transport import DeliveryError, Outgoing


class SmtpConfig:
    def __init__(
        self,
        host: str,
        port: int,
        *,
        sender: str,
        username: str = "",
        password: str = "",
        use_tls: bool = False,
        start_tls: bool = False,
        connections: int = 8,
        timeout: float = 15.0,
        tls_context: ssl.SSLContext | None = None,
    ) -> None:
        self.host, self.port, self.sender = host, port, sender
        self.username, self.password = username, password
        self.use_tls, self.start_tls = use_tls, start_tls
        self.connections, self.timeout, self.tls_context = connections, timeout, tls_context


def build_email(message: Outgoing, sender: str) -> tuple[Message, str]:
    """multipart/alternative (text, then HTML: RFC 2046 §5.1.4 puts the preferred part last).

    Built with the compat32 MIME classes: the modern EmailMessage API re-parses every header and
    costs ~3 ms a message, which at hundreds of receipts a second is most of a core."""
    domain = sender.rpartition("@")[2].rstrip(">") or "nujoomy.dev"
    msgid = make_msgid(idstring=message.message_id, domain=domain)
    text = MIMEText(message.text, "plain", "utf-8")
    if message.html:
        email: Message = MIMEMultipart("alternative")
        email.attach(text)
        email.attach(MIMEText(message.html, "html", "utf-8"))
    else:
        email = text
    email["From"] = from_header(sender, message.from_name)
    email["To"] = message.recipient
    email["Subject"] = (
        str(Header(message.subject, "utf-8")) if not message.subject.isascii() else message.subject
    )
    email["Message-ID"] = msgid
    email["Date"] = formatdate(localtime=False)
    if message.unsubscribe_url:
        # RFC 2369 + RFC 8058: mail clients show an unsubscribe button that POSTs to the link.
        email["List-Unsubscribe"] = f"<{message.unsubscribe_url}>"
        email["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    return email, msgid


class SmtpTransport:
    def __init__(self, config: SmtpConfig) -> None:
        self.config = config
        self._idle: asyncio.Queue[aiosmtplib.SMTP] = asyncio.Queue()
        for _ in range(max(1, config.connections)):
            self._idle.put_nowait(self._client())

    def _client(self) -> aiosmtplib.SMTP:
        c = self.config
        return aiosmtplib.SMTP(
            hostname=c.host,
            port=c.port,
            use_tls=c.use_tls,
            start_tls=c.start_tls if not c.use_tls else False,
            username=c.username or None,
            password=c.password or None,
            timeout=c.timeout,
            tls_context=c.tls_context,
        )

    async def send(self, message: Outgoing) -> str:
        email, msgid = build_email(message, self.config.sender)
        client = await self._idle.get()
        try:
            if not client.is_connected:
                await client.connect()
            errors, _ = await client.sendmail(
                _address(self.config.sender), [message.recipient], email.as_bytes()
            )
            if errors:
                raise DeliveryError(f"recipient refused: {errors}", transient=False)
            return msgid
        except aiosmtplib.SMTPResponseException as exc:
            await _drop(client)
            # RFC 5321 §4.2.1: 4yz is a transient negative completion, 5yz is permanent.
            raise DeliveryError(f"SMTP {exc.code} {exc.message}", transient=exc.code < 500) from exc
        except aiosmtplib.SMTPRecipientsRefused as exc:
            await _drop(client)
            transient = all(e.code < 500 for e in exc.recipients)
            raise DeliveryError(f"recipient refused: {exc}", transient=transient) from exc
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
            await _drop(client)
            raise DeliveryError(f"SMTP unavailable: {exc!r}", transient=True) from exc
        finally:
            self._idle.put_nowait(client)

    async def close(self) -> None:
        while not self._idle.empty():
            await _drop(self._idle.get_nowait())


def from_header(sender: str, business: str) -> str:
    """The business's name on the platform's address: customers see who the mail is from, while the
    address (and so SPF/DKIM alignment) stays the platform's. Whitespace is collapsed so a name can
    never break the header; a non-ASCII name is RFC 2047-encoded."""
    name = " ".join(business.split())
    return formataddr((name, _address(sender)), charset="utf-8") if name else sender


def _address(sender: str) -> str:
    """The envelope sender: the address inside "Name <address>"."""
    return sender.rpartition("<")[2].rstrip(">").strip() or sender


async def _drop(client: aiosmtplib.SMTP) -> None:
    if client.is_connected:
        with contextlib.suppress(aiosmtplib.SMTPException, OSError, TimeoutError):
            await client.quit()
        client.close()
