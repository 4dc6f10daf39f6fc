"""Google no longer knowing a loyalty class (deleted, or a new issuer account) or an object: the
sync sends the class from the program and the whole object again, so members keep getting cards and
balances; and the local Google fake keeps what Google keeps across its own restarts."""

from __future__ import annotations

import uuid
from pathlib import Path

from nujoomy_testing.servers import served
from nujoomy_wallet_pass.domain.links import google_object_id
from nujoomy_wallet_pass.fakes.google import GoogleFakeState, build_fake_app
from nujoomy_wallet_pass.google import GoogleClient, ServiceAccount
from nujoomy_wallet_pass.settings import Settings
from nujoomy_wallet_pass.worker import build_runner
from wallet_pass_helpers import apply, balance, enrolled, program, program_updated

TENANT = uuid.UUID("0190f000-0000-7000-8000-00000000a0f1")
PROGRAM = uuid.UUID("0190f000-0000-7000-8000-00000000b0f1")


async def test_after_google_forgets_the_class_new_and_existing_members_still_get_their_cards(
    settings: Settings, google: tuple[GoogleFakeState, str]
) -> None:
    state, _ = google
    first, second = uuid.uuid4(), uuid.uuid4()
    await apply(settings, program_updated(program(TENANT, PROGRAM)), enrolled(TENANT, first, PROGRAM))
    runner = build_runner(settings)
    try:
        assert runner.google_runner is not None
        await runner.google_runner.run_until_idle()
        assert len(state.stores["loyaltyClass"]) == 1
        # Google forgets everything it held for this issuer; the service still believes it is there.
        state.stores["loyaltyClass"].clear()
        state.objects().clear()
        await apply(settings, enrolled(TENANT, second, PROGRAM), balance(TENANT, first, 40, 1))
        await runner.google_runner.run_until_idle()
    finally:
        await runner.aclose()
    assert len(state.stores["loyaltyClass"]) == 1
    objects = state.objects()
    new = objects[google_object_id(settings.google_issuer_id, TENANT, "live", second)]
    existing = objects[google_object_id(settings.google_issuer_id, TENANT, "live", first)]
    assert new["classId"] in state.stores["loyaltyClass"]
    assert existing["loyaltyPoints"]["balance"] == {"int": 40}


async def test_the_google_fake_keeps_classes_objects_and_keys_across_a_restart(
    wallet_dir: Path, tmp_path: Path
) -> None:
    account = ServiceAccount.load(str(wallet_dir / "google-service-account.json"))
    state_file = tmp_path / "google.json"
    klass = {
        "id": "3388000000000000001.kept",
        "issuerName": "Café",
        "reviewStatus": "UNDER_REVIEW",
        "programName": "Beans",
        "programLogo": {"sourceUri": {"uri": "https://cafe.example/logo.png"}},
    }
    before = GoogleFakeState(account=account)
    async with served(build_fake_app(before, state_file)) as url:
        client = GoogleClient(f"{url}/walletobjects/v1", f"{url}/token", account)
        try:
            await client.upsert("loyaltyClass", klass)
        finally:
            await client.aclose()
        root = before.root_key.private_numbers().private_value
    after = GoogleFakeState(account=account)
    async with served(build_fake_app(after, state_file)) as url:
        client = GoogleClient(f"{url}/walletobjects/v1", f"{url}/token", account)
        try:
            answer = await client.call("GET", f"/loyaltyClass/{klass['id']}")
        finally:
            await client.aclose()
        assert answer.status_code == 200
        assert answer.json()["programName"] == "Beans"
        assert after.root_key.private_numbers().private_value == root
