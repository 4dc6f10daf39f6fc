"""The tenant service's tables (SQLAlchemy Core). Every business row carries tenant_id and mode."""

from __future__ import annotations

from nujoomy_messaging.tables import inbox_table, outbox_table
from sqlalchemy import MetaData

metadata = MetaData()

outbox = outbox_table(metadata)
inbox = inbox_table(metadata)
