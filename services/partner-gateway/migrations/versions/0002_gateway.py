"""API keys, webhook endpoints, events, deliveries and attempts."""

from alembic import op
from nujoomy_partner_gateway.db.tables import (
    api_keys,
    webhook_attempts,
    webhook_deliveries,
    webhook_endpoints,
    webhook_events,
)

revision = "0002"
down_revision = "0001"

_TABLES = [api_keys, webhook_endpoints, webhook_events, webhook_deliveries, webhook_attempts]


def upgrade() -> None:
    bind = op.get_bind()
    for table in _TABLES:
        table.create(bind)


def downgrade() -> None:
    bind = op.get_bind()
    for table in reversed(_TABLES):
        table.drop(bind)
