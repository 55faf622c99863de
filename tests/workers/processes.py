"""Helpers for tests that run worker processes: the fake FCM server as a process, waiting for a condition."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]
SMARTCITY = Path(sys.executable).parent / "smartcity"


class Fake:
    """The fake FCM server as a process."""

    def __init__(self, process: subprocess.Popen[str], url: str, service_account: Path) -> None:
        self.process, self.url, self.service_account = process, url, service_account

    def stats(self) -> dict:
        """What the fake received so far."""
        return httpx.get(f"{self.url}/_fake/stats", timeout=10).json()

    def answers(self) -> bool:
        """Whether the fake accepts connections yet."""
        try:
            self.stats()
        except httpx.ConnectError:
            return False
        return True


def wait_until(condition: Callable[[], bool], timeout: float, what: str) -> None:
    """Polls `condition` until it holds; fails the test after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)
