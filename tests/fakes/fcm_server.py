"""A fake Firebase Cloud Messaging (HTTP v1) server on 127.0.0.1, for tests, benchmarks and the demo.

It serves the two endpoints the real firebase-admin client calls: the OAuth2 token endpoint (named by
the service account's `token_uri`) and `POST /v1/projects/{project}/messages:send`. Errors use the
real FCM v1 JSON shapes, so firebase-admin raises the same exception classes as against Google.

Tokens script the answer:
  unregistered-*  404 NOT_FOUND / UNREGISTERED       bad-*       400 INVALID_ARGUMENT (bad token)
  fail500-*       500 INTERNAL, every time           mismatch-*  403 PERMISSION_DENIED / SENDER_ID_MISMATCH
  quota-*         429 RESOURCE_EXHAUSTED / QUOTA_EXCEEDED with Retry-After: 1
and `FakeFcm.script(token, reply, ...)` queues one-off replies for a token (used first, in order).

In a test: `with FakeFcmServer() as server: ... server.fake.received(token)`.
As a process: `python -m tests.fakes.fcm_server --port 0` prints `READY http://127.0.0.1:<port>` and
offers `GET /_fake/stats`, `GET /_fake/messages?token=...`, `POST /_fake/script`, `POST /_fake/reset`
so another process (a crash test, the demo) can script it and count what arrived.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import itertools
import json
import socket
import threading
import time
from collections import Counter, defaultdict, deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import uvicorn

PROJECT_ID = "smartcity-test"
FCM_ERROR_TYPE = "type.googleapis.com/google.firebase.fcm.v1.FcmError"
BAD_REQUEST_TYPE = "type.googleapis.com/google.rpc.BadRequest"

# HTTP status -> (google.rpc status, FCM errorCode or None, message), as FCM v1 answers them.
_ERRORS: dict[int, tuple[str, str | None, str]] = {
    400: (
        "INVALID_ARGUMENT",
        "INVALID_ARGUMENT",
        "The registration token is not a valid FCM registration token",
    ),
    401: ("UNAUTHENTICATED", None, "Request is missing required authentication credential."),
    403: ("PERMISSION_DENIED", "SENDER_ID_MISMATCH", "SenderId mismatch"),
    404: ("NOT_FOUND", "UNREGISTERED", "Requested entity was not found."),
    429: ("RESOURCE_EXHAUSTED", "QUOTA_EXCEEDED", "Quota exceeded for quota metric 'Send requests'."),
    500: ("INTERNAL", "INTERNAL", "Internal error encountered."),
    503: ("UNAVAILABLE", "UNAVAILABLE", "The service is currently unavailable."),
}


@dataclass(frozen=True)
class Reply:
    """One scripted HTTP answer to a send."""

    status: int
    body: dict[str, Any] | None = None  # None: a success body with a fresh message id
    headers: dict[str, str] = field(default_factory=dict)

    @classmethod
    def ok(cls) -> Reply:
        """Answers 200 with a new message name."""
        return cls(200)

    @classmethod
    def error(cls, status: int, *, retry_after: float | None = None, details: list | None = None) -> Reply:
        """Answers `status` with FCM's error body for it (and a Retry-After header if given)."""
        rpc_status, fcm_code, message = _ERRORS.get(status, ("UNKNOWN", "UNSPECIFIED_ERROR", "Unknown error"))
        fcm_detail = [{"@type": FCM_ERROR_TYPE, "errorCode": fcm_code}] if fcm_code else []
        error = {
            "code": status,
            "message": message,
            "status": rpc_status,
            "details": fcm_detail + (details or []),
        }
        headers = {"Retry-After": f"{retry_after:g}"} if retry_after is not None else {}
        return cls(status, {"error": error}, headers)

    @classmethod
    def bad_token(cls) -> Reply:
        """Answers 400 as FCM does for a malformed registration token."""
        violation = {"field": "message.token", "description": "Invalid registration token"}
        return cls.error(400, details=[{"@type": BAD_REQUEST_TYPE, "fieldViolations": [violation]}])

    @classmethod
    def bad_payload(cls, field_path: str = "message.android.ttl") -> Reply:
        """Answers 400 as FCM does for an invalid field in the message itself (not the token)."""
        error = {
            "code": 400,
            "message": f"Invalid value at '{field_path}'",
            "status": "INVALID_ARGUMENT",
            "details": [
                {"@type": BAD_REQUEST_TYPE, "fieldViolations": [{"field": field_path, "description": "bad"}]}
            ],
        }
        return cls(400, {"error": error})

    @classmethod
    def from_json(cls, spec: dict[str, Any]) -> Reply:
        """Builds a reply from `{"status": 503, "retry_after": 1}` (the control endpoint's format)."""
        status = int(spec.get("status", 200))
        return cls.ok() if status == 200 else cls.error(status, retry_after=spec.get("retry_after"))


_PREFIX_REPLIES = {
    "unregistered-": Reply.error(404),
    "bad-": Reply.bad_token(),
    "fail500-": Reply.error(500),
    "mismatch-": Reply.error(403),
    "quota-": Reply.error(429, retry_after=1),
}


@dataclass(frozen=True)
class Received:
    """One send request as the fake saw it."""

    token: str
    message: dict[str, Any]  # the FCM v1 `message` object
    status: int  # what the fake answered
    validate_only: bool = False


class FakeFcm:
    """The fake's state and its ASGI app: records sends, answers as scripted. Thread-safe."""

    def __init__(self, *, record: bool = True, delay: float = 0.0) -> None:
        self.record = record  # off for benchmarks: keep counts only
        self.delay = delay  # seconds added to every send, to mimic FCM's latency in a demo
        self._lock = threading.Lock()
        self._received: list[Received] = []
        self._counts: Counter[str] = Counter()
        self._scripts: defaultdict[str, deque[Reply]] = defaultdict(deque)
        self._ids = itertools.count(1)
        self.token_requests = 0

    def script(self, token: str, *replies: Reply) -> None:
        """Queues replies for the next sends to `token`; after them, the token's default applies."""
        with self._lock:
            self._scripts[token].extend(replies)

    def received(self, token: str | None = None) -> list[Received]:
        """Returns the sends received (for one token, or all), oldest first."""
        with self._lock:
            return [r for r in self._received if token is None or r.token == token]

    def count(self, token: str) -> int:
        """Returns how many sends to `token` arrived (including failed ones)."""
        with self._lock:
            return self._counts[token]

    def stats(self) -> dict[str, Any]:
        """Returns totals: sends, distinct tokens, tokens sent to more than once, token requests."""
        with self._lock:
            return {
                "sends": sum(self._counts.values()),
                "tokens": len(self._counts),
                "duplicates": {t: n for t, n in self._counts.items() if n > 1},
                "token_requests": self.token_requests,
            }

    def reset(self) -> None:
        """Forgets everything received and scripted."""
        with self._lock:
            self._received.clear()
            self._counts.clear()
            self._scripts.clear()
            self.token_requests = 0

    def _answer(self, token: str, message: dict[str, Any], validate_only: bool) -> Reply:
        with self._lock:
            queue = self._scripts.get(token)
            reply = queue.popleft() if queue else None
            if reply is None:
                reply = next((r for p, r in _PREFIX_REPLIES.items() if token.startswith(p)), Reply.ok())
            if reply.status == 200 and reply.body is None:
                reply = Reply(200, {"name": f"projects/{PROJECT_ID}/messages/fake-{next(self._ids)}"})
            self._counts[token] += 1
            if self.record:
                self._received.append(Received(token, message, reply.status, validate_only))
        return reply

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        body = b""
        more = True
        while more:
            event = await receive()
            body += event.get("body", b"")
            more = event.get("more_body", False)
        method, path = scope["method"], scope["path"]
        if method == "POST" and path == "/token":
            reply = self._token()
        elif method == "POST" and path.startswith("/v1/projects/") and path.endswith("/messages:send"):
            reply = await self._send(scope, body)
        elif path.startswith("/_fake/"):
            reply = self._control(method, path, scope.get("query_string", b""), body)
        else:
            reply = Reply(404, {"error": {"code": 404, "message": f"no route {path}", "status": "NOT_FOUND"}})
        payload = json.dumps(reply.body).encode()
        headers = [
            (b"content-type", b"application/json; charset=UTF-8"),
            (b"content-length", b"%d" % len(payload)),
        ]
        headers += [(k.lower().encode(), v.encode()) for k, v in reply.headers.items()]
        await send({"type": "http.response.start", "status": reply.status, "headers": headers})
        await send({"type": "http.response.body", "body": payload})

    def _token(self) -> Reply:
        with self._lock:
            self.token_requests += 1
            number = self.token_requests
        return Reply(
            200, {"access_token": f"fake-access-{number}", "expires_in": 3600, "token_type": "Bearer"}
        )

    async def _send(self, scope: dict, body: bytes) -> Reply:
        auth = dict(scope["headers"]).get(b"authorization", b"")
        if not auth.startswith(b"Bearer fake-access-"):
            # Proves the client fetched its token from our /token, not from Google.
            return Reply.error(401)
        try:
            request = json.loads(body)
            message = request["message"]
        except (ValueError, KeyError, TypeError):
            return Reply.bad_payload("message")
        if self.delay:
            await asyncio.sleep(self.delay)
        target = ("token", "fid", "topic", "condition")  # fid: firebase-admin 7.7's successor to token
        token = next((message[k] for k in target if message.get(k)), "")
        return self._answer(token, message, bool(request.get("validate_only")))

    def _control(self, method: str, path: str, query: bytes, body: bytes) -> Reply:
        if method == "GET" and path == "/_fake/stats":
            return Reply(200, self.stats())
        if method == "GET" and path == "/_fake/messages":
            token = parse_qs(query.decode()).get("token", [None])[0]
            rows = [
                {"token": r.token, "message": r.message, "status": r.status} for r in self.received(token)
            ]
            return Reply(200, {"messages": rows})
        if method == "POST" and path == "/_fake/script":
            spec = json.loads(body)
            self.script(spec["token"], *(Reply.from_json(r) for r in spec["replies"]))
            return Reply(200, {})
        if method == "POST" and path == "/_fake/reset":
            self.reset()
            return Reply(200, {})
        return Reply(404, {"error": {"code": 404, "message": f"no route {path}", "status": "NOT_FOUND"}})


class FakeFcmServer:
    """Runs a FakeFcm with uvicorn in a background thread on a free loopback port."""

    def __init__(self, fake: FakeFcm | None = None) -> None:
        self.fake = fake or FakeFcm()
        self._socket = _loopback_socket(0)
        self.port = self._socket.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.token_uri = f"{self.url}/token"
        self._server = uvicorn.Server(_uvicorn_config(self.fake))
        self._thread: threading.Thread | None = None

    def start(self) -> FakeFcmServer:
        """Starts serving and waits until the port accepts requests."""
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [self._socket]}, name="fake-fcm", daemon=True
        )
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError("fake FCM server did not start")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        """Stops serving and waits for the thread."""
        self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=10)
        self._socket.close()

    def __enter__(self) -> FakeFcmServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


def _loopback_socket(port: int) -> socket.socket:
    # Binding here (not in uvicorn) lets port 0 pick a free port we know before the server starts.
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", port))
    return sock


def _uvicorn_config(app: FakeFcm) -> uvicorn.Config:
    # Keep-alive well past uvicorn's 5 s default: pooled client connections stay usable between sends
    # as they do against Google, instead of failing on a connection the fake closed meanwhile.
    return uvicorn.Config(
        app, log_level="warning", access_log=False, lifespan="off", timeout_keep_alive=75, backlog=4096
    )


@functools.cache
def _private_key_pem() -> str:
    # One key per process: RSA generation costs ~0.1 s and the fake never checks the signature.
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


def service_account_info(token_uri: str, project_id: str = PROJECT_ID) -> dict[str, str]:
    """Returns a throwaway service-account dict whose token requests go to `token_uri`."""
    return {
        "type": "service_account",
        "project_id": project_id,
        "private_key_id": "fake-key-1",
        "private_key": _private_key_pem(),
        "client_email": f"push-sender@{project_id}.iam.gserviceaccount.com",
        "client_id": "1",
        "auth_uri": "http://127.0.0.1/unused",
        "token_uri": token_uri,
    }


def write_service_account(path: str | Path, token_uri: str, project_id: str = PROJECT_ID) -> Path:
    """Writes a throwaway service-account JSON file to `path` and returns the path."""
    path = Path(path)
    path.write_text(json.dumps(service_account_info(token_uri, project_id), indent=2))
    return path


def main(argv: list[str] | None = None) -> int:
    """Runs the fake as a process until interrupted."""
    parser = argparse.ArgumentParser(description="Fake FCM v1 server on 127.0.0.1.")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port (printed on READY)")
    parser.add_argument("--no-record", action="store_true", help="keep counts only (benchmarks)")
    parser.add_argument("--delay-ms", type=float, default=0.0, help="latency added to every send")
    parser.add_argument("--service-account", help="also write a service-account JSON for this fake here")
    args = parser.parse_args(argv)
    fake = FakeFcm(record=not args.no_record, delay=args.delay_ms / 1000)
    sock = _loopback_socket(args.port)
    url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    if args.service_account:
        write_service_account(args.service_account, f"{url}/token")
    print(f"READY {url}", flush=True)
    uvicorn.Server(_uvicorn_config(fake)).run(sockets=[sock])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
