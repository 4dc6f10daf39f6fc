"""The demo tenant `make up` seeds into an empty database: "Demo Café", its program and two logins."""

from __future__ import annotations

from nujoomy_kit.ids import uuid7
from sqlalchemy.ext.asyncio import AsyncSession

from nujoomy_tenant import provisioning
from nujoomy_tenant.db import tenants as tenant_db
from nujoomy_tenant.events import publishing

SLUG = "demo"
OWNER = ("owner@demo.nujoomy.test", "demo-owner-pass")
STAFF = ("staff@demo.nujoomy.test", "demo-staff-pass")
REWARDS = (
    ("Free espresso", 50, "Any single espresso"),
    ("Free cappuccino", 80, "Any size"),
    ("Slice of cake", 120, "From the counter"),
)


async def seed(db: AsyncSession) -> bool:
    """Create the demo tenant if it is absent. Returns True when it was created now."""
    if await tenant_db.tenant_by_slug(db, SLUG) is not None:
        return False
    created = await provisioning.create_tenant(
        db,
        provisioning.NewTenant(
            slug=SLUG,
            name="Demo Café",
            owner_email=OWNER[0],
            owner_name="Demo Owner",
            owner_password=OWNER[1],
            currency="EUR",
            country="FR",
            points_per_unit=1,
            background_color="#3B2F2F",
            foreground_color="#FFFFFF",
            label_color="#F5DEB3",
        ),
        invite_ttl=3600,
    )
    await provisioning.invite_staff(
        db,
        created.tenant_id,
        email=STAFF[0],
        name="Demo Barista",
        role="staff",
        invite_ttl=3600,
        password=STAFF[1],
    )
    for name, cost, description in REWARDS:
        await tenant_db.insert_reward(
            db,
            {
                "id": uuid7(),
                "tenant_id": created.tenant_id,
                "name": name,
                "cost": cost,
                "description": description,
            },
        )
    # One more program version carrying the rewards, so projections see the whole catalog.
    await publishing.program_changed(db, created.tenant_id)
    return True


def banner(public_url: str) -> list[str]:
    return [
        "",
        f"  Demo Café dashboard  {public_url.rstrip('/')}/app   (business: {SLUG})",
        f"    owner  {OWNER[0]} / {OWNER[1]}",
        f"    staff  {STAFF[0]} / {STAFF[1]}",
        f"  Join page            {public_url.rstrip('/')}/join/{SLUG}",
    ]
