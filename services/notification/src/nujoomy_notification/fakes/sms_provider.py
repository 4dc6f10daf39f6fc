"""A fake SMS provider: accepts the generic JSON request only with a valid, fresh HMAC signature.

`POST /messages` (signed), `GET /messages` (what it accepted), `POST /refuse {count}` (answer 503
to the next n sends). `python -m nujoomy_notification.fakes.sms_provider` runs it for `make up`.
"""

from __future__ import annotations

import argparse
import hmac
import os
import time
from datetime import UTC, datetime
from typing import Any

import msgspec
from litestar import Litestar, Request, Response, get, post
from litestar.di import Provide
from nujoomy_notification.delivery.sms import SIGNATURE_HEADER, TIMESTAMP_HEADER, SmsRequest, signature

MAX_SKEW_S = 300


class ReceivedSms(msgspec.Struct, kw_only=True):
    id: str
    received_at: datetime
    to: str
    sender: str
    body: str
    reference: str


class SmsFake:
    def __init__(self, secret: str) -> None:
        self.secret = secret.encode()
        self.messages: list[ReceivedSms] = []
        self.rejected = 0
        self._refuse = 0

    def refuse_next(self, count: int) -> None:
        self._refuse = count

    def accept(self, raw: bytes, timestamp: str, signed: str) -> tuple[int, dict[str, Any]]:
        if not timestamp.isdigit() or abs(time.time() - int(timestamp)) > MAX_SKEW_S:
            self.rejected += 1
            return 401, {"error": "stale or missing timestamp"}
        if not hmac.compare_digest(signed, signature(self.secret, timestamp, raw)):
            self.rejected += 1
            return 401, {"error": "bad signature"}
        if self._refuse > 0:
            self._refuse -= 1
            return 503, {"error": "told to refuse"}
        try:
            req = msgspec.json.decode(raw, type=SmsRequest)
        except msgspec.DecodeError as exc:
            return 400, {"error": str(exc)}
        sms = ReceivedSms(
            id=f"sms_{len(self.messages) + 1}",
            received_at=datetime.now(UTC),
            to=req.to,
            sender=req.sender,
            body=req.body,
            reference=req.reference,
        )
        self.messages.append(sms)
        return 200, {"id": sms.id}


class RefuseBody(msgspec.Struct):
    count: int


def sms_app(fake: SmsFake) -> Litestar:
    @post("/messages")
    async def send(request: Request[Any, Any, Any], fake: SmsFake) -> Response[dict[str, Any]]:
        raw = await request.body()
        status, body = fake.accept(
            raw, request.headers.get(TIMESTAMP_HEADER, ""), request.headers.get(SIGNATURE_HEADER, "")
        )
        return Response(body, status_code=status)

    @get("/messages")
    async def list_messages(fake: SmsFake) -> list[ReceivedSms]:
        return list(reversed(fake.messages))

    @post("/refuse", status_code=204)
    async def refuse(fake: SmsFake, data: RefuseBody) -> None:
        fake.refuse_next(data.count)

    def provide() -> Any:
        return fake

    return Litestar(
        route_handlers=[send, list_messages, refuse],
        dependencies={"fake": Provide(provide, sync_to_thread=False)},
    )


def main() -> None:
    parser = argparse.ArgumentParser(prog="sms_provider")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8026)
    parser.add_argument("--secret", default=os.environ.get("NUJOOMY_NOTIFICATION_SMS_SECRET", ""))
    args = parser.parse_args()
    if not args.secret:
        parser.error("--secret or NUJOOMY_NOTIFICATION_SMS_SECRET is required")
    import uvicorn

    uvicorn.run(sms_app(SmsFake(args.secret)), host=args.host, port=args.port, log_level="warning")


if __name__ == "__main__":
    main()
