"""Capture in a child process with a staleness watchdog and reconnect back-off; emits online/offline status."""

from __future__ import annotations

import logging
import multiprocessing as mp
import queue as queue_module
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SourceStatus:
    """A camera going online or offline; `retry_in` says when the next attempt is due."""

    camera: str
    state: str  # online | offline
    at: float  # wall-clock time.time()
    reason: str = ""
    attempt: int = 0
    retry_in: float | None = None


def _capture_main(spec: str, frames: mp.Queue, open_timeout_ms: int, read_timeout_ms: int) -> None:
    """Child process: opens the source and pushes frames, dropping the oldest when the parent lags."""
    import cv2

    from workers.camera.source import FrameSource, VideoCaptureSource, open_source

    cv2.setNumThreads(1)
    try:
        if "://" in spec or not spec.startswith("synthetic:"):
            source: FrameSource = VideoCaptureSource(spec, open_timeout_ms, read_timeout_ms)
            if not source.opened:
                frames.put(("error", f"cannot open {spec}"))
                return
        else:
            source = open_source(spec)
        while True:
            ok, frame, _ = source.read()
            if not ok:
                frames.put(("eof", "stream ended or read failed"))
                return
            try:
                frames.put_nowait(("frame", frame))
            except queue_module.Full:
                try:  # keep the newest frame: analysis wants now, not a backlog
                    frames.get_nowait()
                except queue_module.Empty:
                    pass
    except Exception as exc:  # the parent only needs the reason; the child dies either way
        frames.put(("error", repr(exc)))


class CaptureProcess:
    """A FrameSource whose `read()` never raises and never hangs longer than `poll_s`."""

    exhausted = False  # live sources are retried forever

    def __init__(self, spec: str, camera: str = "", *, stale_after_s: float = 20.0, backoff_initial_s: float = 1.0,
                 backoff_max_s: float = 60.0, poll_s: float = 0.5, open_timeout_ms: int = 10_000,
                 read_timeout_ms: int = 10_000, on_status: Callable[[SourceStatus], None] | None = None):
        self.spec, self.camera = spec, camera
        self.stale_after_s, self.poll_s = stale_after_s, poll_s
        self.backoff_initial_s, self.backoff_max_s = backoff_initial_s, backoff_max_s
        self.timeouts = (open_timeout_ms, read_timeout_ms)
        self.on_status = on_status
        self.state = "unknown"
        self.statuses: list[SourceStatus] = []
        self.attempts: list[float] = []  # monotonic start time of every connection attempt
        self._ctx = mp.get_context("spawn")  # fork would copy OpenCV's threads and FFmpeg state
        self._proc: mp.process.BaseProcess | None = None
        self._queue: mp.Queue | None = None
        self._backoff = backoff_initial_s
        self._retry_at = 0.0
        self._last_frame = 0.0
        self._t0 = time.monotonic()
        self.started_wall = time.time()

    def _start(self, now: float) -> None:
        self.attempts.append(now)
        self._queue = self._ctx.Queue(maxsize=4)
        self._proc = self._ctx.Process(
            target=_capture_main, args=(self.spec, self._queue, *self.timeouts), daemon=True,
            name=f"capture-{self.camera or 'camera'}",
        )
        self._proc.start()
        self._last_frame = now  # the watchdog counts from the start of the attempt

    def _stop_child(self) -> None:
        if self._proc is not None:
            if self._proc.is_alive():
                self._proc.terminate()
                self._proc.join(2.0)
                if self._proc.is_alive():
                    self._proc.kill()
                    self._proc.join(2.0)
            self._proc = None
        if self._queue is not None:
            # A terminated writer can leave the queue half-written: never reuse it.
            self._queue.cancel_join_thread()
            self._queue.close()
            self._queue = None

    def _emit(self, state: str, reason: str, retry_in: float | None = None) -> None:
        status = SourceStatus(self.camera, state, time.time(), reason, len(self.attempts), retry_in)
        self.state = state
        self.statuses.append(status)
        log.log(logging.INFO if state == "online" else logging.WARNING, "camera %s %s: %s", self.camera, state, reason)
        if self.on_status is not None:
            try:
                self.on_status(status)
            except Exception:
                log.exception("status callback failed")

    def _fail(self, reason: str, now: float) -> None:
        self._stop_child()
        retry_in = self._backoff
        self._retry_at = now + retry_in
        self._backoff = min(self._backoff * 2.0, self.backoff_max_s)
        if self.state != "offline":
            self._emit("offline", reason, retry_in)
        else:
            log.info("camera %s still offline (%s), retry in %.1fs", self.camera, reason, retry_in)

    def read(self) -> tuple[bool, np.ndarray | None, float]:
        """Returns (ok, frame, seconds since this source was created)."""
        try:
            return self._read()
        except Exception as exc:
            log.exception("capture for %s failed", self.camera)
            self._fail(f"internal error: {exc!r}", time.monotonic())
            return False, None, time.monotonic() - self._t0

    def _read(self) -> tuple[bool, np.ndarray | None, float]:
        now = time.monotonic()
        if self._proc is None:
            if now < self._retry_at:
                time.sleep(min(self.poll_s, self._retry_at - now))
                return False, None, time.monotonic() - self._t0
            self._start(now)
        try:
            message = self._queue.get(timeout=self.poll_s)
        except queue_module.Empty:
            message = None
        now = time.monotonic()
        if message is None:
            if not self._proc.is_alive():
                self._fail(f"capture process exited with code {self._proc.exitcode}", now)
            elif now - self._last_frame > self.stale_after_s:
                self._fail(f"no frame for {self.stale_after_s:.0f}s", now)
            return False, None, now - self._t0
        if message[0] != "frame":
            self._fail(message[1], now)
            return False, None, now - self._t0
        self._last_frame = now
        if self.state != "online":
            self._backoff = self.backoff_initial_s
            self._emit("online", "frames flowing")
        return True, message[1], now - self._t0

    def close(self) -> None:
        """Stops the child process."""
        self._stop_child()
