"""The load generator: the full journey a tenant's customers and partners make, over HTTP only.

Setup (once): the demo tenant as `make up` seeds it, its owner and barista signed in through the
tenant service, a test-mode partner API key, two webhook endpoints (local receivers, the partner's
side), members enrolled through the partner API (with e-mail consent, so welcome and points mails
go out), each member's pass downloaded and one or two iPhones registered with the PassKit web
service (push tokens the APNs fake knows), each Google object id read from the save link.

Load (per fault): earn, redeem and reverse through the partner API (requests alternate between the
two gateway replicas; a retry keeps its Idempotency-Key) and through the staff API (the ledger's
/staff/v1, with the barista's token), plus a few enrolments. A request that fails is retried with
the same key, as a client would; every failure is counted by what it was.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import itertools
import json
import secrets
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import httpx

from ..gateway_limits import raise_limits  # noqa: TID252
from .stack import LONG, System

RETRIES = 200  # a client keeps trying through the longest outage (with RETRY_PAUSE between)
RETRY_PAUSE = 0.5
_PHONES = itertools.count(secrets.randbelow(9_000_000))  # consecutive numbers from a random start


@dataclass
class Device:
    device: str
    token: str
    # When its registration was answered (this host's clock, as the ledger's and the APNs fake's):
    # Wallet fetches the pass on registering, so only a later change owes the device a push.
    registered_at: float = 0.0


@dataclass
class Member:
    id: str
    serial: str = ""
    pass_type: str = ""
    auth: str = ""
    google_object: str = ""
    devices: list[Device] = field(default_factory=list)
    earns: list[str] = field(default_factory=list)  # transaction ids a reverse may pick


@dataclass
class Tally:
    requests: int = 0
    failed: Counter[str] = field(default_factory=Counter)


@dataclass
class Journey:
    system: System
    partner_key: str
    staff_token: str
    owner_token: str
    tenant_id: str = ""  # ten_…
    members: list[Member] = field(default_factory=list)
    tally: Tally = field(default_factory=Tally)
    _n: int = 0
    _signing_in: asyncio.Lock = field(default_factory=asyncio.Lock)

    def internal_token(self) -> str:
        """What notification sends when it asks wallet-pass for the links (its dev key pair)."""
        from nujoomy_kit.ids import decode_id
        from nujoomy_kit.settings import read_pem
        from nujoomy_kit.tokens import InternalTokenIssuer

        issuer = InternalTokenIssuer(
            read_pem(self.system.env["NUJOOMY_NOTIFICATION_INTERNAL_PRIVATE_KEY"]), subject="notification"
        )
        return issuer.issue(
            decode_id("ten", self.tenant_id), "test", to="wallet-pass", scopes=("members:read",)
        )

    def _next(self) -> int:
        self._n += 1
        return self._n

    async def request(
        self, method: str, url: str, *, json_body: Any = None, headers: dict[str, str] | None = None
    ) -> httpx.Response | None:
        """One logical request, retried (same body, same idempotency key) until it is answered with
        anything but a 5xx, 429 or 409-in-flight."""
        async with httpx.AsyncClient(timeout=30) as http:
            for _ in range(RETRIES):
                self.tally.requests += 1
                try:
                    r = await http.request(method, url, json=json_body, headers=headers)
                except httpx.HTTPError as exc:
                    self.tally.failed[type(exc).__name__] += 1
                    await asyncio.sleep(RETRY_PAUSE)
                    continue
                if r.status_code < 500 and r.status_code not in (409, 429):
                    return r
                code = ""
                if r.headers.get("content-type", "").startswith("application/problem+json"):
                    code = f" {r.json().get('code', '')}"
                self.tally.failed[f"{r.status_code}{code}"] += 1
                await asyncio.sleep(RETRY_PAUSE)
        return None

    def _gateway(self, n: int) -> str:
        return self.system.gateways[n % 2]

    async def partner(
        self, method: str, path: str, body: Any, key: str | None = None
    ) -> httpx.Response | None:
        n = self._next()
        headers = {"Authorization": f"Bearer {self.partner_key}"}
        if key:
            headers["Idempotency-Key"] = key
        return await self.request(method, f"{self._gateway(n)}{path}", json_body=body, headers=headers)

    async def staff(self, path: str, body: Any) -> httpx.Response | None:
        for _ in range(2):
            token = self.staff_token
            headers = {"Authorization": f"Bearer {token}", "Nujoomy-Mode": "test"}
            r = await self.request(
                "POST", f"{self.system.urls['ledger']}/staff/v1{path}", json_body=body, headers=headers
            )
            if r is None or r.status_code != 401:
                return r
            # The access token lives 15 min and a long run takes longer: the barista signs in again,
            # as the app does with its refresh token — once, however many requests met the expiry.
            self.tally.failed["401 token expired"] += 1
            async with self._signing_in:
                if self.staff_token == token:
                    self.staff_token = await _sign_in(self.system, STAFF_LOGIN)
        return r

    # -- the journey ---------------------------------------------------------------------------

    async def enrol(self, tag: str, devices: int = 1) -> Member:
        external = f"{tag}-{secrets.token_hex(4)}"
        body = {
            "name": f"M {external}",
            "email": f"{external}@example.com",
            "consent_email": True,
            "external_id": external,
        }
        if len(self.members) % 2:  # every other member also takes SMS (to the SMS provider fake)
            # A real UK mobile range (the ledger refuses numbers that are not one) and a different
            # number per member: one phone is one member.
            body |= {"phone": f"+44740{next(_PHONES) % 10**7:07d}", "consent_sms": True}
        r = await self.partner("POST", "/v1/members", body, key=f"enrol-{external}")
        assert r is not None, "no answer to an enrolment"
        assert r.status_code == 201, r.text
        found = r.json()
        member = Member(found["id"])
        wallet = self.system.urls["wallet-pass"]
        async with httpx.AsyncClient(base_url=wallet, timeout=30) as http:
            links = found
            for _ in range(60):  # the links come from wallet-pass, which may be mid-fault
                if links.get("apple_pass_url") and links.get("google_save_url"):
                    break
                await asyncio.sleep(0.5)
                got = await self.partner("GET", f"/v1/members/{member.id}", None)
                links = got.json() if got is not None and got.status_code == 200 else {}
                if not links.get("apple_pass_url"):
                    internal = await self.request(
                        "GET",
                        f"{wallet}/internal/v1/members/{member.id}/links",
                        headers={"Authorization": f"Bearer {self.internal_token()}"},
                    )
                    links = internal.json() if internal is not None and internal.status_code == 200 else {}
            assert links.get("apple_pass_url"), f"no wallet links for {member.id}: {links}"
            member.google_object = _google_object(links["google_save_url"])
            # 404 until wallet-pass has the member: an event away, which under the combined long faults
            # (broker, workers, their retry ladder) took more than the 100 s a request retries for.
            deadline = time.monotonic() + (900 if LONG else 300)
            while time.monotonic() < deadline:
                with contextlib.suppress(httpx.HTTPError):
                    download = await http.get(_path(links["apple_pass_url"]))
                    if download.status_code == 200:
                        break
                await asyncio.sleep(RETRY_PAUSE)
            download.raise_for_status()
            pass_json = _read_pass(download.content)
            member.serial, member.pass_type = pass_json["serialNumber"], pass_json["passTypeIdentifier"]
            member.auth = pass_json["authenticationToken"]
            for _ in range(devices):
                device = Device(secrets.token_hex(16), secrets.token_hex(32))
                # Wallet retries a registration the web service could not take (e.g. 503 while a
                # database is away); registering again answers 200.
                registered = await self.request(
                    "POST",
                    f"{wallet}/apple/v1/devices/{device.device}/registrations/{member.pass_type}/{member.serial}",
                    json_body={"pushToken": device.token},
                    headers={"Authorization": f"ApplePass {member.auth}"},
                )
                assert registered is not None, f"no answer to a device registration for {member.id}"
                assert registered.status_code in (200, 201), registered.text
                device.registered_at = time.time()
                member.devices.append(device)
        self.members.append(member)
        return member

    async def round(self, phase: str, i: int, member: Member) -> None:
        """One member's share of a load round: earns and a redeem through both APIs, a reverse."""
        key = f"{phase}-{i}-{member.id}"
        earned = await self.partner("POST", f"/v1/members/{member.id}/earn", {"points": 7}, key=f"{key}-pe")
        if earned is not None and earned.status_code == 200:
            member.earns.append(earned.json()["transaction"]["id"])
        staff_earn = await self.staff(
            "/earn", {"member_id": member.id, "points": 5, "idempotency_key": f"{key}-se"}
        )
        if staff_earn is not None and staff_earn.status_code == 200:
            member.earns.append(staff_earn.json()["transaction"]["id"])
        if i % 2 == 1:
            await self.partner("POST", f"/v1/members/{member.id}/redeem", {"points": 4}, key=f"{key}-pr")
            await self.staff("/redeem", {"member_id": member.id, "points": 3, "idempotency_key": f"{key}-sr"})
        if i % 3 == 2 and member.earns:
            txn = member.earns.pop(0)
            if i % 2:
                await self.partner(
                    "POST", f"/v1/transactions/{txn}/reverse", {"reason": "refund"}, key=f"{key}-pv"
                )
            else:
                await self.staff("/reverse", {"transaction_id": txn, "idempotency_key": f"{key}-sv"})

    async def load(self, phase: str, rounds: int, seconds: float, enrolments: int = 1) -> None:
        """`rounds` rounds over every member, spread over `seconds`, and `enrolments` new members
        beside them (an enrolment waits for its pass, which a fault may hold up: the rounds must not
        wait with it)."""
        started = time.monotonic()
        joining = [asyncio.create_task(self.enrol(f"{phase}{i}")) for i in range(enrolments)]
        for i in range(rounds):
            await asyncio.gather(*(self.round(phase, i, m) for m in list(self.members)))
            pause = started + seconds * (i + 1) / rounds - time.monotonic()
            if pause > 0:
                await asyncio.sleep(pause)
        await asyncio.gather(*joining)


def _path(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def _read_pass(data: bytes) -> dict[str, Any]:
    import io
    import zipfile

    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        return json.loads(zf.read("pass.json"))  # type: ignore[no-any-return]


def _google_object(save_url: str) -> str:
    """The object id inside a "Save to Google Wallet" link's JWT (its payload, unverified: we only
    need the id to look the object up at the fake)."""
    token = save_url.rstrip("/").rsplit("/", 1)[1]
    payload = token.split(".")[1]
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    return str(claims["payload"]["loyaltyObjects"][0]["id"])


STAFF_LOGIN = "staff"


async def _login(system: System, who: str) -> dict[str, Any]:
    """Sign in as the demo tenant's owner or barista (the tenant service's password login)."""
    from nujoomy_tenant.demo import OWNER, SLUG, STAFF

    email, password = OWNER if who == "owner" else STAFF
    body = {"tenant": SLUG, "email": email, "password": password}
    async with httpx.AsyncClient(base_url=system.urls["tenant"], timeout=30) as http:
        # A barista signing in again mid-run may meet a fault (the tenant database away): retry.
        r: httpx.Response | None = None
        for _ in range(RETRIES):
            with contextlib.suppress(httpx.HTTPError):
                r = await http.post("/auth/login", json=body)
                if r.status_code < 500:
                    break
            await asyncio.sleep(RETRY_PAUSE)
    assert r is not None, "the tenant service never answered a sign-in"
    assert r.status_code == 200, r.text
    return dict(r.json())


async def _sign_in(system: System, who: str) -> str:
    return str((await _login(system, who))["access_token"])


async def start_journey(system: System, receivers: list[str], members: int) -> Journey:
    """Seed the demo tenant (as `make up` does), sign in, make a key and the webhook endpoints,
    enrol the first members."""
    from nujoomy_tenant.cli import seed_demo
    from nujoomy_tenant.settings import load as load_tenant

    await seed_demo(load_tenant(system.env), only_if_empty=True)
    owner_login = await _login(system, "owner")
    tokens = {"owner": str(owner_login["access_token"]), STAFF_LOGIN: await _sign_in(system, STAFF_LOGIN)}
    tenant_id = str(owner_login["tenant"]["id"])
    owner = {"Authorization": f"Bearer {tokens['owner']}", "Nujoomy-Mode": "test"}
    async with httpx.AsyncClient(base_url=system.gateways[0], timeout=30) as http:
        body = {"name": "chaos", "scopes": ["read", "write", "webhooks"]}
        made = await http.post("/internal/v1/api_keys", json=body, headers=owner)
        assert made.status_code == 201, made.text
        key = made.json()["secret"]
        gateway_db = system.env["NUJOOMY_PARTNER_GATEWAY_DATABASE_URL"]
        await raise_limits(gateway_db, key, rate=10000, burst=10000, max_in_flight=1000)
        for url in receivers:
            hook = await http.post(
                "/v1/webhook_endpoints",
                json={"url": url, "event_types": ["*"]},
                headers={"Authorization": f"Bearer {key}"},
            )
            assert hook.status_code == 201, hook.text
    journey = Journey(system, key, tokens[STAFF_LOGIN], tokens["owner"], tenant_id)
    # The program reaches the ledger and wallet-pass through the broker: enrolment waits for it.
    for i in range(members):
        await journey.enrol(f"m{i}", devices=2 if i % 3 == 0 else 1)
    return journey
