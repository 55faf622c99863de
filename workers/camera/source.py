"""Frame sources: OpenCV/FFmpeg streams and files, synthetic scenes, and a watchdogged child-process capture."""

from __future__ import annotations

import logging
import os
import time
from typing import Protocol
from urllib.parse import parse_qs

import cv2
import numpy as np

log = logging.getLogger(__name__)

# RTSP over UDP loses packets on busy links and smears frames; TCP is what the anchors default to.
os.environ.setdefault("OPENCV_FFMPEG_CAPTURE_OPTIONS", "rtsp_transport;tcp")


class FrameSource(Protocol):
    """Anything that yields frames: `read()` returns (ok, frame, timestamp seconds) and never blocks forever."""

    exhausted: bool  # True once a file or scene has ended (live streams never are)

    def read(self) -> tuple[bool, np.ndarray | None, float]:
        """Returns the next frame, or ok=False when none is available now."""
        ...

    def close(self) -> None:
        """Releases the source."""
        ...


class VideoCaptureSource:
    """A file or network stream through cv2.VideoCapture with the FFmpeg back end and its timeouts."""

    def __init__(self, url: str, open_timeout_ms: int = 5000, read_timeout_ms: int = 5000):
        self.url = url
        self.is_file = "://" not in url
        # Without CAP_FFMPEG the open timeout is ignored (measured on opencv-python-headless 4.14).
        self._cap = cv2.VideoCapture(
            url, cv2.CAP_FFMPEG,
            [cv2.CAP_PROP_OPEN_TIMEOUT_MSEC, open_timeout_ms, cv2.CAP_PROP_READ_TIMEOUT_MSEC, read_timeout_ms],
        )
        self.opened = bool(self._cap.isOpened())
        self.exhausted = not self.opened
        self._start = time.time()

    def read(self) -> tuple[bool, np.ndarray | None, float]:
        """Reads one frame; files are timed by their position, streams by the wall clock."""
        if not self.opened:
            return False, None, time.time() - self._start
        ok, frame = self._cap.read()
        if not ok and self.is_file:
            self.exhausted = True
        if self.is_file:
            t = self._cap.get(cv2.CAP_PROP_POS_MSEC) / 1000.0
        else:
            t = time.time() - self._start
        return bool(ok), frame if ok else None, t

    def close(self) -> None:
        """Releases the capture."""
        self._cap.release()


class SyntheticSource:
    """Frames from a scripted scene, with optional faults: `fail_after` frames then nothing, or a hang."""

    def __init__(self, scene: str, variant: str = "clean", seed: int = 0, width: int = 640, height: int = 360,
                 fps: float = 5.0, fail_after: int | None = None, hang_after: int | None = None, realtime: bool = False):
        from workers.camera.scenes import build_scene  # the generator is only needed for synthetic sources
        from workers.camera.synthetic import SceneRenderer

        self.scene = build_scene(scene, seed)
        self.renderer = SceneRenderer(self.scene, width, height, fps, variant, seed)
        self.fps, self.fail_after, self.hang_after, self.realtime = fps, fail_after, hang_after, realtime
        self._i = 0
        self.exhausted = False

    def read(self) -> tuple[bool, np.ndarray | None, float]:
        """Renders the next frame; ok=False at the end of the scene or after an injected failure."""
        t = self._i / self.fps
        if self.hang_after is not None and self._i >= self.hang_after:
            time.sleep(3600)  # simulates a capture read() that never returns
        if self._i >= self.renderer.frames_total:
            self.exhausted = True
            return False, None, t
        if self.fail_after is not None and self._i >= self.fail_after:
            return False, None, t  # a dead stream: not the end of a file, so not exhausted
        if self.realtime:
            time.sleep(1.0 / self.fps)
        self._i += 1
        return True, self.renderer.render(t), t

    def close(self) -> None:
        """Nothing to release."""


def open_source(spec: str) -> FrameSource:
    """Opens `synthetic:<scene>[?variant=..&seed=..&fail_after=..&hang_after=..&realtime=1]` or a path/URL."""
    if spec.startswith("synthetic:"):
        name, _, query = spec.removeprefix("synthetic:").partition("?")
        args = {k: v[-1] for k, v in parse_qs(query).items()}
        ints = {k: int(args[k]) for k in ("seed", "width", "height", "fail_after", "hang_after") if k in args}
        return SyntheticSource(
            name, variant=args.get("variant", "clean"), fps=float(args.get("fps", 5.0)),
            realtime=args.get("realtime") == "1", **ints,
        )
    return VideoCaptureSource(spec)
