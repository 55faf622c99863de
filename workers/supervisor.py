"""`smartcity worker --processes N`: a small supervisor over N complete worker processes.

Each child is `python -m api.cli worker --child i`, the same worker as `smartcity worker`: its own
scheduler and database pool. Exclusive jobs are kept apart by their database lease; push drains run in
every child at once (the outbox's row leases keep them apart), so N children use N cores for a fan-out,
which is CPU-bound in firebase-admin. With SMARTCITY_WORKER_METRICS_PORT=P, child i serves its metrics
on P+i (the supervisor serves none).

The supervisor holds no connection and runs no job. It forwards SIGTERM/SIGINT to the children as
SIGTERM (each finishes its current batch and exits) and exits 0 once all did. A child that dies is
restarted after a back-off that doubles while children die soon after starting; when one has died
`max_quick_deaths` times in a row within `min_uptime` of its start (a bad configuration, a port in use),
the supervisor stops the others and exits 1 instead of restarting forever.
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from typing import Any

from api.config import ConfigError, Settings

log = logging.getLogger("workers.supervisor")

# How a child stopped by our SIGTERM may end: 0 normally; killed by the signal or interrupted when it
# came before the child had set up its handlers (nothing was in flight then).
_STOPPED_CLEANLY = {0, -signal.SIGTERM, -signal.SIGINT, 130}


@dataclass
class _Slot:
    """One child's place: the process in it now, and its recent deaths."""

    index: int
    process: subprocess.Popen[bytes] | None = None
    started: float = 0.0
    quick_deaths: int = 0  # deaths in a row, each within min_uptime of its start
    restart_at: float | None = None


class Supervisor:
    """Starts `processes` worker children and keeps them running until told to stop."""

    def __init__(
        self, settings: Settings, processes: int, *, min_uptime: float = 10.0, backoff: float = 0.5,
        backoff_cap: float = 30.0, max_quick_deaths: int = 5, stop_timeout: float = 60.0,
    ) -> None:
        self.settings = settings
        self.slots = [_Slot(i) for i in range(processes)]
        self.min_uptime, self.backoff, self.backoff_cap = min_uptime, backoff, backoff_cap
        self.max_quick_deaths, self.stop_timeout = max_quick_deaths, stop_timeout
        self.stopping = threading.Event()

    def run(self) -> int:
        """Runs until SIGTERM/SIGINT (exit 0 when every child stopped cleanly) or until giving up (1)."""
        previous = {sig: signal.signal(sig, self._on_signal) for sig in (signal.SIGTERM, signal.SIGINT)}
        gave_up = False
        try:
            log.info("worker supervisor (pid %d) starting %d processes", os.getpid(), len(self.slots))
            for slot in self.slots:
                self._start(slot)
            while not self.stopping.is_set():
                for slot in self.slots:
                    if not self._tend(slot, time.monotonic()):
                        gave_up = True
                        self.stopping.set()
                        break
                self.stopping.wait(0.2)
            clean = self._stop_all()
            if gave_up:
                return 1
            log.info("worker supervisor: all %d processes stopped", len(self.slots))
            return 0 if clean else 1
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)

    def _on_signal(self, signum: int, _frame: Any) -> None:
        if not self.stopping.is_set():
            log.info("signal %d: stopping %d worker processes after their current batch", signum, len(self.slots))
        self.stopping.set()

    def _tend(self, slot: _Slot, now: float) -> bool:
        """Notices a dead child and restarts it when its back-off is over; False: give up."""
        process = slot.process
        if process is not None and process.poll() is not None and not self.stopping.is_set():
            slot.process = None
            lived = now - slot.started
            slot.quick_deaths = slot.quick_deaths + 1 if lived < self.min_uptime else 0
            status = _describe(process.returncode)
            if slot.quick_deaths >= self.max_quick_deaths:
                log.error(
                    "worker process %d died %d times in a row within %.0f s of starting (last: pid %d, %s);"
                    " giving up", slot.index, slot.quick_deaths, self.min_uptime, process.pid, status,
                )
                return False
            delay = min(self.backoff_cap, self.backoff * 2 ** max(slot.quick_deaths - 1, 0))
            log.error(
                "worker process %d (pid %d) died after %.1f s (%s); restarting it in %.1f s",
                slot.index, process.pid, lived, status, delay,
            )
            slot.restart_at = now + delay
        if slot.process is None and slot.restart_at is not None and now >= slot.restart_at:
            if not self.stopping.is_set():
                self._start(slot)
        return True

    def _start(self, slot: _Slot) -> None:
        env = {**os.environ, "SMARTCITY_WORKER_PROCESSES": "1"}
        if self.settings.worker_metrics_port is not None:
            env["SMARTCITY_WORKER_METRICS_PORT"] = str(self.settings.worker_metrics_port + slot.index)
        command = [sys.executable, "-m", "api.cli", "worker", "--child", str(slot.index)]
        slot.process = subprocess.Popen(command, env=env, stdin=subprocess.DEVNULL)  # logs: our stderr
        slot.started, slot.restart_at = time.monotonic(), None
        log.info("worker process %d started (pid %d)", slot.index, slot.process.pid)

    def _stop_all(self) -> bool:
        """SIGTERM to every child, then waits; kills what is still running after stop_timeout."""
        running = [s for s in self.slots if s.process is not None and s.process.poll() is None]
        for slot in running:
            assert slot.process is not None
            slot.process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + self.stop_timeout
        clean = True
        for slot in running:
            assert slot.process is not None
            try:
                code = slot.process.wait(timeout=max(deadline - time.monotonic(), 0.1))
            except subprocess.TimeoutExpired:
                log.error("worker process %d (pid %d) did not stop within %.0f s; killing it",
                          slot.index, slot.process.pid, self.stop_timeout)
                slot.process.kill()
                slot.process.wait()
                clean = False
                continue
            if code not in _STOPPED_CLEANLY:
                log.error("worker process %d (pid %d) stopped with %s", slot.index, slot.process.pid,
                          _describe(code))
                clean = False
        return clean


def _describe(returncode: int) -> str:
    if returncode < 0:
        try:
            return f"killed by {signal.Signals(-returncode).name}"
        except ValueError:
            return f"killed by signal {-returncode}"
    return f"exit status {returncode}"


def supervise(settings: Settings) -> int:
    """`smartcity worker --processes N` with N > 1: checks what every child needs, then supervises."""
    from api.db import Database, check_database

    count = settings.worker_processes
    port = settings.worker_metrics_port
    if port is not None and port + count - 1 > 65535:
        raise ConfigError(f"SMARTCITY_WORKER_METRICS_PORT {port} + {count} processes runs past port 65535")
    # Once here, rather than have every child fail at start and be restarted until the supervisor gives up.
    database = Database.from_settings(settings)
    try:
        check_database(database.engine)
    finally:
        database.dispose()
    return Supervisor(settings, count).run()
