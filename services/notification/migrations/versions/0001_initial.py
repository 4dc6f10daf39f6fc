"""Initial notification schema: the outbox and inbox every service carries."""

from nujoomy_messaging.tables import create_messaging_tables, drop_messaging_tables

revision = "0001"
down_revision = None


def upgrade() -> None:
    create_messaging_tables()


def downgrade() -> None:
    drop_messaging_tables()
