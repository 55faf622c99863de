"""The real API on a loopback port (uvicorn in a thread) and headless Chromium, for the console's browser
tests and its benchmark. Chromium is Debian's package; Playwright only drives it (never `playwright install`)."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import httpx
import uvicorn

from api.app import create_app
from api.config import Settings
from api.core.budget import CostBudget
from api.core.bus import InProcessBus
from api.core.state import AppState
from api.db import Database

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--no-first-run",
]


def free_port() -> int:
    """A free TCP port on 127.0.0.1."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class LiveServer:
    """The whole platform served on loopback."""

    base_url: str
    state: AppState

    def gql(self, query: str, variables: dict[str, Any] | None = None, *, token: str | None = None) -> dict[str, Any]:
        """Posts an operation over real HTTP; returns `data` (fails on a top-level error)."""
        headers = {"authorization": f"Bearer {token}"} if token else {}
        response = httpx.post(f"{self.base_url}/graphql", json={"query": query, "variables": variables or {}},
                              headers=headers, timeout=30)
        body = response.json()
        assert "errors" not in body, body
        return dict(body["data"])


@contextmanager
def live_server(settings: Settings, database: Database) -> Iterator[LiveServer]:
    """Serves create_app(settings) with uvicorn on a free loopback port until the block ends."""
    state = AppState(settings=settings, db=database, bus=InProcessBus(),
                     budget=CostBudget(settings.default_cost_budget, settings.cost_refill_per_second))
    app = create_app(settings, state=state)
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on",
                                           ws="websockets-sansio" if _has_sansio() else "auto"))
    thread = threading.Thread(target=server.run, name="ops-uvicorn", daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.02)
    try:
        yield LiveServer(base_url=f"http://127.0.0.1:{port}", state=state)
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def _has_sansio() -> bool:
    try:
        from uvicorn.protocols.websockets import websockets_sansio_impl  # noqa: F401
    except ImportError:
        return False
    return True


@contextmanager
def chromium() -> Iterator[Any]:
    """Headless Chromium from /usr/bin, driven by Playwright."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            yield browser
        finally:
            browser.close()
