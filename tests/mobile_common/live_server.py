"""The real API (or a small fake) served by uvicorn on a free loopback port, in a thread, stoppable and
restartable on the same port: what a phone meets when the network goes away and comes back."""

from __future__ import annotations

import socket
import threading
import time
from typing import Any

import uvicorn


def free_port() -> int:
    """A free TCP port on 127.0.0.1."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class LiveServer:
    """An ASGI app on http://127.0.0.1:<port>; `app_factory()` builds a fresh app for every start."""

    def __init__(self, app_factory: Any, port: int | None = None) -> None:
        self.app_factory = app_factory
        self.port = port or free_port()
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        """http://127.0.0.1:<port>"""
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> LiveServer:
        """Serves until stop(); returns once it accepts connections."""
        config = uvicorn.Config(self.app_factory(), host="127.0.0.1", port=self.port, log_level="warning",
                                lifespan="on", timeout_graceful_shutdown=1)
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, name=f"uvicorn-{self.port}", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 20
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError("the server did not start")
            time.sleep(0.02)
        return self

    def stop(self) -> None:
        """Stops serving: connections are refused from now on."""
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(10)
        self._server = self._thread = None

    @property
    def running(self) -> bool:
        """Whether it serves."""
        return self._server is not None
