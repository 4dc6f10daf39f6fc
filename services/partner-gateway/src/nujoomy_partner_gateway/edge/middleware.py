"""The ASGI layer in front of every `/v1` route: key → suspension → rate limit → concurrency cap →
body → idempotency.

Order matters: a request the limiter or the concurrency cap refuses never claims an idempotency
key and never has its body read, a request with a bad key never costs a Redis call, and a body is
read only up to the size limit (counted as it arrives, whatever Content-Length says), so no
request makes the gateway hold more than `max_body` bytes of it. The verified key becomes the
request's `Principal` (cached in the scope, so `nujoomy_kit.auth.authenticate` returns it to the
handlers).
"""

from __future__ import annotations

import json
from collections import defaultdict
from typing import Any

import msgspec
import redis.asyncio as redis
import structlog
from litestar.types import ASGIApp, Message, Receive, Scope, Send
from nujoomy_kit.problems import PROBLEM_MEDIA_TYPE, DomainError, Unauthorized
from nujoomy_kit.tokens import TokenVerifier
from prometheus_client import CollectorRegistry, Counter

from nujoomy_partner_gateway.domain import idempotency as idem
from nujoomy_partner_gateway.domain.errors import (
    IdempotencyKeyInUse,
    IdempotencyKeyReused,
    InvalidApiKey,
    InvalidIdempotencyKey,
    PayloadTooLarge,
    RateLimited,
    RateLimiterUnavailable,
    TooManyInFlight,
)
from nujoomy_partner_gateway.domain.ratelimit import (
    KEY_POLICY,
    Policy,
    policy_for,
    policy_header,
    ratelimit_header,
    retry_after_seconds,
    tenant_policy_for,
)
from nujoomy_partner_gateway.edge.idempotency import IdempotencyStore
from nujoomy_partner_gateway.edge.keystore import KeyRecord, KeyStore
from nujoomy_partner_gateway.edge.ratelimit import Claim, RateLimiter

log = structlog.get_logger("nujoomy.gateway.edge")

IDEMPOTENCY_SCOPE_KEY = "nujoomy_idempotency_key"


class Edge:
    """What the middleware needs; filled in by the app's lifespan (Redis and the database)."""

    def __init__(self, *, fail_closed: bool, default_max_in_flight: int, max_body: int) -> None:
        self.fail_closed = fail_closed
        self.default_max_in_flight = default_max_in_flight
        self.max_body = max_body
        self.keys: KeyStore | None = None
        self.limiter: RateLimiter | None = None
        self.idempotency: IdempotencyStore | None = None
        self.verifier: TokenVerifier | None = None
        self.in_flight: dict[str, int] = defaultdict(int)
        self.fail_open: Counter | None = None

    def bind_metrics(self, registry: CollectorRegistry) -> None:
        self.fail_open = Counter(
            "gateway_ratelimit_unavailable_total",
            "Requests that met an unreachable rate limiter (Redis): let through, or refused if fail-closed",
            registry=registry,
        )

    def middleware(self, app: ASGIApp) -> ASGIApp:
        async def handle(scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] != "http" or not scope["path"].startswith("/v1"):  # type: ignore[comparison-overlap]
                await app(scope, receive, send)
                return
            await self._partner_request(app, scope, receive, send)

        return handle

    async def _partner_request(self, app: ASGIApp, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            key = await self._authenticate(scope)
        except DomainError as exc:
            await _problem(send, scope, exc, [])
            return
        key_id = key.public_id
        policy = policy_for(key.mode, key.rate, key.burst)
        tenant_policy = tenant_policy_for(key.mode, key.tenant_rate, key.tenant_burst)
        extra = [(b"ratelimit-policy", policy_header(policy, tenant_policy))]
        idempotency_key: str | None = None
        bad_key: idem.BadKey | None = None
        header = _header(scope, b"idempotency-key") if scope["method"] == "POST" else None
        if header is not None:
            try:
                idempotency_key = idem.parse_header(header)
            except idem.BadKey as exc:
                bad_key = exc  # still counted by the limiter, like any other request
        record_key = self._record_key(scope, key, idempotency_key) if idempotency_key else None
        try:
            claimed, existing = await self._rate_limit(key, policy, tenant_policy, record_key, extra)
        except DomainError as exc:
            await _problem(send, scope, exc, extra)
            return
        if bad_key is not None:
            await _problem(send, scope, InvalidIdempotencyKey(str(bad_key)), extra)
            return
        owns_record = claimed and existing is None and record_key is not None
        limit = key.max_in_flight or self.default_max_in_flight
        if self.in_flight[key_id] >= limit:
            if owns_record:
                await _quietly(self._store().release(record_key))  # type: ignore[arg-type]
            await _problem(send, scope, TooManyInFlight(f"At most {limit} requests at once"), extra)
            return
        self.in_flight[key_id] += 1
        try:
            scope["nujoomy_principal"] = key.principal  # type: ignore[typeddict-unknown-key]
            send_with_headers = _adding_headers(send, extra)
            if record_key is None:
                # Litestar reads this body itself, within the same limit (request_max_body_size).
                await app(scope, receive, send_with_headers)
                return
            # The ledger's own uniqueness sees the key scoped to this API key: two integrations of
            # one tenant never share (or learn about) each other's requests.
            scope[IDEMPOTENCY_SCOPE_KEY] = idem.forwarded_key(key_id, idempotency_key)  # type: ignore[literal-required]
            if existing is not None and existing.state == "in_flight":
                await _problem(
                    send, scope, IdempotencyKeyInUse("Retry when the first request has finished"), []
                )
                return
            try:
                body = await _read_body(scope, receive, self.max_body)
            except PayloadTooLarge as exc:
                if owns_record:
                    await _quietly(self._store().release(record_key))
                await _problem(send, scope, exc, extra)
                return
            request = _IdempotentRequest(
                record_key=record_key,
                fingerprint=idem.fingerprint(
                    scope["method"], scope["path"], scope.get("query_string", b"").decode(), body
                ),
                body=body,
            )
            if not claimed:
                # Redis is unreachable: no record this time. The ledger's own uniqueness on the
                # forwarded key still prevents a second effect.
                await app(scope, _replaying(body), send_with_headers)
            elif existing is not None:
                await _answer_existing(send_with_headers, scope, request, existing)
            else:
                await self._run_recorded(app, scope, send_with_headers, request)
        finally:
            self.in_flight[key_id] -= 1
            if self.in_flight[key_id] <= 0:
                del self.in_flight[key_id]

    async def _authenticate(self, scope: Scope) -> KeyRecord:
        header = _header(scope, b"authorization") or ""
        scheme, _, secret = header.partition(" ")
        if scheme.lower() != "bearer" or not secret.strip():
            raise InvalidApiKey("Send your API key as `Authorization: Bearer nj_…`")
        assert self.keys is not None
        key = await self.keys.verify(secret.strip())
        # A suspended tenant's keys are refused here, for every /v1 route, with the answer the
        # platform's services give its internal tokens (a proxied call would meet it there).
        if self.verifier is not None and await self.verifier.tenant_suspended(key.tenant_id):
            raise Unauthorized("tenant suspended")
        return key

    def _store(self) -> IdempotencyStore:
        assert self.idempotency is not None
        return self.idempotency

    def _record_key(self, scope: Scope, key: KeyRecord, idempotency_key: str) -> str:
        return self._store().key(
            tenant_id=key.tenant_public_id,
            key_id=key.public_id,
            mode=key.mode,
            method=scope["method"],
            route=scope["path"],
            idempotency_key=idempotency_key,
        )

    async def _rate_limit(
        self,
        key: KeyRecord,
        policy: Policy,
        tenant_policy: Policy,
        record_key: str | None,
        headers: list[tuple[bytes, bytes]],
    ) -> tuple[bool, idem.Record | None]:
        """GCRA for the key and its tenant (and the idempotency claim, if any) in one Redis call.
        Appends the RateLimit header; returns whether the claim was attempted and the record
        already holding the key, if any."""
        assert self.limiter is not None
        claim: Claim | None = self._store().claim(record_key) if record_key is not None else None
        try:
            decision, existing = await self.limiter.check(
                tenant_id=key.tenant_public_id,
                mode=key.mode,
                key_id=key.public_id,
                key=policy,
                tenant=tenant_policy,
                claim=claim,
            )
        except (redis.RedisError, OSError) as exc:
            if self.fail_open is not None:
                self.fail_open.inc()
            if self.fail_closed:
                log.warning("rate_limiter_unreachable_refusing", error=repr(exc))
                raise RateLimiterUnavailable("Try again shortly") from exc
            log.warning("rate_limiter_unreachable_failing_open", error=repr(exc))
            return False, None
        headers.append((b"ratelimit", ratelimit_header(decision).encode()))
        if not decision.allowed:
            if decision.policy == KEY_POLICY:
                detail = f"This key allows {policy.rate:g} requests/s with bursts of {policy.burst}"
            else:
                detail = (
                    f"This account's keys together allow {tenant_policy.rate:g} requests/s"
                    f" with bursts of {tenant_policy.burst}"
                )
            refused = RateLimited(detail)
            refused.headers = {"Retry-After": str(retry_after_seconds(decision))}  # type: ignore[attr-defined]
            refused.extra_headers = headers  # type: ignore[attr-defined]
            raise refused
        return True, (IdempotencyStore.decode(existing) if existing is not None else None)

    async def _run_recorded(
        self, app: ASGIApp, scope: Scope, send: Send, request: _IdempotentRequest
    ) -> None:
        """This request owns the key: run it, keep its answer (or free the key if it is not kept),
        then send the answer. The record is written before the partner sees the answer, so a retry
        sent the moment the answer arrives finds the record (not the in-flight marker, a 409)."""
        store = self._store()
        captured = _Capture()
        try:
            await app(scope, _replaying(request.body), captured.send)
        except BaseException:
            await _quietly(store.release(request.record_key))
            raise
        # Only a 422's problem code decides whether it is kept: parse no other body.
        code = captured.code() if captured.status == 422 else None
        if idem.storable(captured.status, code):
            record = idem.Record(
                state="done",
                fingerprint=request.fingerprint,
                status=captured.status,
                headers=captured.headers,
                body=b"".join(captured.body),
            )
            await _quietly(store.complete(request.record_key, record))
        else:
            await _quietly(store.release(request.record_key))
        await captured.flush(send)


class _IdempotentRequest(msgspec.Struct, frozen=True):
    record_key: str
    fingerprint: str
    body: bytes


async def _answer_existing(
    send: Send, scope: Scope, request: _IdempotentRequest, existing: idem.Record
) -> None:
    if existing.fingerprint != request.fingerprint:
        await _problem(send, scope, IdempotencyKeyReused("This key was used with another request"), [])
    else:
        await _replay(send, existing)


async def _quietly(operation: Any) -> None:
    """The request has run: a Redis failure now must not turn its answer into an error. An unwritten
    record leaves the in-flight marker to expire; the ledger still refuses a second effect."""
    try:
        await operation
    except (redis.RedisError, OSError) as exc:
        log.warning("idempotency_record_not_written", error=repr(exc))


class _Capture:
    """Holds the response back (kept for the idempotency record) until `flush` sends it. The
    answers it holds are the gateway's own or a downstream answer, bounded by http1's cap."""

    _KEEP = (b"content-type", b"location")

    def __init__(self) -> None:
        self.status = 500
        self.headers: list[tuple[str, str]] = []
        self.body: list[bytes] = []
        self._messages: list[Message] = []

    async def send(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            self.status = message["status"]
            self.headers = [
                (k.decode(), v.decode()) for k, v in message.get("headers", []) if k.lower() in self._KEEP
            ]
        elif message["type"] == "http.response.body":
            self.body.append(message.get("body", b""))
        self._messages.append(message)

    async def flush(self, send: Send) -> None:
        for message in self._messages:
            await send(message)

    def code(self) -> str | None:
        try:
            data = json.loads(b"".join(self.body))
        except ValueError:
            return None
        return data.get("code") if isinstance(data, dict) else None


async def _replay(send: Send, record: idem.Record) -> None:
    headers = [(k.encode(), v.encode()) for k, v in record.headers]
    headers.append((b"idempotent-replayed", b"true"))
    await send({"type": "http.response.start", "status": record.status, "headers": headers})
    await send({"type": "http.response.body", "body": record.body, "more_body": False})


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope["headers"]:
        if key == name:
            return value.decode("latin-1")
    return None


async def _read_body(scope: Scope, receive: Receive, limit: int) -> bytes:
    """The body, up to `limit` bytes. A larger Content-Length is refused before reading anything;
    without one (chunked) or with a false one, the bytes are counted as they arrive and reading
    stops at the limit: the rest is never read."""
    too_large = PayloadTooLarge(f"A request body may hold at most {limit} bytes")
    declared = _header(scope, b"content-length")
    if declared is not None and declared.strip().isdigit() and int(declared) > limit:
        raise too_large
    chunks = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise too_large
        chunks.append(chunk)
        if not message.get("more_body"):
            break
    return b"".join(chunks)


def _replaying(body: bytes) -> Receive:
    sent = False

    async def receive() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return {"type": "http.disconnect"}

    return receive


def _adding_headers(send: Send, extra: list[tuple[bytes, bytes]]) -> Send:
    async def wrapped(message: Message) -> None:
        if message["type"] == "http.response.start" and extra:
            message = {**message, "headers": [*message.get("headers", []), *extra]}  # type: ignore[typeddict-item]
        await send(message)

    return wrapped


async def _problem(send: Send, scope: Scope, exc: DomainError, extra: list[tuple[bytes, bytes]]) -> None:
    data: dict[str, Any] = msgspec.to_builtins(exc.problem(instance=scope["path"]))
    for name, value in (data.pop("extra", None) or {}).items():
        data.setdefault(name, value)
    headers = [(b"content-type", PROBLEM_MEDIA_TYPE.encode()), *extra]
    headers += getattr(exc, "extra_headers", [])
    headers += [(k.lower().encode(), v.encode()) for k, v in (getattr(exc, "headers", None) or {}).items()]
    await send({"type": "http.response.start", "status": exc.status, "headers": _dedupe(headers)})
    await send({"type": "http.response.body", "body": msgspec.json.encode(data), "more_body": False})


def _dedupe(headers: list[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
    seen: dict[bytes, tuple[bytes, bytes]] = {}
    for name, value in headers:
        seen[name] = (name, value)
    return list(seen.values())
