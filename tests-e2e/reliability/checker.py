"""The checker: what "nothing lost, nothing twice, the card is always right" means, measured from
outside the services — the ledger's database (the truth), the fakes (what Apple, Google and the
mail server received), the partner's receivers, the PassKit web service and the dead-letter queues.

`lost` counts things that should have happened and did not (yet): a balance change no device was
pushed after, a pass or Google object showing another balance, an event a webhook endpoint never
got, an e-mail the notification service says it sent that the sink never received, a row still in
an outbox. `duplicates` counts double effects: a webhook-id answered 2xx twice, one transaction
turned into two webhook events, one e-mail (Message-ID) received twice, one external id enrolled
twice. Both must reach 0; `lost` is polled until it does (the time to converge).

One exception, and only in a phase that SIGKILLs workers or takes their database away: a webhook-id
answered 2xx twice. A worker killed (or whose database went away) after the partner answered but
before the outcome is committed cannot record that the partner has it, so the delivery is sent again
when its lease ends — under the same webhook-id, which is what Standard Webhooks tells receivers to
deduplicate on (at-least-once; no HTTP sender can do better across a crash). Those ids go to
`resent` and the phase reports them; outside those phases a re-sent id is a duplicate. The same
event under two different webhook-ids is always one.
"""

from __future__ import annotations

import asyncio
import io
import json
import zipfile
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import asyncpg
import httpx
from nujoomy_kit.db import plain_url
from nujoomy_kit.ids import encode_id
from nujoomy_messaging import deadletters

from .journey import Journey
from .receiver import Receiver
from .stack import CHECKER_APP

CONSUMERS = {
    "tenant": "nujoomy_tenant.events.consumers",
    "ledger": "nujoomy_ledger.events.consumers",
    "wallet-pass": "nujoomy_wallet_pass.events.consumers",
    "notification": "nujoomy_notification.events.consumers",
    "partner-gateway": "nujoomy_partner_gateway.events.consumers",
}


@dataclass
class Report:
    lost: Counter[str] = field(default_factory=Counter)
    duplicates: Counter[str] = field(default_factory=Counter)
    facts: dict[str, Any] = field(default_factory=dict)
    resent: set[str] = field(default_factory=set)  # webhook-ids answered 2xx more than once
    unsound: list[str] = field(default_factory=list)  # a broken invariant: fails at once

    @property
    def converged(self) -> bool:
        return not self.unsound and sum(self.lost.values()) == 0


async def _fetch(url: str, sql: str, *args: Any) -> list[asyncpg.Record]:
    conn = await asyncpg.connect(plain_url(url), server_settings={"application_name": CHECKER_APP})
    try:
        return list(await conn.fetch(sql, *args))
    finally:
        await conn.close()


async def _ledger(journey: Journey, report: Report) -> tuple[dict[str, int], dict[str, float], set[str]]:
    db = journey.system.databases["ledger"]
    unbalanced = await _fetch(
        db, "SELECT tenant_id, mode FROM postings GROUP BY 1, 2 HAVING sum(amount) <> 0"
    )
    negative = await _fetch(db, "SELECT account_id FROM balances WHERE balance < 0")
    if unbalanced:
        report.unsound.append(f"{len(unbalanced)} ledgers do not sum to zero")
    if negative:
        report.unsound.append(f"{len(negative)} negative balances")
    rows = await _fetch(
        db,
        "SELECT m.id, m.external_id, b.balance, (SELECT extract(epoch FROM max(t.created_at))"
        " FROM transactions t WHERE t.member_id = m.id) AS last_change"
        " FROM members m JOIN accounts a ON a.member_id = m.id JOIN balances b ON b.account_id = a.id",
    )
    balances = {encode_id("mbr", r["id"]): int(r["balance"]) for r in rows}
    last = {encode_id("mbr", r["id"]): float(r["last_change"] or 0) for r in rows}
    twice = [e for e, n in Counter(r["external_id"] for r in rows).items() if e and n > 1]
    report.duplicates["members enrolled twice"] += len(twice)
    txns = {encode_id("txn", r["id"]) for r in await _fetch(db, "SELECT id FROM transactions")}
    report.facts["transactions"] = len(txns)
    report.facts["members"] = len(balances)
    return balances, last, txns


async def _outboxes(journey: Journey, report: Report) -> None:
    for service, db in journey.system.databases.items():
        left = await _fetch(db, "SELECT count(*) AS n FROM outbox")
        report.lost[f"outbox {service}"] += int(left[0]["n"])


def _balance(pass_bytes: bytes) -> int:
    with zipfile.ZipFile(io.BytesIO(pass_bytes)) as zf:
        pass_json = json.loads(zf.read("pass.json"))
    return int(pass_json["storeCard"]["primaryFields"][0]["value"])


async def _wallets(
    journey: Journey, report: Report, balances: dict[str, int], last: dict[str, float], gone: set[str]
) -> None:
    system = journey.system
    async with (
        httpx.AsyncClient(base_url=system.urls["wallet-pass"], timeout=30) as wallet,
        httpx.AsyncClient(timeout=30) as http,
    ):
        pushes: dict[str, list[float]] = {}
        for p in (await http.get(f"{system.fakes['apns-control']}/pushes")).json()["pushes"]:
            pushes.setdefault(p["token"], []).append(float(p["at"]))
        for member in journey.members:
            want = balances.get(member.id)
            auth = {"Authorization": f"ApplePass {member.auth}"}
            fetched = await wallet.get(f"/apple/v1/passes/{member.pass_type}/{member.serial}", headers=auth)
            if fetched.status_code != 200 or _balance(fetched.content) != want:
                report.lost["pass shows another balance"] += 1
            for device in member.devices:
                listed = await wallet.get(
                    f"/apple/v1/devices/{device.device}/registrations/{member.pass_type}"
                )
                registered = listed.status_code == 200 and member.serial in listed.json()["serialNumbers"]
                if device.token in gone:
                    # APNs said 410: the registration must be gone, and nothing more is owed to it.
                    report.lost["410 device still registered"] += int(registered)
                    continue
                if not registered:
                    report.unsound.append(f"device {device.device} lost its registration")
                # A change before the device registered is in the pass it fetched then; one after
                # is owed a push. (A member enrolled during a fault may get no change in its phase.)
                changed = last.get(member.id, 0)
                at = pushes.get(device.token, [])
                if changed > device.registered_at and (not at or max(at) < changed):
                    report.lost["device not pushed after last change"] += 1
            obj = await http.get(f"{system.fakes['google']}/fake/objects/{member.google_object}")
            got = (
                obj.json().get("loyaltyPoints", {}).get("balance", {}).get("int")
                if obj.status_code == 200
                else None
            )
            if got != want:
                report.lost["Google object shows another balance"] += 1
        report.facts["apns pushes"] = sum(len(v) for v in pushes.values())


def _webhooks(
    receivers: dict[str, Receiver],
    report: Report,
    balances: dict[str, int],
    txns: set[str],
    excused: set[str] | None,
) -> None:
    for name, receiver in receivers.items():
        ok = list(receiver.ok)
        per_id = Counter(wid for wid, _, _ in ok)
        resent = {f"{name}:{wid}" for wid, n in per_id.items() if n > 1}
        report.resent |= resent
        if excused is not None:  # None: a kill phase, where a same-id re-send is allowed
            report.duplicates[f"webhook-id 2xx twice ({name})"] += len(resent - excused)
        ids_per_txn: dict[str, set[str]] = {}
        members: set[str] = set()
        for wid, type_, data in ok:
            if "transaction" in data:
                ids_per_txn.setdefault(data["transaction"]["id"], set()).add(wid)
            elif type_ == "member.enrolled":
                members.add(data["member"]["id"])
        report.duplicates[f"transaction in two webhook events ({name})"] += sum(
            1 for ids in ids_per_txn.values() if len(ids) > 1
        )
        report.lost[f"webhook event missing ({name})"] += len(txns - set(ids_per_txn)) + len(
            set(balances) - members
        )
        report.facts[f"webhooks {name}"] = len(per_id)


async def _mail(journey: Journey, report: Report) -> None:
    async with httpx.AsyncClient(timeout=30) as http:
        got = (await http.get(f"{journey.system.fakes['smtp-http']}/messages")).json()
    # The sink knows a message by the Message-ID header, which is also what notification records.
    ids = [m["headers"].get("Message-ID", "") for m in got]
    await _delivered(journey, report, "email", ("e-mail", "e-mails"), list(zip(ids, ids, strict=True)))


async def _sms(journey: Journey, report: Report) -> None:
    async with httpx.AsyncClient(timeout=30) as http:
        got = (await http.get(f"{journey.system.fakes['sms']}/messages")).json()
    # The provider knows an SMS by our reference (the message id) and answers with its own id.
    await _delivered(journey, report, "sms", ("SMS", "SMS"), [(m["reference"], m["id"]) for m in got])


async def _delivered(
    journey: Journey,
    report: Report,
    channel: str,
    names: tuple[str, str],
    received: list[tuple[str, str]],
) -> None:
    """What the outside world received — (our message's key, the provider's id) each — against what
    notification recorded for `channel`: none twice, every sent one received, none still queued
    (bar quiet hours, which the suite turns off and only reports), none failed for good."""
    one, many = names
    keys = Counter(key for key, _ in received)
    report.duplicates[f"{one} received twice"] += sum(1 for n in keys.values() if n > 1)
    rows = await _fetch(
        journey.system.databases["notification"],
        "SELECT status, provider_id, reason FROM messages WHERE channel = $1",
        channel,
    )
    sent = {r["provider_id"] for r in rows if r["status"] == "sent"}
    queued = [r for r in rows if r["status"] == "queued"]
    deferred = sum(1 for r in queued if r["reason"] == "quiet_hours")
    report.lost[f"{one} not sent yet"] += len(queued) - deferred
    report.facts[f"{many} deferred"] = deferred
    report.lost[f"{one} sent but not received"] += len(sent - {pid for _, pid in received})
    failed = sum(1 for r in rows if r["status"] == "failed")
    if failed:
        report.unsound.append(f"{failed} {many} failed for good")
    report.facts[many] = len(received)


async def dead_letters(journey: Journey) -> dict[str, int]:
    import importlib

    system = journey.system
    counts = {}
    for _service, module in CONSUMERS.items():
        for consumer in importlib.import_module(module).CONSUMER_NAMES:
            counts[consumer] = await deadletters.count(system.amqp_url, system.topology, consumer)
    return counts


async def check(
    journey: Journey, receivers: dict[str, Receiver], gone: set[str], excused: set[str] | None
) -> Report:
    """`excused`: webhook-ids re-sent after an earlier SIGKILL, or None in a phase that kills
    (see the module's docstring)."""
    report = Report()
    balances, last, txns = await _ledger(journey, report)
    await _outboxes(journey, report)
    await _wallets(journey, report, balances, last, gone)
    _webhooks(receivers, report, balances, txns, excused)
    await _mail(journey, report)
    await _sms(journey, report)
    letters = await dead_letters(journey)
    report.facts["dead letters"] = {k: v for k, v in letters.items() if v}
    return report


async def converge(
    journey: Journey,
    receivers: dict[str, Receiver],
    gone: set[str],
    timeout: float,
    excused: set[str] | None,
) -> tuple[Report, float, Counter[str]]:
    """Poll the checker until nothing is lost (or `timeout`). Returns the last report, the wait, and
    for each kind of lag how many polls it was still outstanding in (what the convergence waited on)."""
    loop = asyncio.get_running_loop()
    started = loop.time()
    waited: Counter[str] = Counter()
    while True:
        report = await check(journey, receivers, gone, excused)
        if report.converged or report.unsound or loop.time() - started > timeout:
            return report, loop.time() - started, waited
        waited.update(k for k, v in report.lost.items() if v)
        await asyncio.sleep(1.0)
