"""The published language: what another service (or an outside consumer with only this package)
relies on when it reads an event off the exchange."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime

import msgspec
import pytest
from nujoomy_contracts import ledger
from nujoomy_contracts.envelope import decode_envelope, encode_envelope, new_envelope
from nujoomy_contracts.registry import EVENT_TYPES, UnknownEvent, data_type, decode_data

TENANT = uuid.UUID("0190f000-0000-7000-8000-0000000000c1")
ROUTING_KEY = re.compile(r"^(tenant|ledger|wallet|partner)\.[a-z_]+\.[a-z_]+$")


@pytest.mark.parametrize(("event_type", "version"), sorted(EVENT_TYPES))
def test_every_event_type_is_a_routing_key_with_a_documentable_payload(event_type: str, version: int) -> None:
    assert ROUTING_KEY.match(event_type), event_type
    assert version >= 1
    schema = msgspec.json.schema(data_type(event_type, version))
    assert schema["$ref"].startswith("#/$defs/")  # docs/events.md is generated from these


def test_an_event_survives_the_wire_as_the_consumer_decodes_it() -> None:
    posted = ledger.TransactionPosted(
        transaction_id=uuid.uuid4(),
        member_id=uuid.uuid4(),
        kind="earn",
        points=12,
        balance_after=112,
        reference="order-7",
        amount="12.50",
        currency="EUR",
        posted_at=datetime(2026, 12, 7, 10, 0, tzinfo=UTC),
    )
    envelope = new_envelope(ledger.TRANSACTION_POSTED, posted, tenant_id=TENANT, mode="test")
    raw = decode_envelope(encode_envelope(envelope))
    assert (raw.id, raw.type, raw.version, raw.tenant_id, raw.mode) == (
        envelope.id,
        ledger.TRANSACTION_POSTED,
        1,
        TENANT,
        "test",
    )
    assert decode_data(raw.type, raw.version, raw.data) == posted


def test_ids_are_uuid7_in_time_order_so_they_sort_as_they_happened() -> None:
    ids = [
        new_envelope(
            ledger.MEMBER_ERASED, ledger.MemberErased(member_id=TENANT), tenant_id=TENANT, mode="live"
        ).id
        for _ in range(50)
    ]
    assert all(i.version == 7 for i in ids)
    assert [i.bytes[:6] for i in ids] == sorted(i.bytes[:6] for i in ids)


def test_an_unknown_type_or_version_is_named_not_guessed() -> None:
    with pytest.raises(UnknownEvent, match=re.escape("ledger.transaction.posted v2")):
        decode_data(ledger.TRANSACTION_POSTED, 2, b"{}")
    with pytest.raises(UnknownEvent):
        data_type("ledger.nothing.happened")


def test_a_payload_missing_a_required_field_is_refused() -> None:
    with pytest.raises(msgspec.ValidationError, match="balance_after"):
        decode_data(
            ledger.TRANSACTION_POSTED,
            1,
            msgspec.json.encode(
                {
                    "transaction_id": str(uuid.uuid4()),
                    "member_id": str(uuid.uuid4()),
                    "kind": "earn",
                    "points": 1,
                    "posted_at": "2026-12-07T10:00:00Z",
                }
            ),
        )
