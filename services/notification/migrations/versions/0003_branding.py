"""The business's look in its messages: the program's colours and logo (tenants.brand), and the
business name each message is sent as (messages.from_name)."""

from alembic import op

revision = "0003"
down_revision = "0002"


def upgrade() -> None:
    op.execute("ALTER TABLE tenants ADD COLUMN brand JSONB DEFAULT '{}'::jsonb NOT NULL")
    op.execute("ALTER TABLE messages ADD COLUMN from_name TEXT DEFAULT '' NOT NULL")


def downgrade() -> None:
    op.execute("ALTER TABLE messages DROP COLUMN from_name")
    op.execute("ALTER TABLE tenants DROP COLUMN brand")
