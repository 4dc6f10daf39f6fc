"""The tenant service's tables (SQLAlchemy Core).

A tenant row *is* the tenant; every other business row carries tenant_id. Tenant configuration holds
for both modes (live and test), so these rows have no mode column; the events derived from them are
published once per mode. Assets are content-addressed public bytes (the same logo uploaded twice is
stored once), so they carry no tenant either.
"""

from __future__ import annotations

from nujoomy_messaging.tables import inbox_table, outbox_table
from sqlalchemy import (
    Boolean,
    Column,
    DateTime,
    ForeignKey,
    Integer,
    LargeBinary,
    MetaData,
    Table,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy.dialects.postgresql import JSONB, UUID

metadata = MetaData()

outbox = outbox_table(metadata)
inbox = inbox_table(metadata)


def _created() -> Column[object]:
    return Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now())


tenants = Table(
    "tenants",
    metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("slug", Text, nullable=False, unique=True),
    Column("name", Text, nullable=False),
    Column("locale", Text, nullable=False),
    Column("timezone", Text, nullable=False),
    Column("currency", Text, nullable=False),
    Column("status", Text, nullable=False, server_default="active"),
    Column("contact_email", Text),
    Column("contact_phone", Text),
    Column("country", Text),  # ISO 3166-1 alpha-2: the default region for customers' phone numbers
    Column("website", Text),
    _created(),
)

programs = Table(
    "programs",
    metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("tenant_id", UUID(as_uuid=True), ForeignKey("tenants.id"), nullable=False, unique=True),
    Column("version", Integer, nullable=False, server_default="1"),
    Column("type", Text, nullable=False),
    Column("points_per_unit", Integer, nullable=False),
    Column("minimum_spend", Text),
    Column("max_per_transaction", Integer),  # NULL: the ledger's default for the program type
    Column("expiry_kind", Text, nullable=False, server_default="never"),
    Column("expiry_months", Integer, nullable=False, server_default="0"),
    Column("balance_label", Text, nullable=False),
    Column("terms", Text, nullable=False, server_default=""),
    Column("program_name", Text, nullable=False, server_default=""),
    Column("background_color", Text, nullable=False),
    Column("foreground_color", Text, nullable=False),
    Column("label_color", Text, nullable=False),
    # variant name -> sha256 of the stored PNG (see domain/images.py for the variant names)
    Column("images", JSONB, nullable=False, server_default="{}"),
)

rewards = Table(
    "rewards",
    metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("tenant_id", UUID(as_uuid=True), ForeignKey("tenants.id"), nullable=False, index=True),
    Column("name", Text, nullable=False),
    Column("description", Text, nullable=False, server_default=""),
    Column("cost", Integer, nullable=False),
    Column("limit_per_day", Integer),
    Column("limit_per_week", Integer),
    Column("limit_per_month", Integer),
    Column("active_from", DateTime(timezone=True)),
    Column("active_until", DateTime(timezone=True)),
    Column("active", Boolean, nullable=False, server_default="true"),
    Column("deleted", Boolean, nullable=False, server_default="false"),
    _created(),
)

locations = Table(
    "locations",
    metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("tenant_id", UUID(as_uuid=True), ForeignKey("tenants.id"), nullable=False, index=True),
    Column("name", Text, nullable=False),
    Column("address", Text, nullable=False, server_default=""),
    _created(),
    # Archived, not deleted: scans and staff recorded at the location keep a name to point at.
    Column("archived_at", DateTime(timezone=True)),
)

staff = Table(
    "staff",
    metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("tenant_id", UUID(as_uuid=True), ForeignKey("tenants.id"), nullable=False),
    Column("email", Text, nullable=False),
    Column("name", Text, nullable=False, server_default=""),
    Column("role", Text, nullable=False),
    Column("password_hash", Text),
    Column("disabled", Boolean, nullable=False, server_default="false"),
    _created(),
    UniqueConstraint("tenant_id", "email", name="staff_tenant_email_key"),
)

# One-time invite and password-reset tokens; only the SHA-256 of the token is kept.
staff_tokens = Table(
    "staff_tokens",
    metadata,
    Column("token_hash", Text, primary_key=True),
    Column("tenant_id", UUID(as_uuid=True), ForeignKey("tenants.id"), nullable=False),
    Column("staff_id", UUID(as_uuid=True), ForeignKey("staff.id"), nullable=False),
    Column("purpose", Text, nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    Column("used_at", DateTime(timezone=True)),
    _created(),
)

refresh_tokens = Table(
    "refresh_tokens",
    metadata,
    Column("token_hash", Text, primary_key=True),
    Column("tenant_id", UUID(as_uuid=True), ForeignKey("tenants.id"), nullable=False),
    Column("staff_id", UUID(as_uuid=True), ForeignKey("staff.id"), nullable=False),
    Column("family_id", UUID(as_uuid=True), nullable=False, index=True),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    Column("used_at", DateTime(timezone=True)),
    Column("revoked_at", DateTime(timezone=True)),
    _created(),
)

signing_keys = Table(
    "signing_keys",
    metadata,
    Column("kid", Text, primary_key=True),
    Column("private_pem", Text, nullable=False),
    _created(),
    Column("retired_at", DateTime(timezone=True)),
)

assets = Table(
    "assets",
    metadata,
    Column("sha256", Text, primary_key=True),
    Column("content_type", Text, nullable=False),
    Column("data", LargeBinary, nullable=False),
    Column("width", Integer, nullable=False),
    Column("height", Integer, nullable=False),
    _created(),
)
