"""Live updates over graphql-transport-ws, on a background thread, reconnecting until stopped."""

from __future__ import annotations

import asyncio
import json
import logging
import random
import threading
import uuid
from collections.abc import Callable, Mapping
from typing import Any

import websockets

from mobile_common.graphql import graphql_url

log = logging.getLogger("mobile_common.subscriptions")

PROTOCOL = "graphql-transport-ws"
# Close codes of the protocol after which the token must be renewed before reconnecting.
AUTH_CLOSE_CODES = {4401, 4403}


def websocket_url(server: str) -> str:
    """ws(s)://host/graphql for an http(s) server address."""
    url = graphql_url(server)
    return "wss://" + url[len("https://"):] if url.startswith("https://") else "ws://" + url.removeprefix("http://")


class SubscriptionClient:
    """One subscription: `on_event(payload_data)` for each `next`, `on_status(str)` on connect/disconnect.

    `token()` is called on every (re)connect so a refreshed token is used; `on_auth_failure()` is called
    when the server closes with 4401/4403 (it should refresh the session) before the next attempt.
    Callbacks run on the subscription's thread: the UI marshals them to its own thread.
    """

    def __init__(self, server: str, query: str, variables: Mapping[str, Any] | None = None, *,
                 token: Callable[[], str | None], on_event: Callable[[dict[str, Any]], None],
                 on_status: Callable[[str], None] | None = None,
                 on_auth_failure: Callable[[], None] | None = None,
                 max_backoff: float = 30.0, language: str = "vi") -> None:
        self.url = websocket_url(server)
        self.query = query
        self.variables = dict(variables or {})
        self.token = token
        self.on_event = on_event
        self.on_status = on_status or (lambda status: None)
        self.on_auth_failure = on_auth_failure
        self.max_backoff = max_backoff
        self.language = language
        self.connected = threading.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._task: asyncio.Task[None] | None = None
        self._thread: threading.Thread | None = None
        self._stopping = False

    def start(self) -> None:
        """Connects in the background."""
        self._stopping = False
        self._thread = threading.Thread(target=self._run, name="subscription", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        """Completes the subscription and closes the socket."""
        self._stopping = True
        if self._loop is not None and self._task is not None:
            self._loop.call_soon_threadsafe(self._task.cancel)
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def _run(self) -> None:
        self._loop = asyncio.new_event_loop()
        try:
            self._task = self._loop.create_task(self._forever())
            self._loop.run_until_complete(self._task)
        except asyncio.CancelledError:
            pass
        finally:
            self._loop.close()

    async def _forever(self) -> None:
        attempt = 0
        while not self._stopping:
            try:
                await self._session()
                attempt = 0
            except asyncio.CancelledError:
                raise
            except websockets.ConnectionClosed as exc:
                code = exc.rcvd.code if exc.rcvd else None
                log.info("subscription closed (%s)", code)
                if code in AUTH_CLOSE_CODES and self.on_auth_failure is not None:
                    try:
                        await asyncio.to_thread(self.on_auth_failure)
                    except Exception:
                        log.info("session could not be refreshed; will retry")
            except (OSError, websockets.InvalidHandshake, TimeoutError) as exc:
                log.info("subscription could not connect: %s", exc)
            self.connected.clear()
            self.on_status("disconnected")
            attempt += 1
            ceiling = min(self.max_backoff, 0.5 * 2 ** min(attempt, 10))
            await asyncio.sleep(ceiling / 2 + random.uniform(0, ceiling / 2))

    async def _session(self) -> None:
        headers = {"accept-language": self.language}
        async with websockets.connect(self.url, subprotocols=[PROTOCOL], open_timeout=10,  # type: ignore[list-item]
                                      additional_headers=headers) as ws:
            token = await asyncio.to_thread(self.token)
            payload = {"authorization": f"Bearer {token}"} if token else {}
            await ws.send(json.dumps({"type": "connection_init", "payload": payload}))
            ack = json.loads(await asyncio.wait_for(ws.recv(), timeout=10))
            if ack.get("type") != "connection_ack":
                raise websockets.InvalidHandshake(f"expected connection_ack, got {ack.get('type')}")
            op_id = str(uuid.uuid4())
            await ws.send(json.dumps({"id": op_id, "type": "subscribe",
                                      "payload": {"query": self.query, "variables": self.variables}}))
            self.connected.set()
            self.on_status("connected")
            async for raw in ws:
                message = json.loads(raw)
                kind = message.get("type")
                if kind == "ping":
                    await ws.send(json.dumps({"type": "pong"}))
                elif kind == "next" and message.get("id") == op_id:
                    payload = message.get("payload") or {}
                    if payload.get("data"):
                        self.on_event(payload["data"])
                elif kind in ("error", "complete") and message.get("id") == op_id:
                    log.info("subscription ended by the server: %s", message)
                    return
