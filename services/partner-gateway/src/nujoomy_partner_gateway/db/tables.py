"""The partner-gateway service's tables (SQLAlchemy Core). Every business row carries tenant_id and mode."""

from __future__ import annotations

from nujoomy_messaging.tables import inbox_table, outbox_table
from sqlalchemy import (
    Boolean,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy.dialects.postgresql import ARRAY, UUID

metadata = MetaData()

outbox = outbox_table(metadata)
inbox = inbox_table(metadata)


def _tenant_columns() -> list[Column]:  # type: ignore[type-arg]
    return [
        Column("tenant_id", UUID(as_uuid=True), nullable=False),
        Column("mode", String(4), nullable=False),
    ]


api_keys = Table(
    "api_keys",
    metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    *_tenant_columns(),
    Column("name", Text, nullable=False),
    Column("sha256", String(64), nullable=False, unique=True),
    Column("redacted", Text, nullable=False),
    Column("scopes", ARRAY(Text), nullable=False),
    Column("rate", Float),
    Column("burst", Integer),
    Column("max_in_flight", Integer),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("last_used_at", DateTime(timezone=True)),
    Column("rolled_from", UUID(as_uuid=True)),
    # Set on the old key when it is rolled: it keeps working until then.
    Column("expires_at", DateTime(timezone=True)),
    Column("revoked_at", DateTime(timezone=True)),
    Index("api_keys_tenant", "tenant_id", "mode"),
)

# Operator settings for a tenant's plane (`nujoomy keys tenant-limits`): the aggregate rate over all of
# its keys and how many keys it may hold. A missing row or column means the defaults.
tenant_limits = Table(
    "tenant_limits",
    metadata,
    *_tenant_columns(),
    Column("rate", Float),
    Column("burst", Integer),
    Column("max_keys", Integer),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    PrimaryKeyConstraint("tenant_id", "mode"),
)

webhook_endpoints = Table(
    "webhook_endpoints",
    metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    *_tenant_columns(),
    Column("url", Text, nullable=False),
    Column("description", Text),
    Column("event_types", ARRAY(Text), nullable=False),
    Column("enabled", Boolean, nullable=False, server_default="true"),
    Column("disabled_reason", Text),
    Column("secret", Text, nullable=False),
    # During a rotation the old secret also signs, until it expires.
    Column("previous_secret", Text),
    Column("previous_secret_expires_at", DateTime(timezone=True)),
    Column("failing_since", DateTime(timezone=True)),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("deleted_at", DateTime(timezone=True)),
    Index("webhook_endpoints_tenant", "tenant_id", "mode"),
)

webhook_events = Table(
    "webhook_events",
    metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    *_tenant_columns(),
    Column("type", Text, nullable=False),
    Column("source_event_id", UUID(as_uuid=True), unique=True),
    # The exact JSON bytes every delivery sends, so every attempt signs the same body.
    Column("body", LargeBinary, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Index("webhook_events_tenant", "tenant_id", "mode", "id"),
)

webhook_deliveries = Table(
    "webhook_deliveries",
    metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    *_tenant_columns(),
    Column("endpoint_id", UUID(as_uuid=True), ForeignKey("webhook_endpoints.id"), nullable=False),
    Column("event_id", UUID(as_uuid=True), ForeignKey("webhook_events.id"), nullable=False),
    Column("status", String(16), nullable=False, server_default="pending"),
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("next_attempt_at", DateTime(timezone=True)),
    Column("last_status_code", Integer),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("finished_at", DateTime(timezone=True)),
    UniqueConstraint("endpoint_id", "event_id", name="webhook_deliveries_once"),
    Index("webhook_deliveries_due", "next_attempt_at", postgresql_where="status = 'pending'"),
    Index("webhook_deliveries_endpoint", "endpoint_id", "created_at"),
)

webhook_attempts = Table(
    "webhook_attempts",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("delivery_id", UUID(as_uuid=True), ForeignKey("webhook_deliveries.id"), nullable=False),
    *_tenant_columns(),
    Column("attempted_at", DateTime(timezone=True), nullable=False),
    Column("status_code", Integer),
    Column("latency_ms", Float, nullable=False),
    Column("response_excerpt", Text),
    Column("error", Text),
    Index("webhook_attempts_delivery", "delivery_id"),
)
