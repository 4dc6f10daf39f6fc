"""Keeping Google Wallet in step: the program's loyalty class (re-sent when the branding changes) and
each member's loyalty object (inserted once, then PATCHed with the new balance).

The Google queue's runner (google_queue.py) hands in the object state it loaded for the whole batch
and writes back what this returns, so a member costs Google calls only, no database round trips of
its own. Every call first takes a slot from the shared pacer (Google's per-issuer quota) and is made
once: a 429 or 5xx goes back to the queue, which retries the job later, instead of holding a slot here.
"""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import structlog
from nujoomy_contracts.tenant import Program
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from nujoomy_wallet_pass.context import WalletContext
from nujoomy_wallet_pass.db.programs import branding_version
from nujoomy_wallet_pass.domain.google_objects import (
    balance_patch,
    loyalty_class,
    loyalty_object,
    may_notify,
    recent_notifications,
)
from nujoomy_wallet_pass.domain.links import google_class_id, google_object_id, pass_id
from nujoomy_wallet_pass.domain.passjson import PassContent
from nujoomy_wallet_pass.google import GoogleClient, GoogleError
from nujoomy_wallet_pass.pacing import Pacer

log = structlog.get_logger("nujoomy.wallet.google")

OBJECT_STATE = text(
    "SELECT pass_id, object_id, balance_sent, notified_at, class_id FROM google_objects "
    "WHERE pass_id = ANY(CAST(:ids AS uuid[]))"
)
SAVE_OBJECTS = text(
    "INSERT INTO google_objects (pass_id, tenant_id, mode, object_id, class_id, balance_sent, notified_at) "
    "SELECT p, t, m, o, c, b, CAST(n AS timestamptz[]) FROM unnest(CAST(:p AS uuid[]), CAST(:t AS uuid[]), "
    "CAST(:m AS text[]), CAST(:o AS text[]), CAST(:c AS text[]), CAST(:b AS bigint[]), CAST(:n AS text[])) "
    "AS x(p, t, m, o, c, b, n) ON CONFLICT (pass_id) DO UPDATE SET balance_sent = excluded.balance_sent, "
    "class_id = excluded.class_id, notified_at = excluded.notified_at, updated_at = now()"
)


@dataclass(frozen=True)
class ObjectState:
    pass_id: uuid.UUID
    tenant_id: uuid.UUID
    mode: str
    object_id: str
    class_id: str
    balance_sent: int
    notified_at: list[datetime]


@dataclass
class PacedGoogleClient(GoogleClient):
    """A GoogleClient whose every REST call waits for a pacer slot first (the token endpoint is not
    the walletobjects quota and is not paced)."""

    pacer: Pacer | None = None

    async def call(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        if self.pacer is not None:
            await self.pacer.wait()
        return await super().call(method, path, body)


class GoogleSync:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        wallet: WalletContext,
        pacer: Pacer | None = None,
        concurrency: int = 20,
    ) -> None:
        assert wallet.account is not None
        s = wallet.settings
        self.sessions = sessions
        self.issuer = s.google_issuer_id
        self.logo_base = s.tenant_url.rstrip("/")
        self.fallback_logo = f"{s.public_url.rstrip('/')}/apple/logo.png"
        self.pacer = pacer
        # One attempt per call: the queue owns retries (with backoff, and a quota pause for everyone).
        self.clients = {
            "live": PacedGoogleClient(
                s.google_base_url, s.google_token_url, wallet.account, max_attempts=1, pacer=pacer
            ),
            "test": PacedGoogleClient(
                s.google_base_url_test, s.google_token_url_test, wallet.account, max_attempts=1, pacer=pacer
            ),
        }
        self._classes: dict[str, str] = {}
        self._class_locks: dict[str, asyncio.Lock] = {}
        # Calls in flight stay bounded too (the pacer spaces them; this caps a slow Google's backlog).
        self._slots = asyncio.Semaphore(concurrency)

    async def aclose(self) -> None:
        for client in self.clients.values():
            await client.aclose()

    def _logo(self, program: Program | None) -> str:
        if program is not None:
            path = program.branding.images.get("google_logo") or program.branding.images.get("logo")
            if path:
                return f"{self.logo_base}{path}" if path.startswith("/") else path
        return self.fallback_logo

    async def _ensure_class(
        self, job: Any, content: PassContent, program: Program | None, *, resend: bool = False
    ) -> str:
        """The program's class at Google, inserted or updated when its branding moved on. `resend`
        sends it whatever we remember: Google said it does not know it (deleted, or a new issuer)."""
        class_id = google_class_id(
            self.issuer, program.program_id if program else None, job.tenant_id, job.mode
        )
        version = branding_version(program) if program else "default"
        if self._classes.get(class_id) == version and not resend:
            return class_id
        async with self._class_locks.setdefault(class_id, asyncio.Lock()):
            if self._classes.get(class_id) == version and not resend:
                return class_id
            async with self.sessions() as db:
                stored = (
                    await db.execute(
                        text("SELECT branding_version FROM google_classes WHERE class_id = :c"),
                        {"c": class_id},
                    )
                ).scalar()
            if stored != version or resend:
                body = loyalty_class(class_id, content, self._logo(program))
                await self.clients[job.mode].upsert("loyaltyClass", body)
                async with self.sessions() as db, db.begin():
                    await db.execute(
                        text(
                            "INSERT INTO google_classes (class_id, tenant_id, mode, branding_version) "
                            "VALUES (:c, :t, :m, :v) ON CONFLICT (class_id) DO UPDATE SET branding_version "
                            "= :v"
                        ),
                        {"c": class_id, "t": job.tenant_id, "m": job.mode, "v": version},
                    )
            self._classes[class_id] = version
        return class_id

    async def retire(self, mode: str, object_id: str, *, blank: bool) -> None:
        """The object goes INACTIVE: a reissued card's old object, or (`blank`) an erased member's,
        which also loses the member's data that we can blank. One Google no longer has is retired."""
        body: dict[str, Any] = {"state": "INACTIVE"}
        if blank:
            body |= {"accountName": "", "loyaltyPoints": {"balance": {"int": 0}}}
        try:
            async with self._slots:
                await self.clients[mode].patch("loyaltyObject", object_id, body)
        except GoogleError as exc:
            if exc.status != 404:
                raise

    async def sync_member(
        self, job: Any, content: PassContent, program: Program | None, row: Any | None, generation: int = 0
    ) -> ObjectState | None:
        """Bring the object of the member's current card up to `content`; return its new state, or
        None if nothing changed."""
        client = self.clients[job.mode]
        class_id = await self._ensure_class(job, content, program)
        object_id = google_object_id(self.issuer, job.tenant_id, job.mode, job.member_id, generation)
        now = datetime.now(UTC)
        notified = list(row.notified_at) if row else []
        # A branding change reaches Google through the class (colours, logo, name live there), so a
        # re-sync job only touches objects whose own data is behind.
        try:
            async with self._slots:
                if row is None or row.class_id != class_id:
                    await client.upsert("loyaltyObject", loyalty_object(object_id, class_id, content))
                elif row.balance_sent != content.balance:
                    notify = may_notify(notified, now)
                    await client.patch("loyaltyObject", object_id, balance_patch(content, notify))
                    if notify:
                        notified = [*recent_notifications(notified, now), now]
                else:
                    return None
        except GoogleError as exc:
            if exc.status != 404:
                raise
            # Google no longer knows the class (deleted, or a new issuer account) or the object:
            # send the class from the program, then the whole object, once. A second refusal is
            # the queue's to retry (the job is kept), never a card silently left behind.
            log.warning(
                "google_heal", member_id=str(job.member_id), class_id=class_id, body=str(exc.body)[:200]
            )
            class_id = await self._ensure_class(job, content, program, resend=True)
            async with self._slots:
                await client.upsert("loyaltyObject", loyalty_object(object_id, class_id, content))
        return ObjectState(
            pass_id(job.member_id, "google", generation),
            job.tenant_id,
            job.mode,
            object_id,
            class_id,
            content.balance,
            notified,
        )


async def forget_objects(db: AsyncSession, pass_ids: list[uuid.UUID]) -> None:
    if pass_ids:
        await db.execute(
            text("DELETE FROM google_objects WHERE pass_id = ANY(CAST(:p AS uuid[]))"), {"p": pass_ids}
        )


async def load_object_states(db: AsyncSession, pass_ids: list[uuid.UUID]) -> dict[uuid.UUID, Any]:
    """The objects we hold for these Google passes, by pass id."""
    return {r.pass_id: r for r in await db.execute(OBJECT_STATE, {"ids": pass_ids})}


async def save_object_states(db: AsyncSession, states: list[ObjectState]) -> None:
    if not states:
        return
    await db.execute(
        SAVE_OBJECTS,
        {
            "p": [s.pass_id for s in states],
            "t": [s.tenant_id for s in states],
            "m": [s.mode for s in states],
            "o": [s.object_id for s in states],
            "c": [s.class_id for s in states],
            "b": [s.balance_sent for s in states],
            # One '{…}' array literal per row: unnest cannot take a ragged 2-D array.
            "n": ["{" + ",".join(f'"{t.isoformat()}"' for t in s.notified_at) + "}" for s in states],
        },
    )
