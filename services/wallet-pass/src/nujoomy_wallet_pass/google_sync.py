"""Keeping Google Wallet in step: the program's loyalty class (re-sent when the branding changes) and
each member's loyalty object (inserted once, then PATCHed with the new balance)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from nujoomy_contracts.tenant import Program
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from nujoomy_wallet_pass.context import WalletContext
from nujoomy_wallet_pass.db.queries import branding_version
from nujoomy_wallet_pass.domain.google_objects import (
    balance_patch,
    loyalty_class,
    loyalty_object,
    may_notify,
    recent_notifications,
)
from nujoomy_wallet_pass.domain.links import google_class_id, google_object_id, pass_id
from nujoomy_wallet_pass.domain.passjson import PassContent
from nujoomy_wallet_pass.google import GoogleClient


class GoogleSync:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], wallet: WalletContext) -> None:
        assert wallet.account is not None
        s = wallet.settings
        self.sessions = sessions
        self.issuer = s.google_issuer_id
        self.logo_base = s.tenant_url.rstrip("/")
        self.fallback_logo = f"{s.public_url.rstrip('/')}/apple/logo.png"
        self.clients = {
            "live": GoogleClient(s.google_base_url, s.google_token_url, wallet.account),
            "test": GoogleClient(s.google_base_url_test, s.google_token_url_test, wallet.account),
        }
        self._classes: dict[str, str] = {}

    async def aclose(self) -> None:
        for client in self.clients.values():
            await client.aclose()

    def _logo(self, program: Program | None) -> str:
        if program is not None:
            path = program.branding.images.get("google_logo") or program.branding.images.get("logo")
            if path:
                return f"{self.logo_base}{path}" if path.startswith("/") else path
        return self.fallback_logo

    async def _ensure_class(self, job: Any, content: PassContent, program: Program | None) -> str:
        class_id = google_class_id(
            self.issuer, program.program_id if program else None, job.tenant_id, job.mode
        )
        version = branding_version(program) if program else "default"
        if self._classes.get(class_id) == version:
            return class_id
        async with self.sessions() as db:
            stored = (
                await db.execute(
                    text("SELECT branding_version FROM google_classes WHERE class_id = :c"), {"c": class_id}
                )
            ).scalar()
        if stored != version:
            body = loyalty_class(class_id, content, self._logo(program))
            await self.clients[job.mode].upsert("loyaltyClass", body)
            async with self.sessions() as db, db.begin():
                await db.execute(
                    text(
                        "INSERT INTO google_classes (class_id, tenant_id, mode, branding_version) "
                        "VALUES (:c, :t, :m, :v) ON CONFLICT (class_id) DO UPDATE SET branding_version = :v"
                    ),
                    {"c": class_id, "t": job.tenant_id, "m": job.mode, "v": version},
                )
        self._classes[class_id] = version
        return class_id

    async def sync_member(self, job: Any, content: PassContent, program: Program | None) -> None:
        client = self.clients[job.mode]
        class_id = await self._ensure_class(job, content, program)
        object_id = google_object_id(self.issuer, job.member_id)
        pid = pass_id(job.member_id, "google")
        async with self.sessions() as db:
            row = (
                await db.execute(
                    text("SELECT balance_sent, notified_at, class_id FROM google_objects WHERE pass_id = :p"),
                    {"p": pid},
                )
            ).first()
        now = datetime.now(UTC)
        notified = list(row.notified_at) if row else []
        if row is None or row.class_id != class_id or job.priority > 0:
            await client.upsert("loyaltyObject", loyalty_object(object_id, class_id, content))
        elif row.balance_sent != content.balance:
            notify = may_notify(notified, now)
            await client.patch("loyaltyObject", object_id, balance_patch(content, notify))
            if notify:
                notified = [*recent_notifications(notified, now), now]
        else:
            return
        async with self.sessions() as db, db.begin():
            await db.execute(
                text(
                    "INSERT INTO google_objects "
                    "(pass_id, tenant_id, mode, object_id, class_id, balance_sent, "
                    "notified_at) VALUES (:p, :t, :m, :o, :c, :b, :n) ON CONFLICT (pass_id) DO UPDATE SET "
                    "balance_sent = :b, class_id = :c, notified_at = :n, updated_at = now()"
                ),
                {
                    "p": pid,
                    "t": job.tenant_id,
                    "m": job.mode,
                    "o": object_id,
                    "c": class_id,
                    "b": content.balance,
                    "n": notified,
                },
            )
