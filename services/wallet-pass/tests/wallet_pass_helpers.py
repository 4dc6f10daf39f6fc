"""Building the events the ledger and tenant services publish, and applying them the way the
consumers do (real PostgreSQL, the real handlers, one transaction each)."""

from __future__ import annotations

import hashlib
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aio_pika
from nujoomy_contracts import Envelope, encode_envelope, new_envelope
from nujoomy_contracts.ledger import (
    BALANCE_CHANGED,
    MEMBER_ENROLLED,
    BalanceChanged,
    Member,
    MemberEnrolled,
)
from nujoomy_contracts.tenant import (
    PROGRAM_UPDATED,
    Branding,
    EarnRule,
    ExpiryPolicy,
    Program,
    Tenant,
    Wording,
)
from nujoomy_kit.db import make_engine, make_sessionmaker
from nujoomy_messaging import Topology
from nujoomy_wallet_pass.events.consumers import on_member_event, on_program_updated
from nujoomy_wallet_pass.settings import Settings
from PIL import Image


def png(color: tuple[int, int, int], size: tuple[int, int]) -> bytes:
    import io

    out = io.BytesIO()
    Image.new("RGB", size, color).save(out, "PNG")
    return out.getvalue()


def publish_asset(root: Path, data: bytes) -> str:
    """Put bytes where the static server answers /assets/{sha256}.png; return that path."""
    sha = hashlib.sha256(data).hexdigest()
    (root / "assets" / f"{sha}.png").write_bytes(data)
    return f"/assets/{sha}.png"


def program(
    tenant_id: uuid.UUID,
    program_id: uuid.UUID,
    version: int = 1,
    color: str = "#0A7D4F",
    images: dict[str, str] | None = None,
    branding_version: str = "b1",
) -> Program:
    return Program(
        program_id=program_id,
        tenant_id=tenant_id,
        version=version,
        type="points",
        currency="EUR",
        earn_rule=EarnRule(points_per_unit=1),
        rewards=[],
        expiry=ExpiryPolicy(),
        wording=Wording(balance_label="Points", terms="Points expire never.", program_name="Café Noor Club"),
        branding=Branding(
            background_color=color,
            foreground_color="#FFFFFF",
            label_color="#EEEEEE",
            images=images or {},
            version=branding_version,
        ),
        tenant=Tenant(
            tenant_id=tenant_id,
            slug="cafe-noor",
            name="Café Noor",
            locale="en",
            timezone="Europe/Berlin",
            currency="EUR",
            status="active",
            contact_email="hello@cafe-noor.example",
        ),
    )


def enrolled(
    tenant_id: uuid.UUID, member_id: uuid.UUID, program_id: uuid.UUID | None, mode: str = "live"
) -> Envelope[Any]:
    member = Member(
        member_id=member_id, program_id=program_id, name="Lina", email=None, phone=None, external_id=None
    )
    return new_envelope(
        MEMBER_ENROLLED,
        MemberEnrolled(member=member, card_token=f"NJ1-{member_id.hex[:20]}"),
        tenant_id=tenant_id,
        mode=mode,  # type: ignore[arg-type]
    )


def erased(tenant_id: uuid.UUID, member_id: uuid.UUID, mode: str = "live") -> Envelope[Any]:
    from nujoomy_contracts.ledger import MEMBER_ERASED, MemberErased

    return new_envelope(MEMBER_ERASED, MemberErased(member_id=member_id), tenant_id=tenant_id, mode=mode)  # type: ignore[arg-type]


def renamed(tenant_id: uuid.UUID, member_id: uuid.UUID, name: str, mode: str = "live") -> Envelope[Any]:
    from nujoomy_contracts.ledger import MEMBER_UPDATED, MemberUpdated

    member = Member(member_id=member_id, program_id=None, name=name, email=None, phone=None, external_id=None)
    return new_envelope(MEMBER_UPDATED, MemberUpdated(member=member), tenant_id=tenant_id, mode=mode)  # type: ignore[arg-type]


def balance(
    tenant_id: uuid.UUID, member_id: uuid.UUID, points: int, sequence: int, mode: str = "live"
) -> Envelope[Any]:
    return new_envelope(
        BALANCE_CHANGED,
        BalanceChanged(
            member_id=member_id,
            account_id=member_id,
            balance=points,
            lifetime_points=points,
            sequence=sequence,
            changed_at=datetime.now(UTC),
        ),
        tenant_id=tenant_id,
        mode=mode,  # type: ignore[arg-type]
    )


def program_updated(p: Program, mode: str = "live") -> Envelope[Program]:
    return new_envelope(PROGRAM_UPDATED, p, tenant_id=p.tenant_id, mode=mode)  # type: ignore[arg-type]


async def apply(settings: Settings, *events: Envelope[Any]) -> None:
    """Apply events through the real handlers, each in its own transaction (as the inbox does)."""
    engine = make_engine(settings.database_url, pool_size=2)
    sessions = make_sessionmaker(engine)
    try:
        for event in events:
            async with sessions() as db, db.begin():
                if event.type == PROGRAM_UPDATED:
                    await on_program_updated(settings)(db, event)
                else:
                    await on_member_event(db, event)
    finally:
        await engine.dispose()


async def publish(amqp_url: str, topology: Topology, *events: Envelope[Any]) -> None:
    """What the ledger's and tenant's relays do: persistent messages on the events exchange."""
    connection = await aio_pika.connect(amqp_url)
    try:
        channel = await connection.channel(publisher_confirms=True)
        exchange = await topology.declare_exchange(channel)
        for event in events:
            await exchange.publish(
                aio_pika.Message(
                    body=encode_envelope(event),
                    message_id=str(event.id),
                    type=event.type,
                    content_type="application/json",
                    delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
                ),
                routing_key=event.type,
            )
    finally:
        await connection.close()


def reissued(
    tenant_id: uuid.UUID, member_id: uuid.UUID, card_token: str, mode: str = "live"
) -> Envelope[Any]:
    from nujoomy_contracts.ledger import CARD_REISSUED, CardReissued

    return new_envelope(
        CARD_REISSUED,
        CardReissued(member_id=member_id, card_token=card_token),
        tenant_id=tenant_id,
        mode=mode,  # type: ignore[arg-type]
    )
