"""A local Google Wallet: the OAuth2 token endpoint and walletobjects/v1 loyaltyClass/loyaltyObject,
save/delete callbacks signed as Google signs them (ECv2SigningOnly; root keys at /gp/m/issuer/keys;
`POST /fake/save/{objectId}` and `/fake/delete/{objectId}` play a user),
as strict as Google — the body is checked against Google's discovery document (unknown fields, wrong
enums, wrong types), required fields, id format, the class existing — with Google's error shape:
{"error": {"code", "message", "errors": [{"message", "domain", "reason"}], "status"}}.

`--port` serves it for `make up`; tests mount `build_fake_app()` on an ephemeral port or in-process.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import copy
import secrets
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jwt
import msgspec
from cryptography.hazmat.primitives.asymmetric import ec
from litestar import Litestar, Request, Response, get, patch, post, put
from litestar.datastructures import State

from nujoomy_wallet_pass.domain.google_callbacks import PROTOCOL, public_key_value, sign_callback
from nujoomy_wallet_pass.fakes.google_schema import ID_PATTERN, missing, problems
from nujoomy_wallet_pass.google import SCOPE, TOKEN_AUDIENCE, ServiceAccount

RESOURCES = {"loyaltyClass": "LoyaltyClass", "loyaltyObject": "LoyaltyObject"}
_STATUS = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    404: "NOT_FOUND",
    409: "ALREADY_EXISTS",
    429: "RESOURCE_EXHAUSTED",
    500: "INTERNAL",
    503: "UNAVAILABLE",
}
_REASON = {
    400: "invalidArgument",
    401: "authError",
    404: "resourceNotFound",
    409: "duplicate",
    429: "rateLimitExceeded",
    500: "backendError",
    503: "backendError",
}


@dataclass
class GoogleFakeState:
    account: ServiceAccount | None = None
    tokens: dict[str, float] = field(default_factory=dict)
    token_grants: int = 0
    stores: dict[str, dict[str, dict[str, Any]]] = field(default_factory=lambda: {r: {} for r in RESOURCES})
    requests: list[tuple[str, str, Any]] = field(default_factory=list)  # (method, path, body)
    failures: list[int] = field(default_factory=list)  # statuses to answer next, before anything else
    # Save/delete callbacks: Google's root signing key (published at /gp/m/issuer/keys, as Google does)
    # and the intermediate key it signs; every callback body sent, for tests to replay.
    root_key: ec.EllipticCurvePrivateKey = field(
        default_factory=lambda: ec.generate_private_key(ec.SECP256R1())
    )
    intermediate_key: ec.EllipticCurvePrivateKey = field(
        default_factory=lambda: ec.generate_private_key(ec.SECP256R1())
    )
    callbacks: list[dict[str, Any]] = field(default_factory=list)
    changes: int = 0  # counts writes to `stores`, so a state file is rewritten only after one

    def objects(self) -> dict[str, dict[str, Any]]:
        return self.stores["loyaltyObject"]

    def patches(self, object_id: str) -> list[Any]:
        return [b for m, p, b in self.requests if m == "PATCH" and p.endswith(f"/loyaltyObject/{object_id}")]


def google_error(status: int, message: str, reason: str | None = None) -> Response[bytes]:
    body = {
        "error": {
            "code": status,
            "message": message,
            "errors": [
                {"message": message, "domain": "global", "reason": reason or _REASON.get(status, "error")}
            ],
            "status": _STATUS.get(status, "UNKNOWN"),
        }
    }
    return Response(msgspec.json.encode(body), status_code=status, media_type="application/json")


def _state(request: Request[Any, Any, Any]) -> GoogleFakeState:
    return request.app.state["fake"]  # type: ignore[no-any-return]


@post("/token", status_code=200)
async def token(request: Request[Any, Any, Any]) -> Response[bytes]:
    fake = _state(request)
    form = await request.form()
    if form.get("grant_type") != "urn:ietf:params:oauth:grant-type:jwt-bearer":
        return Response(b'{"error":"unsupported_grant_type"}', status_code=400, media_type="application/json")
    assertion = str(form.get("assertion", ""))
    try:
        if fake.account is None:
            raise jwt.InvalidTokenError("no service account configured")
        from cryptography.hazmat.primitives import serialization

        public = serialization.load_pem_private_key(fake.account.private_key.encode(), None).public_key()
        claims = jwt.decode(assertion, public, algorithms=["RS256"], audience=TOKEN_AUDIENCE)  # type: ignore[arg-type]
        if claims.get("iss") != fake.account.email or SCOPE not in str(claims.get("scope", "")).split():
            raise jwt.InvalidTokenError("wrong issuer or scope")
        if int(claims["exp"]) - int(claims["iat"]) > 3600:
            raise jwt.InvalidTokenError("exp more than an hour after iat")
    except (jwt.InvalidTokenError, KeyError, ValueError) as exc:
        body = {"error": "invalid_grant", "error_description": str(exc)}
        return Response(msgspec.json.encode(body), status_code=400, media_type="application/json")
    access = "ya29.fake-" + secrets.token_urlsafe(24)
    fake.tokens[access] = time.time() + 3600
    fake.token_grants += 1
    body = {"access_token": access, "expires_in": 3599, "token_type": "Bearer"}
    return Response(msgspec.json.encode(body), media_type="application/json")


def _guard(request: Request[Any, Any, Any], resource: str) -> Response[bytes] | None:
    fake = _state(request)
    if fake.failures:
        status = fake.failures.pop(0)
        return google_error(status, "Quota exceeded" if status == 429 else "Backend error")
    if resource not in RESOURCES:
        return google_error(404, f"Method not found: {resource}")
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    if scheme != "Bearer" or fake.tokens.get(value, 0) < time.time():
        return google_error(401, "Request had invalid authentication credentials.", "authError")
    return None


async def _body(request: Request[Any, Any, Any]) -> Any:
    try:
        return msgspec.json.decode(await request.body())
    except msgspec.DecodeError:
        return None


def _check(resource: str, body: Any, *, full: bool, fake: GoogleFakeState) -> Response[bytes] | None:
    if not isinstance(body, dict):
        return google_error(400, "Invalid JSON payload received.")
    found = problems(RESOURCES[resource], body)
    if found:
        return google_error(400, found[0], "invalid")
    if full:
        absent = missing(RESOURCES[resource], body)
        if absent:
            return google_error(400, f"Missing required field: {absent[0]}", "required")
        if not ID_PATTERN.match(str(body["id"])):
            return google_error(400, f"Invalid resource ID: {body['id']}", "invalidResource")
        if resource == "loyaltyObject":
            klass = fake.stores["loyaltyClass"].get(str(body["classId"]))
            if klass is None:
                return google_error(404, f"Class not found: {body['classId']}", "classNotFound")
    return None


@post("/walletobjects/v1/{resource:str}", status_code=200)
async def insert(request: Request[Any, Any, Any], resource: str) -> Response[bytes]:
    if (refused := _guard(request, resource)) is not None:
        return refused
    fake, body = _state(request), await _body(request)
    fake.requests.append(("POST", request.url.path, body))
    if (refused := _check(resource, body, full=True, fake=fake)) is not None:
        return refused
    store = fake.stores[resource]
    if body["id"] in store:
        return google_error(409, f"Resource already exists: {body['id']}", "duplicate")
    stored = _stored(resource, body)
    store[body["id"]] = stored
    fake.changes += 1
    return Response(msgspec.json.encode(stored), media_type="application/json")


def _stored(resource: str, body: dict[str, Any]) -> dict[str, Any]:
    stored = copy.deepcopy(body)
    stored.pop("notifyPreference", None)  # ephemeral: applies to one request
    stored["kind"] = f"walletobjects#{resource}"
    if resource == "loyaltyClass" and stored.get("reviewStatus") in ("UNDER_REVIEW", "underReview"):
        stored["reviewStatus"] = "APPROVED"  # the fake approves at once, as Google does for test issuers
    return stored


@get("/walletobjects/v1/{resource:str}/{resource_id:str}")
async def fetch(request: Request[Any, Any, Any], resource: str, resource_id: str) -> Response[bytes]:
    if (refused := _guard(request, resource)) is not None:
        return refused
    stored = _state(request).stores[resource].get(resource_id)
    if stored is None:
        return google_error(404, f"Resource not found: {resource_id}", "resourceNotFound")
    return Response(msgspec.json.encode(stored), media_type="application/json")


async def _update(
    request: Request[Any, Any, Any], resource: str, resource_id: str, *, merge: bool
) -> Response[bytes]:
    if (refused := _guard(request, resource)) is not None:
        return refused
    fake, body = _state(request), await _body(request)
    fake.requests.append(("PATCH" if merge else "PUT", request.url.path, body))
    if (refused := _check(resource, body, full=False, fake=fake)) is not None:
        return refused
    current = fake.stores[resource].get(resource_id)
    if current is None:
        return google_error(404, f"Resource not found: {resource_id}", "resourceNotFound")
    merged = _merge(copy.deepcopy(current), body) if merge else {**body, "id": resource_id}
    merged.setdefault("id", resource_id)
    if (
        refused := _check(resource, {k: v for k, v in merged.items() if k != "kind"}, full=True, fake=fake)
    ) is not None:
        return refused
    fake.stores[resource][resource_id] = _stored(resource, merged)
    fake.changes += 1
    return Response(msgspec.json.encode(fake.stores[resource][resource_id]), media_type="application/json")


def _merge(base: dict[str, Any], change: dict[str, Any]) -> dict[str, Any]:
    for key, value in change.items():
        if isinstance(value, dict) and isinstance(base.get(key), dict):
            base[key] = _merge(base[key], value)
        else:
            base[key] = value
    return base


@patch("/walletobjects/v1/{resource:str}/{resource_id:str}")
async def patch_resource(request: Request[Any, Any, Any], resource: str, resource_id: str) -> Response[bytes]:
    return await _update(request, resource, resource_id, merge=True)


@put("/walletobjects/v1/{resource:str}/{resource_id:str}")
async def update_resource(
    request: Request[Any, Any, Any], resource: str, resource_id: str
) -> Response[bytes]:
    return await _update(request, resource, resource_id, merge=False)


@get("/fake/objects/{object_id:str}")
async def fake_object(request: Request[Any, Any, Any], object_id: str) -> Response[bytes]:
    stored = _state(request).objects().get(object_id)
    if stored is None:
        return google_error(404, "no such object")
    return Response(msgspec.json.encode(stored), media_type="application/json")


@post("/fake/seed", status_code=200)
async def fake_seed(request: Request[Any, Any, Any]) -> dict[str, int]:
    """Benchmarks: load resources Google would already hold (stored as given, without checks)."""
    fake, body = _state(request), await _body(request)
    for resource, items in body.items():
        for item in items:
            fake.stores[resource][item["id"]] = item
    fake.changes += 1
    return {resource: len(store) for resource, store in fake.stores.items()}


@post("/fake/failures", status_code=200)
async def fake_failures(request: Request[Any, Any, Any]) -> Response[bytes]:
    """Reliability tests over HTTP: the statuses to answer next (e.g. [429, 429, 500]), in order,
    before any other check — the same queue in-process tests fill through `state.failures`."""
    body = await _body(request)
    if not isinstance(body, list) or not all(
        isinstance(s, int) and not isinstance(s, bool) and 400 <= s <= 599 for s in body
    ):
        return google_error(400, "expected a JSON list of HTTP error statuses (400-599)")
    fake = _state(request)
    fake.failures.extend(body)
    return Response(msgspec.json.encode({"pending": len(fake.failures)}), media_type="application/json")


@get("/gp/m/issuer/keys")
async def root_signing_keys(request: Request[Any, Any, Any]) -> dict[str, Any]:
    """Google's root signing keys for callbacks, in Google's format (keyExpiration in ms, a string)."""
    fake = _state(request)
    expires = str(int((time.time() + 7 * 86400) * 1000))
    return {
        "keys": [
            {
                "keyValue": public_key_value(fake.root_key),
                "protocolVersion": PROTOCOL,
                "keyExpiration": expires,
            }
        ]
    }


async def _user_action(request: Request[Any, Any, Any], object_id: str, event_type: str) -> Response[bytes]:
    """A user saving (or deleting) the card: Google posts a signed message to the class's callback URL."""
    fake = _state(request)
    stored = fake.objects().get(object_id)
    if stored is None:
        return google_error(404, f"Resource not found: {object_id}", "resourceNotFound")
    klass = fake.stores["loyaltyClass"].get(str(stored["classId"]), {})
    url = klass.get("callbackOptions", {}).get("url")
    if not url:
        return google_error(400, f"Class {stored['classId']} has no callbackOptions.url")
    now_ms = int(time.time() * 1000)
    message = {
        "classId": stored["classId"],
        "objectId": object_id,
        "expTimeMillis": now_ms + 60_000,
        "eventType": event_type,
        "nonce": secrets.token_hex(16),
    }
    body = sign_callback(
        message,
        root=fake.root_key,
        intermediate=fake.intermediate_key,
        intermediate_expires_ms=now_ms + 3_600_000,
        recipient_id=object_id.split(".", 1)[0],  # the issuer id
    )
    fake.callbacks.append(body)
    import httpx

    async with httpx.AsyncClient(timeout=10) as http:
        answer = await http.post(url, json=body)
    result = {"callback_status": answer.status_code, "nonce": message["nonce"]}
    return Response(msgspec.json.encode(result), media_type="application/json")


@post("/fake/save/{object_id:str}", status_code=200)
async def fake_save(request: Request[Any, Any, Any], object_id: str) -> Response[bytes]:
    return await _user_action(request, object_id, "save")


@post("/fake/delete/{object_id:str}", status_code=200)
async def fake_delete(request: Request[Any, Any, Any], object_id: str) -> Response[bytes]:
    return await _user_action(request, object_id, "del")


@get("/fake/stats")
async def fake_stats(request: Request[Any, Any, Any]) -> dict[str, int]:
    fake = _state(request)
    patches = sum(1 for m, _, _ in fake.requests if m == "PATCH")
    return {"requests": len(fake.requests), "patches": patches, "token_grants": fake.token_grants}


@get("/health")
async def health() -> dict[str, str]:
    return {"status": "ok"}


def build_fake_app(fake: GoogleFakeState, state_file: Path | None = None) -> Litestar:
    """`state_file`: keep classes, objects and keys across restarts (google_persistence.py)."""
    lifespan = [] if state_file is None else [_persisted(fake, state_file)]
    return Litestar(
        route_handlers=[
            token,
            insert,
            fetch,
            patch_resource,
            update_resource,
            fake_object,
            fake_seed,
            fake_failures,
            root_signing_keys,
            fake_save,
            fake_delete,
            fake_stats,
            health,
        ],
        state=State({"fake": fake}),
        lifespan=lifespan,
        openapi_config=None,
    )


def _persisted(fake: GoogleFakeState, path: Path):  # type: ignore[no-untyped-def]
    from nujoomy_wallet_pass.fakes.google_persistence import keep_saved, load_state

    @contextlib.asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        load_state(fake, path)
        saver = asyncio.create_task(keep_saved(fake, path))
        try:
            yield
        finally:
            saver.cancel()
            await asyncio.gather(saver, return_exceptions=True)

    return lifespan


def main() -> None:
    parser = argparse.ArgumentParser(prog="nujoomy_wallet_pass.fakes.google")
    parser.add_argument("--port", type=int, default=8093)
    parser.add_argument("--service-account", required=True)
    parser.add_argument("--state-file", type=Path, help="keep what Google holds across restarts")
    args = parser.parse_args()
    import uvicorn

    fake = GoogleFakeState(account=ServiceAccount.load(args.service_account))
    print(f"Google Wallet fake on http://127.0.0.1:{args.port}", flush=True)
    uvicorn.run(build_fake_app(fake, args.state_file), host="127.0.0.1", port=args.port, log_level="warning")


if __name__ == "__main__":
    main()
