"""For bench_api: the servers it measures, each in its own process on a free loopback port.

`Server` starts `python -m bench.bench_api serve <kind> <port>`, which runs `serve` here: the platform
(`create_app`, kind `graphql`), the baseline (`plain`: the same read as a bare Starlette endpoint), or canned
replies (`canned`: near-zero server work, the load generator's own ceiling; bench_incidents uses it too).
"""

from __future__ import annotations

import asyncio
import contextlib
import http.client
import importlib.util
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
SERVER_ENV = {
    "SMARTCITY_ENVIRONMENT": "test",
    "SMARTCITY_LOG_JSON": "false",
    "SMARTCITY_LOG_LEVEL": "WARNING",
    "SMARTCITY_DEFAULT_COST_BUDGET": "1000000000",
    "SMARTCITY_COST_REFILL_PER_SECOND": "1000000000",
}


def free_port() -> int:
    """A loopback port free at the time of asking."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _child_env(database_url: str | None) -> dict[str, str]:
    # Only our settings reach the child: a stray SMARTCITY_* in the caller's shell would change the server
    # measured (or make load_settings refuse an unknown one).
    env = {k: v for k, v in os.environ.items() if not k.startswith("SMARTCITY_")}
    env.update(SERVER_ENV)
    if database_url:
        env["SMARTCITY_DATABASE_URL"] = database_url
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH", "")) if p)
    return env


class Server:
    """One uvicorn (or canned-reply) process on a free loopback port; its stderr goes to a file."""

    def __init__(self, kind: str, database_url: str | None, workdir: Path) -> None:
        self.kind = kind
        self.port = free_port()
        self.log = workdir / f"{kind}.stderr"
        with self.log.open("wb") as stderr:
            # cwd is the throwaway directory, so relative defaults (media dir) never touch the checkout.
            self.process = subprocess.Popen(
                [sys.executable, "-m", "bench.bench_api", "serve", kind, str(self.port)],
                env=_child_env(database_url), cwd=workdir, stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL, stderr=stderr,
            )

    def wait_ready(self, timeout: float = 60.0) -> None:
        """Waits until /healthz answers 200."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.kind} server exited: {self.log.read_text()[-2000:]}")
            try:
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
                conn.request("GET", "/healthz")
                if conn.getresponse().status == 200:
                    conn.close()
                    return
                conn.close()
            except OSError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"{self.kind} server not ready after {timeout:.0f} s: {self.log.read_text()[-2000:]}")

    def stop(self) -> None:
        """Terminates the process (then kills it if it lingers)."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)


@contextlib.contextmanager
def servers(kinds: list[str], database_url: str | None) -> Iterator[dict[str, Server]]:
    """One ready server per kind, in a throwaway working directory; stopped afterwards, even on failure."""
    workdir = Path(tempfile.mkdtemp(prefix="bench-api-srv-"))
    running: dict[str, Server] = {}
    try:
        for kind in kinds:
            running[kind] = Server(kind, database_url, workdir)
        for server in running.values():
            server.wait_ready()
        yield running
    finally:
        for server in running.values():
            server.stop()
        shutil.rmtree(workdir, ignore_errors=True)


def serve(kind: str, port: int) -> None:
    """Child process: serves the platform, the plain endpoint, or canned replies on 127.0.0.1:port."""
    loop = "uvloop" if importlib.util.find_spec("uvloop") else "auto"
    if kind == "canned":
        if loop == "uvloop":
            import uvloop

            uvloop.run(_canned(port))
        else:
            asyncio.run(_canned(port))
        return
    import uvicorn

    from api.config import load_settings
    from api.core.logging import configure_logging

    settings = load_settings()
    configure_logging(settings.log_level, settings.log_json)  # as `smartcity serve` does
    if kind == "graphql":
        from api.app import create_app

        app: Any = create_app(settings)
    else:
        app = _plain_app(settings)
    # The options of `smartcity serve` (api/cli.py), with the event loop made explicit.
    uvicorn.run(
        app, host="127.0.0.1", port=port, log_config=None, loop=loop, ws="websockets-sansio",
        proxy_headers=True, server_header=False, timeout_graceful_shutdown=5,
    )


def _plain_app(settings: Any) -> Any:
    """The baseline: the same read through the same engine settings, as a bare Starlette JSON endpoint."""
    from sqlmodel import Session, select
    from starlette.applications import Starlette
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    from api.db import make_engine
    from api.identity.models import AdministrativeUnit

    engine = make_engine(settings)
    stmt = select(AdministrativeUnit).order_by(AdministrativeUnit.code).limit(1)  # type: ignore[arg-type]

    async def first_unit(request: Any) -> JSONResponse:
        # Synchronous, in the event loop, as strawberry runs the (sync) administrativeUnits resolver.
        with Session(engine) as session:
            unit = session.exec(stmt).first()
        assert unit is not None
        return JSONResponse({"code": unit.code, "name": unit.name})

    async def healthz(request: Any) -> JSONResponse:
        return JSONResponse({"status": "ok"})

    return Starlette(routes=[Route("/unit", first_unit), Route("/healthz", healthz)])


async def _canned(port: int) -> None:
    """Answers every request with a fixed 200: near-zero server work, so the client is what is measured."""
    body = b'{"code":"30742","name":"Phuong Rach Gia"}'
    reply = b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: %d\r\n\r\n%s" % (
        len(body), body)

    class Canned(asyncio.Protocol):
        def connection_made(self, transport: Any) -> None:
            self.transport = transport
            self.buffer = b""

        def data_received(self, data: bytes) -> None:
            # Bodiless GETs only: one reply per end of headers.
            self.buffer += data
            count = self.buffer.count(b"\r\n\r\n")
            if count:
                self.buffer = self.buffer.rsplit(b"\r\n\r\n", 1)[1]
                self.transport.write(reply * count)

    server = await asyncio.get_running_loop().create_server(Canned, "127.0.0.1", port)
    async with server:
        await server.serve_forever()
