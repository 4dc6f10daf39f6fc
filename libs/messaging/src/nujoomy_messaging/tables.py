"""The outbox and inbox tables every service database carries.

`outbox` rows are written in the caller's transaction and deleted once the broker confirmed them;
an AFTER INSERT trigger NOTIFYs the relay (PostgreSQL delivers NOTIFY at commit, so the relay never
wakes for a row it cannot see). `inbox` holds (consumer, event id) pairs already applied.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Identity,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    func,
)
from sqlalchemy.dialects.postgresql import UUID

NOTIFY_CHANNEL = "nujoomy_outbox"


def outbox_table(metadata: MetaData) -> Table:
    return Table(
        "outbox",
        metadata,
        # seq gives the publish order; a sequence is allocated at insert, not commit, which is why the
        # relay selects by presence (rows are deleted when sent), never by a "last seq seen" watermark.
        Column("seq", BigInteger, Identity(always=False), primary_key=True),
        Column("event_id", UUID(as_uuid=True), nullable=False, unique=True),
        Column("aggregate", Text, nullable=False),
        Column("routing_key", String(200), nullable=False),
        Column("body", LargeBinary, nullable=False),
        Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    )


def inbox_table(metadata: MetaData) -> Table:
    return Table(
        "inbox",
        metadata,
        Column("consumer", String(200), primary_key=True),
        Column("event_id", UUID(as_uuid=True), primary_key=True),
        Column("processed_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    )


NOTIFY_FUNCTION_SQL = f"""
CREATE OR REPLACE FUNCTION nujoomy_outbox_notify() RETURNS trigger AS $$
BEGIN
  PERFORM pg_notify('{NOTIFY_CHANNEL}', '');
  RETURN NULL;
END;
$$ LANGUAGE plpgsql
"""

# FOR EACH STATEMENT: one notification per inserting statement, not per row, keeps bulk inserts cheap.
NOTIFY_TRIGGER_SQL = """
CREATE TRIGGER outbox_notify AFTER INSERT ON outbox
FOR EACH STATEMENT EXECUTE FUNCTION nujoomy_outbox_notify()
"""


def create_messaging_tables() -> None:
    """Called from each service's initial alembic migration."""
    import sqlalchemy as sa
    from alembic import op

    op.create_table(
        "outbox",
        sa.Column("seq", sa.BigInteger, sa.Identity(always=False), primary_key=True),
        sa.Column("event_id", UUID(as_uuid=True), nullable=False, unique=True),
        sa.Column("aggregate", sa.Text, nullable=False),
        sa.Column("routing_key", sa.String(200), nullable=False),
        sa.Column("body", sa.LargeBinary, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    )
    op.create_table(
        "inbox",
        sa.Column("consumer", sa.String(200), primary_key=True),
        sa.Column("event_id", UUID(as_uuid=True), primary_key=True),
        sa.Column("processed_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    )
    op.execute(NOTIFY_FUNCTION_SQL)
    op.execute(NOTIFY_TRIGGER_SQL)


def drop_messaging_tables() -> None:
    from alembic import op

    op.execute("DROP TRIGGER IF EXISTS outbox_notify ON outbox")
    op.execute("DROP FUNCTION IF EXISTS nujoomy_outbox_notify()")
    op.drop_table("inbox")
    op.drop_table("outbox")
