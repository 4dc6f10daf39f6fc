"""Contacts and tenants projections, templates, messages, daily counters, unsubscribes."""

from alembic import op
from nujoomy_notification.db.tables import contacts, daily_counts, messages, templates, tenants, unsubscribes

revision = "0002"
down_revision = "0001"

_TABLES = (contacts, tenants, templates, messages, daily_counts, unsubscribes)


def upgrade() -> None:
    bind = op.get_bind()
    for table in _TABLES:
        table.create(bind)


def downgrade() -> None:
    bind = op.get_bind()
    for table in reversed(_TABLES):
        table.drop(bind)
