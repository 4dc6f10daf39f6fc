"""A local APNs: HTTP/2 over TLS on raw `h2`, strict where Apple is strict.

- TLS requires a client certificate chained to the dev CA (like Apple's certificate auth);
- `apns-topic` must equal the certificate's pass type id (subject UID), else 400 DeviceTokenNotForTopic
  / 400 MissingTopic; the path must be POST /3/device/<hex token> (else 404 BadPath / 400 BadDeviceToken);
- answers 200 with an `apns-id`, or Apple's JSON `{"reason": …}` (410 adds `timestamp`);
- records every accepted push, and can be told to answer 410/429/500 for given tokens.

A small HTTP/1.1 control port (`GET /pushes`, `POST /responses`, `DELETE /pushes`) lets scripts and
other processes see and steer it; tests in the same process use the `ApnsFake` object directly.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import re
import ssl
import time
import uuid
from collections import defaultdict
from dataclasses import dataclass, field

import h2.config
import h2.connection
import h2.events
import h2.exceptions
import h2.settings

_TOKEN = re.compile(r"^[0-9a-fA-F]{64,200}$")
_REASONS = {
    410: "Unregistered",
    429: "TooManyRequests",
    500: "InternalServerError",
    503: "ServiceUnavailable",
    400: "BadDeviceToken",
    403: "BadCertificate",
}


@dataclass
class Push:
    token: str
    topic: str
    body: bytes
    at: float
    apns_id: str


@dataclass
class ApnsFake:
    host: str = "127.0.0.1"
    port: int = 0
    pushes: list[Push] = field(default_factory=list)
    # token -> queue of statuses to answer before accepting (e.g. [429, 429] then 200), or a fixed one.
    scripted: dict[str, list[int]] = field(default_factory=lambda: defaultdict(list))
    always: dict[str, int] = field(default_factory=dict)
    rejected: list[tuple[str, int, str]] = field(default_factory=list)
    _server: asyncio.AbstractServer | None = None
    _arrived: asyncio.Condition | None = None

    async def start(self, cert: str, key: str, ca: str) -> None:
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH, cafile=ca)
        ctx.load_cert_chain(cert, key)
        ctx.verify_mode = ssl.CERT_REQUIRED
        ctx.set_alpn_protocols(["h2"])
        self._arrived = asyncio.Condition()
        self._server = await asyncio.start_server(self._serve, self.host, self.port, ssl=ctx, backlog=512)
        self.port = self._server.sockets[0].getsockname()[1]

    @property
    def url(self) -> str:
        return f"https://{self.host}:{self.port}"

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._server.wait_closed(), 2)

    def answer(self, token: str, status: int, times: int | None = None) -> None:
        """Answer `status` for `token` `times` times (then normally), or always when times is None."""
        if times is None:
            self.always[token] = status
        else:
            self.scripted[token].extend([status] * times)

    def pushes_for(self, token: str) -> list[Push]:
        return [p for p in self.pushes if p.token == token]

    async def wait_for(self, count: int, token: str | None = None, timeout: float = 15.0) -> list[Push]:
        assert self._arrived is not None

        def matching() -> list[Push]:
            return self.pushes if token is None else self.pushes_for(token)

        async with self._arrived:
            await asyncio.wait_for(self._arrived.wait_for(lambda: len(matching()) >= count), timeout)
        return matching()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        ssl_object = writer.get_extra_info("ssl_object")
        cert = ssl_object.getpeercert() if ssl_object else None
        uid = _subject_field(cert, "userId")
        conn = h2.connection.H2Connection(
            h2.config.H2Configuration(client_side=False, header_encoding="utf-8")
        )
        conn.initiate_connection()
        conn.update_settings({h2.settings.SettingCodes.MAX_CONCURRENT_STREAMS: 1000})
        writer.write(conn.data_to_send())
        streams: dict[int, tuple[dict[str, str], bytearray]] = {}
        try:
            while True:
                data = await reader.read(65536)
                if not data:
                    break
                for event in conn.receive_data(data):
                    if isinstance(event, h2.events.RequestReceived):
                        streams[event.stream_id] = (dict(event.headers), bytearray())  # type: ignore[arg-type]
                    elif isinstance(event, h2.events.DataReceived):
                        streams[event.stream_id][1].extend(event.data)
                        conn.acknowledge_received_data(event.flow_controlled_length, event.stream_id)
                    elif isinstance(event, h2.events.StreamEnded):
                        headers, body = streams.pop(event.stream_id)
                        status, payload, extra = await self._decide(headers, bytes(body), uid)
                        response = [(":status", str(status)), *extra]
                        if payload:
                            response.append(("content-type", "application/json"))
                        conn.send_headers(event.stream_id, response, end_stream=not payload)
                        if payload:
                            conn.send_data(event.stream_id, payload, end_stream=True)
                    elif isinstance(event, h2.events.ConnectionTerminated):
                        return
                writer.write(conn.data_to_send())
                await writer.drain()
        except (ConnectionError, ssl.SSLError, h2.exceptions.ProtocolError):
            pass
        finally:
            with contextlib.suppress(Exception):
                writer.close()

    async def _decide(
        self, headers: dict[str, str], body: bytes, uid: str
    ) -> tuple[int, bytes, list[tuple[str, str]]]:
        path, method, topic = (
            headers.get(":path", ""),
            headers.get(":method", ""),
            headers.get("apns-topic", ""),
        )
        token = path.rsplit("/", 1)[-1]
        apns_id = headers.get("apns-id") or str(uuid.uuid4()).upper()

        def fail(status: int, reason: str) -> tuple[int, bytes, list[tuple[str, str]]]:
            self.rejected.append((token, status, reason))
            payload: dict[str, object] = {"reason": reason}
            if status == 410:
                payload["timestamp"] = int(time.time() * 1000)
            return status, json.dumps(payload).encode(), [("apns-id", apns_id)]

        if method != "POST":
            return fail(405, "MethodNotAllowed")
        if not path.startswith("/3/device/"):
            return fail(404, "BadPath")
        if not _TOKEN.match(token):
            return fail(400, "BadDeviceToken")
        if not uid:
            return fail(403, "BadCertificate")
        if not topic:
            return fail(400, "MissingTopic")
        if topic != uid:
            return fail(400, "DeviceTokenNotForTopic")
        if not body:
            return fail(400, "PayloadEmpty")
        try:
            json.loads(body)
        except ValueError:
            return fail(400, "PayloadEmpty")
        if self.scripted.get(token):
            status = self.scripted[token].pop(0)
            return fail(status, _REASONS.get(status, "InternalServerError"))
        if token in self.always:
            status = self.always[token]
            return fail(status, _REASONS.get(status, "InternalServerError"))
        assert self._arrived is not None
        async with self._arrived:
            self.pushes.append(Push(token, topic, body, time.time(), apns_id))
            self._arrived.notify_all()
        return 200, b"", [("apns-id", apns_id)]


def _subject_field(cert: dict[str, object] | None, name: str) -> str:
    if not cert:
        return ""
    for rdn in cert.get("subject", ()):  # type: ignore[union-attr]
        for key, value in rdn:
            if key == name:
                return str(value)
    return ""


async def _control(fake: ApnsFake, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """GET /pushes[?token=], GET /pushes/count, DELETE /pushes, POST /responses {"token","status","times"?},
    GET /health."""
    try:
        request = (await reader.readline()).decode().split()
        length = 0
        while (line := await reader.readline()) not in (b"\r\n", b"\n", b""):
            name, _, value = line.decode().partition(":")
            if name.lower() == "content-length":
                length = int(value)
        body = await reader.readexactly(length) if length else b""
        method, target = request[0], request[1]
        path, _, query = target.partition("?")
        status, payload = 200, b"{}"
        if path == "/pushes" and method == "GET":
            token = query.removeprefix("token=") if query.startswith("token=") else None
            items = [
                {"token": p.token, "topic": p.topic, "at": p.at, "apns_id": p.apns_id}
                for p in fake.pushes
                if token is None or p.token == token
            ]
            payload = json.dumps({"pushes": items, "rejected": fake.rejected[-100:]}).encode()
        elif path == "/pushes/count" and method == "GET":
            payload = json.dumps({"count": len(fake.pushes), "rejected": len(fake.rejected)}).encode()
        elif path == "/pushes" and method == "DELETE":
            fake.pushes.clear()
        elif path == "/responses" and method == "POST":
            spec = json.loads(body)
            fake.answer(spec["token"], int(spec["status"]), spec.get("times"))
        elif path != "/health":
            status, payload = 404, b'{"error":"not found"}'
        writer.write(
            f"HTTP/1.1 {status} X\r\ncontent-type: application/json\r\ncontent-length: {len(payload)}\r\n"
            "connection: close\r\n\r\n".encode()
            + payload
        )
        await writer.drain()
    except (ConnectionError, IndexError, ValueError, KeyError):
        pass
    finally:
        writer.close()


async def serve(port: int, control_port: int, cert: str, key: str, ca: str) -> None:
    fake = ApnsFake(port=port)
    await fake.start(cert, key, ca)
    control = await asyncio.start_server(lambda r, w: _control(fake, r, w), "127.0.0.1", control_port)
    print(f"APNs fake on {fake.url}, control on http://127.0.0.1:{control_port}", flush=True)
    async with control:
        await control.serve_forever()


def main() -> None:
    parser = argparse.ArgumentParser(prog="nujoomy_wallet_pass.fakes.apns")
    parser.add_argument("--port", type=int, default=8443)
    parser.add_argument("--control-port", type=int, default=8444)
    parser.add_argument("--cert", required=True)
    parser.add_argument("--key", required=True)
    parser.add_argument("--ca", required=True)
    args = parser.parse_args()
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve(args.port, args.control_port, args.cert, args.key, args.ca))


if __name__ == "__main__":
    main()
