"""Branding images: PNG/JPEG by their bytes, a size limit, the Apple and Google variants made once,
served content-addressed and immutable, and announced in the program event."""

from __future__ import annotations

import hashlib
import io
import os

from litestar.testing import AsyncTestClient
from nujoomy_contracts.tenant import PROGRAM_UPDATED
from PIL import Image
from tenant_helpers import Business, bearer, clear_outbox, outbox_events, owner_headers, staff_session

Client = AsyncTestClient  # type: ignore[type-arg]


def picture(
    fmt: str, size: tuple[int, int] = (400, 200), colour: tuple[int, int, int] = (200, 30, 30)
) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, colour).save(buffer, format=fmt)
    return buffer.getvalue()


def size_of(data: bytes) -> tuple[int, int]:
    with Image.open(io.BytesIO(data)) as image:
        assert image.format == "PNG"
        return image.size


async def test_a_logo_upload_makes_every_variant_once_and_serves_them_immutable(
    client: Client, acme: Business, db_url: str
) -> None:
    headers = await owner_headers(client, acme)
    before = (await client.get("/internal/v1/program", headers=headers)).json()
    await clear_outbox(db_url)
    # Declared as something else: the bytes decide, not the Content-Type.
    response = await client.post(
        "/internal/v1/branding/logo",
        content=picture("JPEG"),
        headers={**headers, "Content-Type": "application/octet-stream"},
    )
    assert response.status_code == 201, response.text
    uploaded = response.json()
    assert uploaded["program_version"] == before["version"] + 1
    assert uploaded["branding_version"] != before["branding"]["version"]

    images = uploaded["images"]
    expected = {
        "icon": (29, 29), "icon@2x": (58, 58), "icon@3x": (87, 87),
        "logo": (100, 50), "logo@2x": (200, 100), "logo@3x": (300, 150),
        "google_logo": (660, 660),
    }  # fmt: skip
    for name, size in expected.items():
        served = await client.get(images[name])
        assert served.status_code == 200
        assert served.headers["content-type"] == "image/png"
        assert "immutable" in served.headers["cache-control"]
        assert size_of(served.content) == size, name
        assert images[name] == f"/assets/{hashlib.sha256(served.content).hexdigest()}.png"

    events = await outbox_events(db_url, PROGRAM_UPDATED)
    assert len(events) == 2
    assert {e["mode"] for e in events} == {"live", "test"}
    assert events[0]["data"]["branding"]["images"]["logo@2x"] == images["logo@2x"]

    # The same image again: same names (content-addressed), nothing new to render downstream.
    again = (await client.post("/internal/v1/branding/logo", content=picture("JPEG"), headers=headers)).json()
    assert again["images"] == images
    assert again["branding_version"] == uploaded["branding_version"]


async def test_a_strip_is_cropped_to_375_by_123_points(client: Client, acme: Business) -> None:
    headers = await owner_headers(client, acme)
    response = await client.post(
        "/internal/v1/branding/strip", content=picture("PNG", (1000, 1000)), headers=headers
    )
    assert response.status_code == 201, response.text
    images = response.json()["images"]
    for name, size in {"strip": (375, 123), "strip@2x": (750, 246), "strip@3x": (1125, 369)}.items():
        assert size_of((await client.get(images[name])).content) == size
    # The logo variants (none yet) are not touched by a strip upload, and vice versa.
    assert "logo" not in images
    logo = (await client.post("/internal/v1/branding/logo", content=picture("PNG"), headers=headers)).json()
    assert logo["images"]["strip@2x"] == images["strip@2x"]


async def test_bad_images_are_refused(client: Client, acme: Business) -> None:
    cases = [
        (b"GIF89a" + os.urandom(200), 415, "invalid_image"),
        (b"<svg xmlns='http://www.w3.org/2000/svg'/>", 415, "invalid_image"),
        (picture("PNG")[:60], 415, "invalid_image"),  # truncated
        (picture("PNG", (8, 8)), 415, "invalid_image"),  # too small to be a logo
        (picture("GIF"), 415, "invalid_image"),
        (b"\x89PNG" + os.urandom(2 * 1024 * 1024 + 10), 413, "image_too_large"),
    ]
    headers = await owner_headers(client, acme)
    for body, status, code in cases:
        response = await client.post("/internal/v1/branding/logo", content=body, headers=headers)
        assert response.status_code == status, response.text
        assert response.json()["code"] == code
    program = (await client.get("/internal/v1/program", headers=headers)).json()
    assert program["branding"]["images"] == {}


async def test_only_managers_upload_and_unknown_assets_are_404(client: Client, acme: Business) -> None:
    assert (await client.post("/internal/v1/branding/logo", content=picture("PNG"))).status_code == 401
    assert (await client.get(f"/assets/{'0' * 64}.png")).status_code == 404
    assert (await client.get("/assets/../../etc/passwd")).status_code == 404


async def test_removing_the_logo_is_a_branding_version_and_keeps_the_strip(
    client: Client, acme: Business, db_url: str
) -> None:
    headers = await owner_headers(client, acme)
    strip = (await client.post("/internal/v1/branding/strip", content=picture("PNG"), headers=headers)).json()
    logo = (await client.post("/internal/v1/branding/logo", content=picture("PNG"), headers=headers)).json()
    await clear_outbox(db_url)

    removed = await client.delete("/internal/v1/branding/logo", headers=headers)
    assert removed.status_code == 200, removed.text
    program = removed.json()
    assert set(program["branding"]["images"]) == set(strip["images"]), "only the strip is left"
    assert program["version"] == logo["program_version"] + 1
    assert program["branding"]["version"] == strip["branding_version"], "it looks as it did before the logo"
    events = await outbox_events(db_url, PROGRAM_UPDATED)
    assert {e["mode"] for e in events} == {"live", "test"}
    assert len(events) == 2
    assert "logo" not in events[0]["data"]["branding"]["images"]

    # Nothing left to remove: nothing changes, nothing is published.
    again = await client.delete("/internal/v1/branding/logo", headers=headers)
    assert again.status_code == 200
    assert again.json()["version"] == program["version"]
    assert len(await outbox_events(db_url, PROGRAM_UPDATED)) == 2


async def test_staff_cannot_remove_the_logo(client: Client, acme: Business) -> None:
    headers = await owner_headers(client, acme)
    staff = await staff_session(client, headers["Authorization"].split()[1], acme.slug, "staff")
    refused = await client.delete("/internal/v1/branding/logo", headers=bearer(staff["access_token"]))
    assert refused.status_code == 403
    assert refused.json()["code"] == "forbidden"
