"""programs.max_per_transaction: the most one staff-posted earn may grant without a manager's
approval; NULL means the ledger's default for the program type."""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"


def upgrade() -> None:
    op.add_column("programs", sa.Column("max_per_transaction", sa.Integer(), nullable=True))


def downgrade() -> None:
    op.drop_column("programs", "max_per_transaction")
