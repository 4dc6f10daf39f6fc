"""The notification service's tables (SQLAlchemy Core). Every business row carries tenant_id and mode."""

from __future__ import annotations

from nujoomy_messaging.tables import inbox_table, outbox_table
from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB, UUID

metadata = MetaData()

outbox = outbox_table(metadata)
inbox = inbox_table(metadata)


def _scope() -> list[Column[object]]:
    return [
        Column("tenant_id", UUID(as_uuid=True), primary_key=True),
        Column("mode", String(4), primary_key=True),
    ]


# Projection of ledger.member.* — only what a message needs.
contacts = Table(
    "contacts",
    metadata,
    *_scope(),
    Column("member_id", UUID(as_uuid=True), primary_key=True),
    Column("name", Text),
    Column("email", Text),
    Column("phone", Text),
    Column("locale", String(16)),
    Column("consent_email", Boolean, nullable=False, server_default=text("false")),
    Column("consent_sms", Boolean, nullable=False, server_default=text("false")),
    # Last known balance (from ledger.transaction.posted), for messages whose event does not carry it.
    Column("balance", BigInteger),
    Column("balance_at", DateTime(timezone=True)),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)

# Projection of tenant.tenant.* and tenant.program.updated (rewards for "reward now affordable").
tenants = Table(
    "tenants",
    metadata,
    *_scope(),
    Column("name", Text, nullable=False, server_default=""),
    Column("timezone", Text, nullable=False, server_default="UTC"),
    Column("locale", String(16), nullable=False, server_default="en"),
    Column("balance_label", Text, nullable=False, server_default="Points"),
    Column("program_version", BigInteger, nullable=False, server_default=text("0")),
    Column("rewards", JSONB, nullable=False, server_default="[]"),
    # domain.branding.Brand: the program's colours and logo asset (from tenant.program.updated).
    Column("brand", JSONB, nullable=False, server_default="{}"),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)

templates = Table(
    "templates",
    metadata,
    *_scope(),
    Column("kind", String(32), primary_key=True),
    Column("locale", String(8), primary_key=True),
    Column("channel", String(8), primary_key=True),
    Column("subject", Text, nullable=False, server_default=""),
    Column("html", Text, nullable=False, server_default=""),
    Column("text", Text, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)

messages = Table(
    "messages",
    metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("tenant_id", UUID(as_uuid=True), nullable=False),
    Column("mode", String(4), nullable=False),
    Column("member_id", UUID(as_uuid=True), nullable=False),
    Column("event_id", UUID(as_uuid=True), nullable=False),
    Column("kind", String(32), nullable=False),
    Column("channel", String(8), nullable=False),
    Column("locale", String(8), nullable=False),
    Column("recipient", Text, nullable=False, server_default=""),
    # queued | sent | failed | suppressed
    Column("status", String(12), nullable=False),
    # why suppressed (no_consent, unsubscribed, daily_cap, ...), deferred (quiet_hours) or failed
    Column("reason", String(32)),
    Column("subject", Text, nullable=False, server_default=""),
    Column("html", Text, nullable=False, server_default=""),
    Column("text", Text, nullable=False, server_default=""),
    # The business the message is from: the e-mail's From display name (the address is the platform's).
    Column("from_name", Text, nullable=False, server_default=""),
    Column("attempts", Integer, nullable=False, server_default=text("0")),
    Column("send_after", DateTime(timezone=True)),
    Column("last_error", Text),
    Column("provider_id", Text),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("sent_at", DateTime(timezone=True)),
    # Belt and braces beside the inbox: one message per (event, kind, channel) even if replayed.
    UniqueConstraint("event_id", "kind", "channel", name="messages_event_kind_channel"),
    Index("messages_member", "tenant_id", "mode", "member_id", "id"),
    Index("messages_due", "send_after", postgresql_where=text("status = 'queued'")),
    Index("messages_failed", "tenant_id", "mode", "id", postgresql_where=text("status = 'failed'")),
)

# Messages let through per member per tenant-local day (the daily cap).
daily_counts = Table(
    "daily_counts",
    metadata,
    *_scope(),
    Column("member_id", UUID(as_uuid=True), primary_key=True),
    Column("day", Date, primary_key=True),
    Column("count", Integer, nullable=False),
)

unsubscribes = Table(
    "unsubscribes",
    metadata,
    *_scope(),
    Column("member_id", UUID(as_uuid=True), primary_key=True),
    Column("channel", String(8), primary_key=True),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)
