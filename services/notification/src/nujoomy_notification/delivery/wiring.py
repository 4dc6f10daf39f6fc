"""Building the transports and the sender from settings (live relay, and the sandbox for test mode)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from nujoomy_notification.delivery.email import SmtpConfig, SmtpTransport
from nujoomy_notification.delivery.sender import Sender, Transports
from nujoomy_notification.delivery.sms import GenericJsonSms
from nujoomy_notification.events.planning import Planner
from nujoomy_notification.settings import Settings


def build_transports(settings: Settings) -> Transports:
    transports: Transports = {}
    if settings.smtp_host:
        transports[("live", "email")] = SmtpTransport(
            SmtpConfig(
                settings.smtp_host,
                settings.smtp_port,
                sender=settings.smtp_from,
                username=settings.smtp_username,
                password=settings.smtp_password,
                use_tls=settings.smtp_tls,
                start_tls=settings.smtp_starttls,
                connections=settings.smtp_connections,
            )
        )
    if settings.sandbox_smtp_host:
        # The dev sink speaks plain SMTP on loopback; nothing here ever leaves the machine.
        transports[("test", "email")] = SmtpTransport(
            SmtpConfig(
                settings.sandbox_smtp_host,
                settings.sandbox_smtp_port,
                sender=settings.smtp_from,
                connections=settings.smtp_connections,
            )
        )
    if settings.sms_url:
        transports[("live", "sms")] = GenericJsonSms(
            settings.sms_url, settings.sms_secret, settings.sms_sender
        )
    if settings.sandbox_sms_url:
        transports[("test", "sms")] = GenericJsonSms(
            settings.sandbox_sms_url, settings.sms_secret, settings.sms_sender
        )
    return transports


def build_sender(settings: Settings, sessions: async_sessionmaker[AsyncSession]) -> Sender:
    return Sender(
        sessions,
        build_transports(settings),
        Planner(settings),
        retry_delays_s=settings.retry_delays(),
        batch=settings.sender_batch,
        lease_s=settings.lease_s,
    )
