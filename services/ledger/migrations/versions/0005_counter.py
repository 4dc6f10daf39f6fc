"""The counter: cards found by the code printed under the QR, and manager approvals of large earns.

The printed code is the token's last 8 characters (wallet-pass prints `card_token[-8:]` as the
barcode's alternate text). People read I, L and 1 as one another, so the index holds the code with L
folded to I (the token alphabet has no 0, 1 or 8 to fold); see domain/cards.py for the typed side.

Transactions are append-only, so an approval is its own row beside the transaction it allowed,
written in the same database transaction.
"""

from alembic import op

revision = "0005"
down_revision = "0004"


def upgrade() -> None:
    op.execute(
        "CREATE INDEX cards_printed_code ON cards (tenant_id, mode, translate(right(token, 8), 'L', 'I')) "
        "WHERE status = 'active'"
    )
    op.execute(
        """
        CREATE TABLE transaction_approvals (
            transaction_id uuid PRIMARY KEY REFERENCES transactions (id),
            tenant_id uuid NOT NULL,
            mode text NOT NULL,
            approved_by uuid NOT NULL,
            maximum bigint NOT NULL,
            created_at timestamptz NOT NULL DEFAULT now()
        )
        """
    )
    op.execute(
        "CREATE TRIGGER transaction_approvals_append_only BEFORE UPDATE OR DELETE ON transaction_approvals "
        "FOR EACH ROW EXECUTE FUNCTION ledger_append_only()"
    )


def downgrade() -> None:
    op.execute("DROP TABLE IF EXISTS transaction_approvals")
    op.execute("DROP INDEX IF EXISTS cards_printed_code")
