"""Tenant-owned Pass Type ID certificates; Google save/delete callbacks (installed state, nonces)."""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import UUID

revision = "0004"
down_revision = "0003"


def upgrade() -> None:
    op.create_table(
        "tenant_certificates",
        sa.Column("tenant_id", UUID, nullable=False),
        sa.Column("mode", sa.String(4), nullable=False),
        sa.Column("pass_type_id", sa.Text, nullable=False),
        sa.Column("team_id", sa.Text, nullable=False),
        sa.Column("fingerprint", sa.Text, nullable=False),
        sa.Column("not_after", sa.DateTime(timezone=True), nullable=False),
        sa.Column("certificate", sa.LargeBinary, nullable=False),
        sa.Column("key_ciphertext", sa.LargeBinary, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.PrimaryKeyConstraint("tenant_id", "mode"),
    )
    op.create_index("tenant_certificates_pass_type", "tenant_certificates", ["pass_type_id"])
    op.add_column("google_objects", sa.Column("saved", sa.Boolean, nullable=False, server_default="false"))
    op.add_column("google_objects", sa.Column("saved_changed_at", sa.DateTime(timezone=True)))
    op.create_index("google_objects_object_id", "google_objects", ["object_id"], unique=True)
    op.create_table(
        "google_callbacks",
        sa.Column("nonce", sa.Text, primary_key=True),
        sa.Column("object_id", sa.Text, nullable=False),
        sa.Column("event_type", sa.Text, nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    )


def downgrade() -> None:
    op.drop_table("google_callbacks")
    op.drop_index("google_objects_object_id", "google_objects")
    op.drop_column("google_objects", "saved_changed_at")
    op.drop_column("google_objects", "saved")
    op.drop_table("tenant_certificates")
