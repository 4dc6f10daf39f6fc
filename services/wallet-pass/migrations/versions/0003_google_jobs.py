"""Google object updates get their own queue (paced to Google's quota, never in the way of Apple
pushes), a shared request pacer for replicas without Redis, and a terminal state for jobs that
cannot succeed."""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import UUID

revision = "0003"
down_revision = "0002"


def upgrade() -> None:
    # One row per member whose Google object may be behind; a change bumps `generation` (coalescing).
    # `claimed_until` is the lease: a claimed row is not handed out again until it expires, so two
    # PATCHes of one object are never in flight at once (an older one could land last).
    op.create_table(
        "google_jobs",
        sa.Column("tenant_id", UUID, nullable=False),
        sa.Column("mode", sa.String(4), nullable=False),
        sa.Column("member_id", UUID, nullable=False),
        sa.Column("priority", sa.Integer, nullable=False, server_default="0"),
        sa.Column("generation", sa.BigInteger, nullable=False, server_default="1"),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.Column("claimed_until", sa.DateTime(timezone=True)),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("last_error", sa.Text),
        sa.Column("failed_at", sa.DateTime(timezone=True)),
        sa.PrimaryKeyConstraint("tenant_id", "mode", "member_id"),
    )
    op.create_index(
        "google_jobs_due",
        "google_jobs",
        ["priority", "due_at"],
        postgresql_where=sa.text("failed_at IS NULL"),
    )
    # The request pacer's state when it lives in PostgreSQL: the next free slot per quota key.
    op.create_table(
        "google_quota",
        sa.Column("key", sa.Text, primary_key=True),
        sa.Column("tat", sa.DateTime(timezone=True), nullable=False),
    )
    # Apple jobs that keep failing (APNs 429/5xx past every retry) stop in a visible terminal state.
    op.add_column("sync_jobs", sa.Column("last_error", sa.Text))
    op.add_column("sync_jobs", sa.Column("failed_at", sa.DateTime(timezone=True)))


def downgrade() -> None:
    op.drop_column("sync_jobs", "failed_at")
    op.drop_column("sync_jobs", "last_error")
    op.drop_table("google_quota")
    op.drop_index("google_jobs_due", "google_jobs")
    op.drop_table("google_jobs")
