"""members.name_key: the accent- and case-folded name, indexed for prefix search from the dashboard.

Backfilled here in Python (the same function the ledger writes it with), so no database extension is
needed; `text_pattern_ops` lets `LIKE 'prefix%'` use the btree whatever the database's collation.
"""

from alembic import op
from sqlalchemy import text

from nujoomy_ledger.domain.names import name_key

revision = "0004"
down_revision = "0003"


def upgrade() -> None:
    op.execute("ALTER TABLE members ADD COLUMN name_key text")
    bind = op.get_bind()
    rows = bind.execute(text("SELECT id, name FROM members WHERE name IS NOT NULL")).all()
    if rows:  # one executemany, not a round trip per member
        keys = [{"k": name_key(row.name), "id": row.id} for row in rows]
        bind.execute(text("UPDATE members SET name_key = :k WHERE id = :id"), keys)
    op.execute("CREATE INDEX members_name_key ON members (tenant_id, mode, name_key text_pattern_ops, id)")


def downgrade() -> None:
    op.execute("DROP INDEX IF EXISTS members_name_key")
    op.execute("ALTER TABLE members DROP COLUMN name_key")
