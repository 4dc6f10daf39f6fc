"""Card generations: a reissued card is a new pass (serial, token, Google object); the old one is voided."""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"


def upgrade() -> None:
    # The member's current card; bumped by ledger.card.reissued. Ids of generation 0 are the ones
    # derived before generations existed, so cards already in wallets keep their serials.
    op.add_column("members", sa.Column("generation", sa.Integer, nullable=False, server_default="0"))
    op.add_column("passes", sa.Column("generation", sa.Integer, nullable=False, server_default="0"))
    # Set when the card was reissued: the pass answers as voided and is no longer updated.
    op.add_column("passes", sa.Column("voided_at", sa.DateTime(timezone=True)))
    # The devices of a freshly voided pass still need the one push that makes Wallet fetch it.
    op.add_column("passes", sa.Column("void_push_due", sa.Boolean, nullable=False, server_default="false"))
    op.execute("ALTER TABLE passes DROP CONSTRAINT passes_tenant_id_mode_member_id_wallet_key")
    op.create_unique_constraint(
        "passes_member_wallet_generation", "passes", ["tenant_id", "mode", "member_id", "wallet", "generation"]
    )


def downgrade() -> None:
    op.drop_constraint("passes_member_wallet_generation", "passes")
    op.execute("DELETE FROM passes WHERE voided_at IS NOT NULL")
    op.create_unique_constraint(None, "passes", ["tenant_id", "mode", "member_id", "wallet"])
    op.drop_column("passes", "void_push_due")
    op.drop_column("passes", "voided_at")
    op.drop_column("passes", "generation")
    op.drop_column("members", "generation")
