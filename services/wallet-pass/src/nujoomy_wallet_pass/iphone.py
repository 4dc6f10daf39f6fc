"""A script that plays an iPhone with Wallet: downloads the member's pass, registers with the
PassKit web service, waits for the APNs push (at the fake), asks which serials changed, fetches the
new pass and reports the balance — the whole update loop a real device runs."""

from __future__ import annotations

import io
import json
import secrets
import zipfile
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpx


@dataclass
class IphoneRun:
    serial: str
    balance_before: int
    balance_after: int
    device: str
    push_token: str


def read_pass(data: bytes) -> dict[str, Any]:
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        return json.loads(zf.read("pass.json"))  # type: ignore[no-any-return]


def _balance(pass_json: dict[str, Any]) -> int:
    return int(pass_json["storeCard"]["primaryFields"][0]["value"])


def _path(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


async def play_iphone(
    http: httpx.AsyncClient,
    apple_pass_url: str,
    wait_for_push: Callable[[str], Awaitable[None]],
    say: Callable[[str], None] = print,
) -> IphoneRun:
    """`http` talks to the wallet-pass service (its base URL); `wait_for_push(token)` returns once the
    APNs fake has delivered a push to that token."""
    download = await http.get(_path(apple_pass_url))
    download.raise_for_status()
    pass_json = read_pass(download.content)
    serial, pass_type = pass_json["serialNumber"], pass_json["passTypeIdentifier"]
    auth = {"Authorization": f"ApplePass {pass_json['authenticationToken']}"}
    base = _path(pass_json["webServiceURL"]).rstrip("/")
    before = _balance(pass_json)
    say(f"downloaded {serial}: balance {before}")
    device, push_token = secrets.token_hex(16), secrets.token_hex(32)
    registered = await http.post(
        f"{base}/v1/devices/{device}/registrations/{pass_type}/{serial}",
        json={"pushToken": push_token},
        headers=auth,
    )
    if registered.status_code not in (200, 201):
        raise RuntimeError(f"registration refused: {registered.status_code} {registered.text}")
    listed = await http.get(f"{base}/v1/devices/{device}/registrations/{pass_type}")
    tag = listed.json()["lastUpdated"] if listed.status_code == 200 else None
    modified = download.headers.get("last-modified")
    say(f"registered device {device}; waiting for a push (earn or redeem points now)…")
    await wait_for_push(push_token)
    say("push received; asking what changed")
    params = {"passesUpdatedSince": tag} if tag else {}
    changed = await http.get(f"{base}/v1/devices/{device}/registrations/{pass_type}", params=params)
    if changed.status_code == 204 or serial not in changed.json()["serialNumbers"]:
        raise RuntimeError("pushed, but the web service lists no updated pass")
    headers = {**auth, **({"If-Modified-Since": modified} if modified else {})}
    latest = await http.get(f"{base}/v1/passes/{pass_type}/{serial}", headers=headers)
    if latest.status_code != 200:
        raise RuntimeError(f"fetching the updated pass gave {latest.status_code}")
    after = _balance(read_pass(latest.content))
    say(f"updated pass: balance {before} → {after}")
    return IphoneRun(serial, before, after, device, push_token)


def control_waiter(
    control_url: str, timeout: float = 120.0, interval: float = 0.2
) -> Callable[[str], Awaitable[None]]:
    """Wait for a push by polling the APNs fake's control port (another process)."""
    import asyncio
    import time

    async def wait(token: str) -> None:
        deadline = time.monotonic() + timeout
        async with httpx.AsyncClient(base_url=control_url, timeout=5) as control:
            while time.monotonic() < deadline:
                pushes = (await control.get("/pushes", params={"token": token})).json()["pushes"]
                if pushes:
                    return
                await asyncio.sleep(interval)
        raise TimeoutError("no push arrived")

    return wait
