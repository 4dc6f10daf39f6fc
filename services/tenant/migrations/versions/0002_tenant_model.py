"""Tenants, programs, rewards, locations, staff, one-time tokens, refresh tokens, signing keys, assets."""

from alembic import op
from nujoomy_tenant.db.tables import metadata

revision = "0002"
down_revision = "0001"

TABLES = [
    "tenants",
    "programs",
    "rewards",
    "locations",
    "staff",
    "staff_tokens",
    "refresh_tokens",
    "signing_keys",
    "assets",
]


def upgrade() -> None:
    bind = op.get_bind()
    for name in TABLES:
        metadata.tables[name].create(bind)


def downgrade() -> None:
    bind = op.get_bind()
    for name in reversed(TABLES):
        metadata.tables[name].drop(bind)
