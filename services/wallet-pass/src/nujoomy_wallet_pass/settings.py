"""The wallet-pass service's settings, from `NUJOOMY_*` and `NUJOOMY_WALLET_PASS_*` variables."""

from __future__ import annotations

import os
from collections.abc import Mapping

from nujoomy_kit.settings import ServiceSettings, load_settings

SERVICE = "wallet-pass"

REAL_APNS = "https://api.push.apple.com"
REAL_GOOGLE = "https://walletobjects.googleapis.com/walletobjects/v1"
REAL_GOOGLE_TOKEN = "https://oauth2.googleapis.com/token"
REAL_GOOGLE_KEYS = "https://pay.google.com/gp/m/issuer/keys"
FAKE_APNS_PORT = 8443
FAKE_APNS_CONTROL_PORT = 8444
FAKE_GOOGLE_PORT = 8093


class Settings(ServiceSettings, kw_only=True):
    database_url: str = "postgresql://postgres@127.0.0.1:5432/nujoomy_wallet_pass"
    port: int = 8003
    # The pass's webServiceURL is {public_url}/apple; download links are {public_url}/apple/passes/….
    public_url: str = "http://127.0.0.1:8003"
    # The customer's pages (join, preferences) live on the gateway: the pass's "manage what we may
    # send you" link is {pages_url}/join/<slug>/preferences. Unset, it is NUJOOMY_PUBLIC_URL (the
    # gateway's public address, which this service's own public_url shadows).
    pages_url: str = "http://127.0.0.1:8000"
    pass_type_id: str = "pass.dev.nujoomy.loyalty"
    team_id: str = "NUJOOMYDEV"
    organization_name: str = "Nujoomy"
    # The Pass Type ID certificate: PEM text or path (.pem or .p12); the key may be in the same .p12.
    pass_cert: str = ""
    pass_key: str = ""
    pass_key_password: str = ""
    wwdr_cert: str = ""
    # AES-256-GCM key (32 bytes, base64) sealing tenants' own pass certificate keys at rest; empty
    # turns tenant certificates off (uploads answer 503 tenant_certificates_disabled).
    certificate_encryption_key: str = ""
    # HMAC key for signed, expiring download links; empty derives one from the pass key.
    download_secret: str = ""
    download_ttl_seconds: int = 7 * 24 * 3600
    # Signs the customer's preferences link on the back of a pass (nujoomy_kit.member_links): an
    # Ed25519 key of its own, never the internal-token key; the gateway holds its public half.
    member_link_private_key: str = ""
    # Live traffic goes to Apple and Google; test-mode traffic never does: its URLs
    # default to the local fakes.
    apns_base_url: str = REAL_APNS
    apns_base_url_test: str = f"https://127.0.0.1:{FAKE_APNS_PORT}"
    apns_ca_file: str = ""  # extra CA to trust for APNs (the dev CA in development)
    apns_concurrency: int = 64  # streams in flight per APNs connection
    google_base_url: str = REAL_GOOGLE
    google_base_url_test: str = f"http://127.0.0.1:{FAKE_GOOGLE_PORT}/walletobjects/v1"
    google_token_url: str = REAL_GOOGLE_TOKEN
    google_token_url_test: str = f"http://127.0.0.1:{FAKE_GOOGLE_PORT}/token"
    google_service_account: str = ""  # path to (or text of) the service-account JSON
    google_issuer_id: str = "3388000000022000000"
    google_enabled: bool = True
    # Google's save/delete callbacks: the class's callbackOptions.url is {public_url}/google/callbacks;
    # messages are verified against Google's root signing keys, fetched from here and cached.
    google_callback_keys_url: str = REAL_GOOGLE_KEYS
    google_callback_keys_ttl_seconds: int = 3600  # refetched sooner (once a minute at most) on an unknown key
    # Update jobs: how often the runner looks, how many members per batch, and the branding re-sync
    # pace (members per second) that keeps a program-wide push within APNs and Google limits.
    # The runner is woken by LISTEN/NOTIFY when a job is queued; the interval is its fallback poll
    # (retries coming due, a missed notification).
    sync_interval_seconds: float = 0.1
    sync_batch: int = 200
    sync_parallel_batches: int = 4  # batches pushing at once in one runner (a new one claims meanwhile)
    sync_max_attempts: int = 12  # then the job stops in a terminal state (failed_at, last_error)
    resync_rate_per_second: float = 2000.0
    # Google object updates: their own queue, so Apple pushes never wait for Google. Every request
    # takes a slot from a pacer shared by all replicas — Google allows 20 requests/s per issuer.
    # `google_pacer`: "redis" (redis_url), "postgres" (this service's database) or "local" (one
    # replica only). A change waits `google_coalesce_seconds` so a burst of scans is one PATCH (and
    # spends one of the pass's 3 notifications per 24 h, not three).
    google_requests_per_second: float = 20.0
    google_pacer: str = "redis"
    google_coalesce_seconds: float = 1.0
    google_batch: int = 100
    # Batches the Google runner has in flight at once (each waits for its paced slots): see google_queue.
    google_parallel_batches: int = 2
    google_max_attempts: int = 10
    # The members queue is consumed in batches: up to `member_events_batch` messages, gathered for at
    # most `member_events_linger_seconds`, share one transaction (one inbox insert, one statement for
    # all their balance changes, one NOTIFY). 1 = one message per transaction.
    member_events_batch: int = 64
    member_events_linger_seconds: float = 0.02
    # SQLAlchemy's pre-ping costs a round trip per checkout (a message, a batch): the worker goes
    # without it, since a broken connection fails that transaction and the consumer's redelivery
    # (or the runner's next pass) retries on a fresh one. The API keeps the kit's default (on).
    worker_db_pool_pre_ping: bool = False
    # What a worker process runs: both by default; a deployment can split consumers and the
    # update-job runner into separate replicas (jobs are claimed with SKIP LOCKED, the relay is
    # single-active by advisory lock, so any mix is safe).
    worker_consumers: bool = True
    worker_sync: bool = True
    worker_google: bool = True
    # `python -m nujoomy_wallet_pass worker` runs the consumers itself and the two runners in a child
    # process it supervises (two cores: see docs/benchmarks/wallet-pass.md); false keeps one process.
    worker_split: bool = True

    def secrets(self) -> dict[str, str]:
        found = {**super().secrets(), "member_link_private_key": self.member_link_private_key}
        # Empty is by design for these two (derived from the pass key; tenant certificates off), so
        # only a placeholder is refused.
        for name in ("download_secret", "certificate_encryption_key"):
            if getattr(self, name):
                found[name] = getattr(self, name)
        return found


def load(env: Mapping[str, str] | None = None, **overrides: object) -> Settings:
    source = os.environ if env is None else env
    gateway = source.get("NUJOOMY_PUBLIC_URL")
    if gateway and "NUJOOMY_WALLET_PASS_PAGES_URL" not in source:
        overrides = {"pages_url": gateway, **overrides}
    return load_settings(Settings, SERVICE, env, **overrides)
