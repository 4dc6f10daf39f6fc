"""Apple passes built and signed per second on one core (images cached), beside py-pkpass (PyPI)
building the same store card with the same images and certificates in the same run."""

from __future__ import annotations

import argparse
import io
import tempfile
import time
from pathlib import Path

from bench.report import table

NAME = "wallet_pass"
DESCRIPTION = "passes built+signed per second, nujoomy vs py-pkpass, one core"


def _content(credentials: object, i: int) -> object:
    from nujoomy_wallet_pass.domain.passjson import PassContent

    return PassContent(
        serial=f"pas_{i:022d}",
        authentication_token="t" * 32,
        card_token=f"NJ1-{i:020d}",
        balance=100 + i,
        mode="live",
        pass_type_id=credentials.pass_type_id,  # type: ignore[attr-defined]
        team_id=credentials.team_id,  # type: ignore[attr-defined]
        organization_name="Café Noor",
        web_service_url="https://wallet.nujoomy.dev/apple",
        program_name="Café Noor Club",
        member_name="Lina",
        terms="Points never expire.",
        contact_email="hello@cafe-noor.example",
    )


def _peer_pass(pj: dict, images: dict[str, bytes]) -> object:  # type: ignore[type-arg]
    from py_pkpass.models import Barcode, BarcodeFormat, Pass, StoreCard

    card = StoreCard()
    for field in pj["storeCard"]["primaryFields"]:
        card.addPrimaryField(field["key"], field["value"], field["label"])
    for field in pj["storeCard"]["secondaryFields"]:
        card.addSecondaryField(field["key"], field["value"], field["label"])
    for field in pj["storeCard"]["backFields"]:
        card.addBackField(field["key"], field["value"], field["label"])
    p = Pass(
        card,
        passTypeIdentifier=pj["passTypeIdentifier"],
        organizationName=pj["organizationName"],
        teamIdentifier=pj["teamIdentifier"],
    )
    p.serialNumber = pj["serialNumber"]
    p.description = pj["description"]
    p.backgroundColor, p.foregroundColor, p.labelColor = (
        pj["backgroundColor"],
        pj["foregroundColor"],
        pj["labelColor"],
    )
    p.webServiceURL, p.authenticationToken = pj["webServiceURL"], pj["authenticationToken"]
    p.barcodes = [Barcode(message=pj["barcodes"][0]["message"], format=BarcodeFormat.QR)]
    for name, data in images.items():
        p.addFile(f"{name}.png", io.BytesIO(data))
    return p


def run(args: argparse.Namespace) -> None:
    from nujoomy_wallet_pass import devcerts
    from nujoomy_wallet_pass.credentials import load_credentials
    from nujoomy_wallet_pass.domain.passjson import store_card
    from nujoomy_wallet_pass.images import default_images
    from nujoomy_wallet_pass.pkpass import build_pkpass, prepare_images
    from nujoomy_wallet_pass.settings import load

    seconds = 2.0 if args.quick else 10.0
    with tempfile.TemporaryDirectory() as tmp:
        material = devcerts.generate(Path(tmp))
        settings = load(devcerts.wallet_env(material, "https://x", "https://x", "https://x"))
        credentials = load_credentials(settings)
        from PIL import Image

        strip = io.BytesIO()
        Image.new("RGB", (750, 246), (10, 125, 79)).save(strip, "PNG")
        images = {**default_images(None), "strip@2x": strip.getvalue()}

        prepared = prepare_images(images)  # what the service caches per branding version

        def ours(i: int) -> bytes:
            return build_pkpass(store_card(_content(credentials, i)), prepared, credentials)  # type: ignore[arg-type]

        def peer(i: int) -> bytes:
            pj = store_card(_content(credentials, i))  # type: ignore[arg-type]
            out = _peer_pass(pj, images).create(  # type: ignore[attr-defined]
                str(material / "pass.pem"), str(material / "pass.key"), str(material / "wwdr.pem"), ""
            )
            return bytes(out.getvalue())

        def peer_cached_key(i: int) -> bytes:
            # py-pkpass re-reads and re-parses the key and certificates for every pass; parsing an RSA
            # key (with cryptography's consistency check) is most of its cost. This row hands it the
            # already-parsed objects, to compare the building and signing alone.
            import py_pkpass.models as peer_models

            real_load = peer_models.load_pem_private_key
            peer_models.load_pem_private_key = lambda *_a, **_k: credentials.key  # type: ignore[assignment]
            try:
                return peer(i)
            finally:
                peer_models.load_pem_private_key = real_load

        rows = []
        for label, build in (
            ("nujoomy (cryptography, cached images)", ours),
            ("py-pkpass 1.0.2 (as shipped)", peer),
            ("py-pkpass 1.0.2 (key parse excluded)", peer_cached_key),
        ):
            build(0)  # warm-up
            count, started = 0, time.perf_counter()
            while time.perf_counter() - started < seconds:
                build(count)
                count += 1
            elapsed = time.perf_counter() - started
            rows.append(
                (label, count, f"{elapsed:.1f}", f"{count / elapsed:.0f}", f"{elapsed / count * 1000:.2f}")
            )
        table(["builder", "passes", "seconds", "passes/s", "ms/pass"], rows)
        for row in rows[1:]:
            print(f"nujoomy / {row[0]} = {float(rows[0][3]) / float(row[3]):.1f}x")
        print("goal: >= 500 passes/s and >= 2x the peer")
