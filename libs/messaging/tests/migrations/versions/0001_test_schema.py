"""A stand-in service schema for the messaging tests: a business table, what a consumer applied,
and the outbox/inbox every service carries."""

import sqlalchemy as sa
from alembic import op
from nujoomy_messaging.tables import create_messaging_tables

revision = "0001"
down_revision = None


def upgrade() -> None:
    create_messaging_tables()
    op.create_table("orders", sa.Column("id", sa.Integer, primary_key=True), sa.Column("note", sa.Text))
    # No unique constraint on purpose: a second application of an event would show up as a second row.
    op.create_table("applied", sa.Column("event_id", sa.Uuid), sa.Column("order_id", sa.Integer))


def downgrade() -> None:
    op.drop_table("applied")
    op.drop_table("orders")
