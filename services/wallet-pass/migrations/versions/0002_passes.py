"""Passes, Apple registrations, Google object state, projections of programs and members, sync jobs."""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import ARRAY, UUID

revision = "0002"
down_revision = "0001"


def _updated_at() -> sa.Column:
    return sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now())


def upgrade() -> None:
    op.create_table(
        "programs",
        sa.Column("tenant_id", UUID, nullable=False),
        sa.Column("mode", sa.String(4), nullable=False),
        sa.Column("program_id", UUID, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("branding_version", sa.Text, nullable=False),
        sa.Column("program", sa.LargeBinary, nullable=False),
        _updated_at(),
        sa.PrimaryKeyConstraint("tenant_id", "mode"),
    )
    op.create_table(
        "branding_images",
        sa.Column("tenant_id", UUID, nullable=False),
        sa.Column("mode", sa.String(4), nullable=False),
        sa.Column("branding_version", sa.Text, nullable=False),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("data", sa.LargeBinary, nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", "mode", "branding_version", "name"),
    )
    op.create_table(
        "members",
        sa.Column("tenant_id", UUID, nullable=False),
        sa.Column("mode", sa.String(4), nullable=False),
        sa.Column("member_id", UUID, nullable=False),
        sa.Column("program_id", UUID),
        sa.Column("name", sa.Text),
        sa.Column("card_token", sa.Text, nullable=False),
        sa.Column("balance", sa.BigInteger, nullable=False, server_default="0"),
        sa.Column("sequence", sa.BigInteger, nullable=False, server_default="0"),
        sa.Column("status", sa.String(8), nullable=False, server_default="active"),
        _updated_at(),
        sa.PrimaryKeyConstraint("tenant_id", "mode", "member_id"),
    )
    op.create_index("members_program", "members", ["tenant_id", "mode", "program_id"])
    op.create_table(
        "passes",
        sa.Column("id", UUID, primary_key=True),
        sa.Column("tenant_id", UUID, nullable=False),
        sa.Column("mode", sa.String(4), nullable=False),
        sa.Column("member_id", UUID, nullable=False),
        sa.Column("wallet", sa.String(6), nullable=False),
        sa.Column("authentication_token", sa.Text, nullable=False),
        sa.Column("last_pushed_at", sa.DateTime(timezone=True)),
        sa.Column("last_fetched_at", sa.DateTime(timezone=True)),
        _updated_at(),
        sa.UniqueConstraint("tenant_id", "mode", "member_id", "wallet"),
    )
    op.create_table(
        "apple_registrations",
        sa.Column("device_library_id", sa.Text, nullable=False),
        sa.Column("pass_id", UUID, nullable=False),
        sa.Column("tenant_id", UUID, nullable=False),
        sa.Column("mode", sa.String(4), nullable=False),
        sa.Column("push_token", sa.Text, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.PrimaryKeyConstraint("device_library_id", "pass_id"),
    )
    op.create_index("apple_registrations_pass", "apple_registrations", ["pass_id"])
    op.create_table(
        "google_objects",
        sa.Column("pass_id", UUID, primary_key=True),
        sa.Column("tenant_id", UUID, nullable=False),
        sa.Column("mode", sa.String(4), nullable=False),
        sa.Column("object_id", sa.Text, nullable=False),
        sa.Column("class_id", sa.Text, nullable=False),
        sa.Column("balance_sent", sa.BigInteger),
        sa.Column("notified_at", ARRAY(sa.DateTime(timezone=True)), nullable=False, server_default="{}"),
        _updated_at(),
    )
    op.create_table(
        "google_classes",
        sa.Column("class_id", sa.Text, primary_key=True),
        sa.Column("tenant_id", UUID, nullable=False),
        sa.Column("mode", sa.String(4), nullable=False),
        sa.Column("branding_version", sa.Text, nullable=False),
    )
    op.create_table(
        "sync_jobs",
        sa.Column("tenant_id", UUID, nullable=False),
        sa.Column("mode", sa.String(4), nullable=False),
        sa.Column("member_id", UUID, nullable=False),
        sa.Column("priority", sa.Integer, nullable=False, server_default="0"),
        sa.Column("generation", sa.BigInteger, nullable=False, server_default="1"),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("resync_id", UUID),
        sa.PrimaryKeyConstraint("tenant_id", "mode", "member_id"),
    )
    op.create_index("sync_jobs_due", "sync_jobs", ["priority", "due_at"])
    op.create_table(
        "program_resyncs",
        sa.Column("id", UUID, primary_key=True),
        sa.Column("tenant_id", UUID, nullable=False),
        sa.Column("mode", sa.String(4), nullable=False),
        sa.Column("program_id", UUID, nullable=False),
        sa.Column("branding_version", sa.Text, nullable=False),
        sa.Column("total", sa.Integer, nullable=False),
        sa.Column("pushed", sa.Integer, nullable=False, server_default="0"),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.Column("finished_at", sa.DateTime(timezone=True)),
    )
    op.create_index("program_resyncs_program", "program_resyncs", ["tenant_id", "mode", "program_id"])


def downgrade() -> None:
    for name in (
        "program_resyncs",
        "sync_jobs",
        "google_classes",
        "google_objects",
        "apple_registrations",
        "passes",
        "members",
        "branding_images",
        "programs",
    ):
        op.drop_table(name)
