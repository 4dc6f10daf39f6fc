"""One person, one member per tenant and mode: contacts stored canonical (e-mail lower-case, phone
E.164) and unique.

Existing rows are brought to the canonical form first. Where two members already share a contact,
the oldest keeps it; the newer ones' copy is moved to member_contact_conflicts (nothing is lost, and
an operator can merge or reach them: docs/ledger.md), so the unique indexes can be built. Phones that
cannot be read as a number stay as they were typed (the index still holds them unique).
"""

from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"


def upgrade() -> None:
    from nujoomy_ledger.domain.contacts import default_region
    from nujoomy_ledger.domain.errors import InvalidPhone
    from nujoomy_ledger.domain.contacts import normal_phone

    bind = op.get_bind()
    op.execute(
        "CREATE TABLE member_contact_conflicts ("
        " member_id uuid NOT NULL REFERENCES members (id), tenant_id uuid NOT NULL, mode text NOT NULL,"
        " field text NOT NULL CHECK (field IN ('email', 'phone')), value text NOT NULL,"
        " kept_by uuid NOT NULL REFERENCES members (id), moved_at timestamptz NOT NULL DEFAULT now(),"
        " PRIMARY KEY (member_id, field))"
    )
    op.execute("UPDATE members SET email = lower(btrim(email)) WHERE email IS NOT NULL")
    op.execute("UPDATE members SET email = NULL WHERE email = ''")

    regions: dict[tuple[Any, str], str | None] = {}
    for tenant_id, mode, country, locale, phone in bind.execute(
        sa.text(
            "SELECT tenant_id, mode, rules -> 'tenant' ->> 'country', rules -> 'tenant' ->> 'locale', "
            "rules -> 'tenant' ->> 'contact_phone' FROM programs"
        )
    ):
        regions[tenant_id, mode] = default_region(country, locale, phone)
    rows = bind.execute(
        sa.text("SELECT id, tenant_id, mode, phone FROM members WHERE phone IS NOT NULL")
    ).fetchall()
    for member_id, tenant_id, mode, phone in rows:
        try:
            canonical = normal_phone(phone, regions.get((tenant_id, mode)))
        except InvalidPhone:
            continue
        if canonical != phone:
            bind.execute(
                sa.text("UPDATE members SET phone = :p WHERE id = :id"), {"p": canonical, "id": member_id}
            )

    for field in ("email", "phone"):
        bind.execute(
            sa.text(
                f"""
                WITH ranked AS (
                  SELECT id, tenant_id, mode, {field} AS value,
                         first_value(id) OVER w AS kept_by, row_number() OVER w AS n
                    FROM members WHERE {field} IS NOT NULL
                  WINDOW w AS (PARTITION BY tenant_id, mode, {field} ORDER BY created_at, id)
                ), moved AS (
                  INSERT INTO member_contact_conflicts (member_id, tenant_id, mode, field, value, kept_by)
                  SELECT id, tenant_id, mode, '{field}', value, kept_by FROM ranked WHERE n > 1
                  RETURNING member_id
                )
                UPDATE members SET {field} = NULL, updated_at = now() WHERE id IN (SELECT member_id FROM moved)
                """
            )
        )
    op.execute("DROP INDEX members_email")
    op.execute("DROP INDEX members_phone")
    op.execute("CREATE UNIQUE INDEX members_email ON members (tenant_id, mode, lower(email)) WHERE email IS NOT NULL")
    op.execute("CREATE UNIQUE INDEX members_phone ON members (tenant_id, mode, phone) WHERE phone IS NOT NULL")


def downgrade() -> None:
    op.execute("DROP INDEX members_email")
    op.execute("DROP INDEX members_phone")
    op.execute("CREATE INDEX members_email ON members (tenant_id, mode, lower(email)) WHERE email IS NOT NULL")
    op.execute("CREATE INDEX members_phone ON members (tenant_id, mode, phone) WHERE phone IS NOT NULL")
    op.execute("DROP TABLE member_contact_conflicts")
