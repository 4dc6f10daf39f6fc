"""The ledger: program projection, members, cards, accounts, transactions, postings, lots, reservations.

The write path lives in SQL functions (sql/ledger_post.sql) so one earn is one round trip for the
ledger work; the rules that decide *what* to post stay in Python (nujoomy_ledger.domain).
"""

from pathlib import Path

from alembic import op

revision = "0002"
down_revision = "0001"

SQL = Path(__file__).resolve().parents[1] / "sql"


def _statements(name: str) -> list[str]:
    return [s for s in (SQL / name).read_text().split("\n-- ;;\n") if s.strip()]


def upgrade() -> None:
    # exec_driver_sql: no bind-parameter parsing of `:=` and `::` inside PL/pgSQL bodies.
    bind = op.get_bind()
    for statement in [*_statements("schema.sql"), *_statements("ledger_post.sql")]:
        bind.exec_driver_sql(statement)


def downgrade() -> None:
    op.execute(
        "DROP FUNCTION IF EXISTS ledger_post CASCADE; DROP FUNCTION IF EXISTS ledger_append_only CASCADE; "
        "DROP FUNCTION IF EXISTS ledger_check_balanced CASCADE; "
        "DROP TABLE IF EXISTS lot_draws, earn_lots, reservations, postings, transactions, balances, "
        "accounts, cards, members, programs CASCADE"
    )
