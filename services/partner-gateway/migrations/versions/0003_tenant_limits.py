"""Operator-set limits per tenant plane: aggregate rate over its keys and a cap on keys."""

from alembic import op
from nujoomy_partner_gateway.db.tables import tenant_limits

revision = "0003"
down_revision = "0002"


def upgrade() -> None:
    tenant_limits.create(op.get_bind())


def downgrade() -> None:
    tenant_limits.drop(op.get_bind())
