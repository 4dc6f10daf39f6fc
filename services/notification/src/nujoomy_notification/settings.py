"""The notification service's settings, from `NUJOOMY_*` and `NUJOOMY_NOTIFICATION_*` variables."""

from __future__ import annotations

from collections.abc import Mapping

from nujoomy_kit.settings import ServiceSettings, load_settings

from nujoomy_notification.domain.policy import Rules
from nujoomy_notification.domain.rendering import RenderBudget

SERVICE = "notification"


class Settings(ServiceSettings, kw_only=True):
    database_url: str = "postgresql://postgres@127.0.0.1:5432/nujoomy_notification"
    port: int = 8004
    # Signs one-click unsubscribe links; rotate it and old links stop working.
    unsubscribe_secret: str = "dev-unsubscribe-secret-change-me"
    # Base of the unsubscribe links in messages; empty = the platform's public URL (`public_url`), where
    # the gateway serves /unsubscribe/{token} (it passes the page through to this service).
    unsubscribe_base_url: str = ""
    # Live email: the real relay. `smtp_tls` = implicit TLS (465); `smtp_starttls` upgrades on 587.
    smtp_host: str = ""
    smtp_port: int = 587
    smtp_username: str = ""
    smtp_password: str = ""
    smtp_tls: bool = False
    smtp_starttls: bool = True
    smtp_from: str = "Nujoomy <no-reply@nujoomy.dev>"
    smtp_connections: int = 8
    # Test-mode email and SMS go only here (the dev sink); empty = test-mode messages are suppressed.
    sandbox_smtp_host: str = ""
    sandbox_smtp_port: int = 1025
    # SMS through the generic JSON provider (HMAC-signed requests).
    sms_url: str = ""
    sms_secret: str = ""
    sms_sender: str = "Nujoomy"
    sandbox_sms_url: str = ""
    # Consent rules.
    daily_cap: int = 5
    # An event for a member not yet projected is retried for this long (its enrolment may be in
    # flight), then recorded as no_contact.
    contact_grace_s: float = 60.0
    quiet_start: int = 21
    quiet_end: int = 8
    # Delivery: retry delays after a transient failure; after the last one the message is failed.
    # Comma-separated seconds, so one environment variable can carry the list.
    retry_delays_s: str = "5,30,120,600,1800"
    # Consuming events: redelivery delays when a handler fails (e.g. wallet-pass is down), then the DLQ.
    event_retry_delays_s: str = "1,5,30,120,600"
    # Batching: wallet-link calls at once for a batch's enrolments. consumer_batch = 1: events handled
    # at once, each holding a pooled connection (keep db_pool_size near it).
    consumer_concurrency: int = 16
    # Events applied per transaction (one inbox insert, one messages insert, one commit); 1 = one event
    # per transaction, as before batching.
    consumer_batch: int = 100
    # How long the consumer waits for a batch to fill before applying what it has (seconds).
    consumer_linger_s: float = 0.02
    # What rendering one message may take (tenant templates are untrusted): loop iterations and
    # calls, and seconds of one worker thread. Past either, the message is suppressed
    # (template_budget) and a template is refused when saved (template_budget_exceeded).
    template_step_budget: int = 10_000
    template_time_budget_s: float = 0.5
    sender_batch: int = 200
    sender_poll_s: float = 0.2
    lease_s: float = 120.0  # a claimed message is retried by another sender if not settled by then

    def secrets(self) -> dict[str, str]:
        found = {**super().secrets(), "unsubscribe_secret": self.unsubscribe_secret}
        # A provider's credential is needed only when that provider is configured.
        if self.smtp_username:
            found["smtp_password"] = self.smtp_password
        if self.sms_url:
            found["sms_secret"] = self.sms_secret
        return found

    def retry_delays(self) -> list[float]:
        return _seconds(self.retry_delays_s)

    def event_retry_delays(self) -> list[float]:
        return _seconds(self.event_retry_delays_s)

    def render_budget(self) -> RenderBudget:
        return RenderBudget(steps=self.template_step_budget, seconds=self.template_time_budget_s)

    def rules(self) -> Rules:
        return Rules(
            daily_cap=self.daily_cap,
            quiet_start=self.quiet_start,
            quiet_end=self.quiet_end,
            test_sink=bool(self.sandbox_smtp_host or self.sandbox_sms_url),
        )


def _seconds(text: str) -> list[float]:
    return [float(part) for part in text.split(",") if part.strip()]


def load(env: Mapping[str, str] | None = None, **overrides: object) -> Settings:
    return load_settings(Settings, SERVICE, env, **overrides)
