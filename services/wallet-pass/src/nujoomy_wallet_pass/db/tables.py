"""The wallet-pass service's tables (SQLAlchemy Core). Every business row carries tenant_id and mode."""

from __future__ import annotations

from nujoomy_messaging.tables import inbox_table, outbox_table
from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    DateTime,
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


def _now() -> Column:  # type: ignore[type-arg]
    return Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now())


# Projection of tenant.program.updated, one row per (tenant, mode); `program` is the event payload.
programs = Table(
    "programs",
    metadata,
    Column("tenant_id", UUID, nullable=False),
    Column("mode", String(4), nullable=False),
    Column("program_id", UUID, nullable=False),
    Column("version", Integer, nullable=False),
    Column("branding_version", Text, nullable=False),
    Column("program", LargeBinary, nullable=False),
    _now(),
    PrimaryKeyConstraint("tenant_id", "mode"),
)

# Rendered images per branding version (fetched once from the tenant service, or defaults).
branding_images = Table(
    "branding_images",
    metadata,
    Column("tenant_id", UUID, nullable=False),
    Column("mode", String(4), nullable=False),
    Column("branding_version", Text, nullable=False),
    Column("name", Text, nullable=False),
    Column("data", LargeBinary, nullable=False),
    PrimaryKeyConstraint("tenant_id", "mode", "branding_version", "name"),
)

# Projection of the ledger's members: what a card shows. `sequence` is the last applied
# ledger.balance.changed sequence (older ones are dropped).
members = Table(
    "members",
    metadata,
    Column("tenant_id", UUID, nullable=False),
    Column("mode", String(4), nullable=False),
    Column("member_id", UUID, nullable=False),
    Column("program_id", UUID),
    Column("name", Text),
    Column("card_token", Text, nullable=False),
    Column("balance", BigInteger, nullable=False, server_default="0"),
    Column("sequence", BigInteger, nullable=False, server_default="0"),
    Column("status", String(8), nullable=False, server_default="active"),
    # The current card (migration 0005): bumped by ledger.card.reissued; pass ids derive from it.
    Column("generation", Integer, nullable=False, server_default="0"),
    _now(),
    PrimaryKeyConstraint("tenant_id", "mode", "member_id"),
)

# One pass per member per wallet per card generation. `updated_at` is the pass's Last-Modified: whole
# seconds, strictly increasing per change (see queries.touch_passes). A reissue voids the passes of the
# older generations (`voided_at`); their devices get one more push (`void_push_due`) to learn it.
passes = Table(
    "passes",
    metadata,
    Column("id", UUID, primary_key=True),
    Column("tenant_id", UUID, nullable=False),
    Column("mode", String(4), nullable=False),
    Column("member_id", UUID, nullable=False),
    Column("wallet", String(6), nullable=False),
    Column("authentication_token", Text, nullable=False),
    Column("last_pushed_at", DateTime(timezone=True)),
    Column("last_fetched_at", DateTime(timezone=True)),
    _now(),
    Column("generation", Integer, nullable=False, server_default="0"),
    Column("voided_at", DateTime(timezone=True)),
    Column("void_push_due", Boolean, nullable=False, server_default="false"),
    UniqueConstraint("tenant_id", "mode", "member_id", "wallet", "generation"),
)

apple_registrations = Table(
    "apple_registrations",
    metadata,
    Column("device_library_id", Text, nullable=False),
    Column("pass_id", UUID, nullable=False),
    Column("tenant_id", UUID, nullable=False),
    Column("mode", String(4), nullable=False),
    Column("push_token", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    PrimaryKeyConstraint("device_library_id", "pass_id"),
)

google_objects = Table(
    "google_objects",
    metadata,
    Column("pass_id", UUID, primary_key=True),
    Column("tenant_id", UUID, nullable=False),
    Column("mode", String(4), nullable=False),
    Column("object_id", Text, nullable=False),
    Column("class_id", Text, nullable=False),
    Column("balance_sent", BigInteger),
    Column("notified_at", ARRAY(DateTime(timezone=True)), nullable=False, server_default="{}"),
    _now(),
    # Saved in a Google Wallet (save/delete callbacks); the object existing says nothing about that.
    Column("saved", Boolean, nullable=False, server_default="false"),
    Column("saved_changed_at", DateTime(timezone=True)),
)

# Google save/delete callbacks already handled, by nonce: a repeated callback publishes nothing.
google_callbacks = Table(
    "google_callbacks",
    metadata,
    Column("nonce", Text, primary_key=True),
    Column("object_id", Text, nullable=False),
    Column("event_type", Text, nullable=False),
    Column("received_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)

# A tenant's own Pass Type ID certificate per mode. The key is AES-GCM encrypted with the
# `certificate_encryption_key` setting (associated data: tenant, mode, fingerprint).
tenant_certificates = Table(
    "tenant_certificates",
    metadata,
    Column("tenant_id", UUID, nullable=False),
    Column("mode", String(4), nullable=False),
    Column("pass_type_id", Text, nullable=False),
    Column("team_id", Text, nullable=False),
    Column("fingerprint", Text, nullable=False),
    Column("not_after", DateTime(timezone=True), nullable=False),
    Column("certificate", LargeBinary, nullable=False),
    Column("key_ciphertext", LargeBinary, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    PrimaryKeyConstraint("tenant_id", "mode"),
)

google_classes = Table(
    "google_classes",
    metadata,
    Column("class_id", Text, primary_key=True),
    Column("tenant_id", UUID, nullable=False),
    Column("mode", String(4), nullable=False),
    Column("branding_version", Text, nullable=False),
)

# Pending update jobs, one per member: a burst of changes bumps `generation` on the same row, and the
# runner deletes it only if the generation it read is still current (coalescing, nothing lost).
sync_jobs = Table(
    "sync_jobs",
    metadata,
    Column("tenant_id", UUID, nullable=False),
    Column("mode", String(4), nullable=False),
    Column("member_id", UUID, nullable=False),
    Column("priority", Integer, nullable=False, server_default="0"),
    Column("generation", BigInteger, nullable=False, server_default="1"),
    Column("due_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("resync_id", UUID),
    Column("last_error", Text),
    Column("failed_at", DateTime(timezone=True)),  # terminal: retries exhausted (a new change revives it)
    PrimaryKeyConstraint("tenant_id", "mode", "member_id"),
)

# Google object updates, their own queue (migration 0003): coalescing like sync_jobs, a lease
# (`claimed_until`) so one object never has two PATCHes in flight, a terminal state for refusals.
google_jobs = Table(
    "google_jobs",
    metadata,
    Column("tenant_id", UUID, nullable=False),
    Column("mode", String(4), nullable=False),
    Column("member_id", UUID, nullable=False),
    Column("priority", Integer, nullable=False, server_default="0"),
    Column("generation", BigInteger, nullable=False, server_default="1"),
    Column("due_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("claimed_until", DateTime(timezone=True)),
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("last_error", Text),
    Column("failed_at", DateTime(timezone=True)),
    PrimaryKeyConstraint("tenant_id", "mode", "member_id"),
)

# The Google request pacer's next free slot per quota key, when it is kept in PostgreSQL.
google_quota = Table(
    "google_quota",
    metadata,
    Column("key", Text, primary_key=True),
    Column("tat", DateTime(timezone=True), nullable=False),
)

program_resyncs = Table(
    "program_resyncs",
    metadata,
    Column("id", UUID, primary_key=True),
    Column("tenant_id", UUID, nullable=False),
    Column("mode", String(4), nullable=False),
    Column("program_id", UUID, nullable=False),
    Column("branding_version", Text, nullable=False),
    Column("total", Integer, nullable=False),
    Column("pushed", Integer, nullable=False, server_default="0"),
    Column("started_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("finished_at", DateTime(timezone=True)),
)
