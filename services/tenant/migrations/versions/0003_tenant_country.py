"""A tenant's country (ISO 3166-1 alpha-2): the default region for its customers' phone numbers.

Existing tenants start with their locale's region where it has one ("fr-FR" -> "FR"); the others
stay without one until the owner sets it (phone numbers are then taken with their country code only).
"""

from alembic import op

revision = "0003"
down_revision = "0002"


def upgrade() -> None:
    op.execute("ALTER TABLE tenants ADD COLUMN country text")
    op.execute(
        "UPDATE tenants SET country = split_part(locale, '-', 2) WHERE locale ~ '^[a-z]{2,3}-[A-Z]{2}$'"
    )


def downgrade() -> None:
    op.execute("ALTER TABLE tenants DROP COLUMN country")
