"""Contacts and tenants projections, templates, messages, daily counters, unsubscribes.

Frozen DDL (not `metadata.create_all`), so later changes to db/tables.py come with their own
migration instead of silently changing what this one creates.
"""

from alembic import op

revision = "0002"
down_revision = "0001"

_UP = [
    """
CREATE TABLE contacts (
	tenant_id UUID NOT NULL,
	mode VARCHAR(4) NOT NULL,
	member_id UUID NOT NULL,
	name TEXT,
	email TEXT,
	phone TEXT,
	locale VARCHAR(16),
	consent_email BOOLEAN DEFAULT false NOT NULL,
	consent_sms BOOLEAN DEFAULT false NOT NULL,
	balance BIGINT,
	balance_at TIMESTAMP WITH TIME ZONE,
	updated_at TIMESTAMP WITH TIME ZONE DEFAULT now() NOT NULL,
	PRIMARY KEY (tenant_id, mode, member_id)
)
    """,
    """
CREATE TABLE tenants (
	tenant_id UUID NOT NULL,
	mode VARCHAR(4) NOT NULL,
	name TEXT DEFAULT '' NOT NULL,
	timezone TEXT DEFAULT 'UTC' NOT NULL,
	locale VARCHAR(16) DEFAULT 'en' NOT NULL,
	balance_label TEXT DEFAULT 'Points' NOT NULL,
	program_version BIGINT DEFAULT 0 NOT NULL,
	rewards JSONB DEFAULT '[]' NOT NULL,
	updated_at TIMESTAMP WITH TIME ZONE DEFAULT now() NOT NULL,
	PRIMARY KEY (tenant_id, mode)
)
    """,
    """
CREATE TABLE templates (
	tenant_id UUID NOT NULL,
	mode VARCHAR(4) NOT NULL,
	kind VARCHAR(32) NOT NULL,
	locale VARCHAR(8) NOT NULL,
	channel VARCHAR(8) NOT NULL,
	subject TEXT DEFAULT '' NOT NULL,
	html TEXT DEFAULT '' NOT NULL,
	text TEXT NOT NULL,
	updated_at TIMESTAMP WITH TIME ZONE DEFAULT now() NOT NULL,
	PRIMARY KEY (tenant_id, mode, kind, locale, channel)
)
    """,
    """
CREATE TABLE messages (
	id UUID NOT NULL,
	tenant_id UUID NOT NULL,
	mode VARCHAR(4) NOT NULL,
	member_id UUID NOT NULL,
	event_id UUID NOT NULL,
	kind VARCHAR(32) NOT NULL,
	channel VARCHAR(8) NOT NULL,
	locale VARCHAR(8) NOT NULL,
	recipient TEXT DEFAULT '' NOT NULL,
	status VARCHAR(12) NOT NULL,
	reason VARCHAR(32),
	subject TEXT DEFAULT '' NOT NULL,
	html TEXT DEFAULT '' NOT NULL,
	text TEXT DEFAULT '' NOT NULL,
	attempts INTEGER DEFAULT 0 NOT NULL,
	send_after TIMESTAMP WITH TIME ZONE,
	last_error TEXT,
	provider_id TEXT,
	created_at TIMESTAMP WITH TIME ZONE DEFAULT now() NOT NULL,
	sent_at TIMESTAMP WITH TIME ZONE,
	PRIMARY KEY (id),
	CONSTRAINT messages_event_kind_channel UNIQUE (event_id, kind, channel)
)
    """,
    """
CREATE INDEX messages_due ON messages (send_after) WHERE status = 'queued'
    """,
    """
CREATE INDEX messages_failed ON messages (tenant_id, mode, id) WHERE status = 'failed'
    """,
    """
CREATE INDEX messages_member ON messages (tenant_id, mode, member_id, id)
    """,
    """
CREATE TABLE daily_counts (
	tenant_id UUID NOT NULL,
	mode VARCHAR(4) NOT NULL,
	member_id UUID NOT NULL,
	day DATE NOT NULL,
	count INTEGER NOT NULL,
	PRIMARY KEY (tenant_id, mode, member_id, day)
)
    """,
    """
CREATE TABLE unsubscribes (
	tenant_id UUID NOT NULL,
	mode VARCHAR(4) NOT NULL,
	member_id UUID NOT NULL,
	channel VARCHAR(8) NOT NULL,
	created_at TIMESTAMP WITH TIME ZONE DEFAULT now() NOT NULL,
	PRIMARY KEY (tenant_id, mode, member_id, channel)
)
    """,
]

_TABLES = ("unsubscribes", "daily_counts", "messages", "templates", "tenants", "contacts")


def upgrade() -> None:
    for statement in _UP:
        op.execute(statement)


def downgrade() -> None:
    for table in _TABLES:
        op.drop_table(table)
