"""The per-camera run loop: read, sample to the analysis rate, analyse, hand events out; it never raises."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from pathlib import Path

from workers.camera.config import CameraConfig
from workers.camera.events import CameraEvent
from workers.camera.pipeline import CameraPipeline
from workers.camera.source import FrameSource

log = logging.getLogger(__name__)


def _deliver(on_event: Callable[[CameraEvent], None], event: CameraEvent) -> None:
    try:
        on_event(event)
    except Exception:  # a failing sink (database down) must not stop the analysis
        log.exception("event sink failed for %s", event.id)


def run_camera(config: CameraConfig, source: FrameSource, on_event: Callable[[CameraEvent], None], *,
               stop: threading.Event | None = None, evidence_dir: str | Path | None = None,
               max_frames: int | None = None) -> int:
    """Analyses a source until it is exhausted, `stop` is set or `max_frames` were read; returns frames analysed."""
    pipeline = CameraPipeline(config, evidence_dir=evidence_dir)
    stop = stop or threading.Event()
    analysed, read, t = 0, 0, 0.0
    while not stop.is_set() and (max_frames is None or read < max_frames):
        try:
            ok, frame, stamp = source.read()
        except Exception:  # sources should not raise; if one does, treat it as a missed frame
            log.exception("source read failed for %s", config.code)
            ok, frame, stamp = False, None, t
        read += 1
        if not ok:
            if getattr(source, "exhausted", False):
                break
            continue
        t = max(t, stamp)
        if not pipeline.due(stamp):
            continue
        try:
            events = pipeline.process(frame, stamp)
        except Exception:
            log.exception("analysis failed for %s at %.2fs", config.code, stamp)
            continue
        analysed += 1
        for event in events:
            _deliver(on_event, event)
    try:
        for event in pipeline.finish(t):
            _deliver(on_event, event)
    except Exception:
        log.exception("closing events failed for %s", config.code)
    return analysed
