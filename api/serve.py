"""`smartcity serve --processes N`: N API processes on one port, balanced by the kernel (SO_REUSEPORT).

Uvicorn's own `workers=` shares one listening socket, and whichever process wakes first accepts: on a
loaded machine one process took every connection of a test while the other sat idle. Here each process
listens on its own SO_REUSEPORT socket, and the kernel spreads new connections over them by hash.
The parent only reserves the port, starts the processes, forwards SIGTERM/SIGINT and restarts a process
that dies; it never serves a request itself."""

from __future__ import annotations

import logging
import multiprocessing
import signal
import socket
import time
from typing import Any

log = logging.getLogger("smartcity.serve")
RESTART_LIMIT = 5  # crashes within RESTART_WINDOW before the supervisor gives up
RESTART_WINDOW = 60.0


def _socket(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    return sock


def _child(host: str, port: int, options: dict[str, Any]) -> None:
    import uvicorn

    from api.app import create_app
    from api.config import get_settings
    from api.core.logging import configure_logging

    settings = get_settings()  # from the environment, as the parent read it
    configure_logging(settings.log_level, settings.log_json)
    sock = _socket(host, port)
    server = uvicorn.Server(uvicorn.Config(create_app(settings), **options))
    server.run(sockets=[sock])


def serve_processes(count: int, host: str, port: int, options: dict[str, Any]) -> int:
    """Runs `count` API processes until SIGTERM/SIGINT; returns the exit status."""
    reservation = _socket(host, port)  # bound, never listening: holds the port and resolves port 0
    port = reservation.getsockname()[1]
    context = multiprocessing.get_context("spawn")
    stopping = False

    def start(index: int) -> multiprocessing.process.BaseProcess:
        process = context.Process(target=_child, args=(host, port, options), name=f"smartcity-api-{index}")
        process.start()
        return process

    def stop(signum: int, _frame: object) -> None:
        nonlocal stopping
        stopping = True
        # SIGTERM to each, whichever signal came: uvicorn drains on it, while a second SIGINT (a terminal's
        # Ctrl-C already reached the whole process group) would make it drop connections at once.
        for process in processes:
            if process.is_alive():
                process.terminate()

    processes = [start(i) for i in range(count)]
    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGTERM, signal.SIGINT)}
    log.info("serving on %s:%d with %d processes", host, port, count)
    crashes: list[float] = []
    try:
        while not stopping:
            time.sleep(0.5)
            for index, process in enumerate(processes):
                if process.is_alive() or stopping:
                    continue
                now = time.monotonic()
                crashes = [t for t in crashes if now - t < RESTART_WINDOW] + [now]
                if len(crashes) > RESTART_LIMIT:
                    log.error("API processes keep exiting (last status %s); giving up", process.exitcode)
                    stop(signal.SIGTERM, None)
                    return 1
                log.error("API process %d exited with status %s; restarting it", process.pid, process.exitcode)
                processes[index] = start(index)
        for process in processes:
            process.join(timeout=30)
            if process.is_alive():
                process.kill()
        return 0
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        reservation.close()

