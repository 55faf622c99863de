"""One camera's analysis: downscale -> subtract -> clean -> components -> track -> rules -> events."""

from __future__ import annotations

import time
from collections import defaultdict
from pathlib import Path

import cv2
import numpy as np

from workers.camera.config import CameraConfig
from workers.camera.events import CameraEvent, EventManager, RuleSpec
from workers.camera.evidence import EvidenceRecorder
from workers.camera.motion import (
    ForegroundDetector,
    GainCompensator,
    changed_fraction,
    components,
    merge_close,
)
from workers.camera.rules import FrameContext, Observation, build_rules
from workers.camera.static import StaticDetector
from workers.camera.tamper import TamperDetector
from workers.camera.track import Tracker

STATIC_TYPES = {"abandoned_object", "stopped_vehicle", "no_parking"}


class StageTimings:
    """Seconds spent per stage, for the benchmark and for operators."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = defaultdict(float)
        self.frames = 0

    def per_frame_ms(self) -> dict[str, float]:
        """Mean milliseconds per analysed frame for each stage."""
        n = max(1, self.frames)
        return {k: 1000.0 * v / n for k, v in self.seconds.items()}


class CameraPipeline:
    """Feed it frames with stream timestamps (seconds); it returns event transitions."""

    def __init__(self, config: CameraConfig, *, evidence_dir: str | Path | None = None):
        self.config = config
        self.fg = ForegroundDetector(config.motion)
        self.gain = GainCompensator()
        self.tracker = Tracker(config.tracker)
        self.tamper = TamperDetector(config.tamper, config.analysis_fps)
        self.timings = StageTimings()
        self.feeds: dict[str, str] = {}
        self.recalibrations = 0
        self.size: tuple[int, int] | None = None
        self.rules: list = []
        self.events: EventManager | None = None
        self.static: StaticDetector | None = None
        self.evidence: EvidenceRecorder | None = None
        self._evidence_dir = evidence_dir if (evidence_dir and config.evidence.enabled) else None
        self._next_due = -np.inf
        self._t0: float | None = None
        self._muted_until_frame = 0
        self._frame_no = 0
        self._was_suspect = False
        self._tamper_specs = {
            kind: RuleSpec(f"tamper_{kind}", f"tamper_{kind}", cooldown_s=60.0, close_after_s=2.0)
            for kind in ("covered", "defocused", "moved")
        }

    def _setup(self, frame: np.ndarray) -> None:
        h, w = frame.shape[:2]
        width = min(self.config.analysis_width, w)
        height = max(2, int(round(h * width / w)))
        self.size = (width, height)
        self.rules = build_rules(self.config, width, height)
        self.specs = {
            r.config.name: RuleSpec(r.config.name, r.config.type, r.config.cooldown_s, r.config.raise_incident)
            for r in self.rules
        }
        self.events = EventManager(self.config.code, width, height, post_s=self.config.evidence.post_s)
        static_rules = [r.config for r in self.rules if r.config.type in STATIC_TYPES]
        if static_rules:
            min_area = min(r.min_area for r in static_rules)
            self.static = StaticDetector(self.config.static, self.config.motion, self.config.analysis_fps, min_area)
        if self._evidence_dir is not None:
            self.evidence = EvidenceRecorder(
                self._evidence_dir, self.config.code, self.config.evidence, self.config.analysis_fps, width
            )

    def set_signal(self, controller: str, state: str) -> None:
        """Pushes a signal state (red/amber/green) from a traffic controller feed."""
        self.feeds[controller] = state

    def due(self, t: float) -> bool:
        """Tells whether a frame at time t should be analysed at the configured analysis fps."""
        if t + 1e-6 < self._next_due:
            return False
        period = 1.0 / self.config.analysis_fps
        self._next_due = max(self._next_due + period, t + period * 0.5) if np.isfinite(self._next_due) else t + period
        return True

    def _recalibrate(self, image: np.ndarray) -> None:
        self.recalibrations += 1
        self.gain.reset()
        # The new view becomes the gain reference too, otherwise the next frame differs by the old gain.
        view = self.gain.apply(image) if self.config.guard.gain_compensation else image
        self.fg.recalibrate(view)
        if self.static is not None:
            self.static.recalibrate(view)
        self.tracker.reset()
        self._muted_until_frame = self._frame_no + self.config.guard.settle_frames

    def process(self, frame: np.ndarray, t: float) -> list[CameraEvent]:
        """Analyses one BGR frame taken at stream time t (seconds)."""
        if self.size is None:
            self._setup(frame)
        assert self.size is not None  # set by _setup from the first frame
        if self._t0 is None:
            self._t0 = t
        self._frame_no += 1
        timings = self.timings.seconds
        clock = time.perf_counter

        c0 = clock()
        small = frame if frame.shape[1] == self.size[0] else cv2.resize(frame, self.size, interpolation=cv2.INTER_AREA)
        raw_gray = cv2.cvtColor(small, cv2.COLOR_BGR2GRAY)
        c1 = clock()
        timings["downscale"] += c1 - c0

        tamper = self.tamper.update(raw_gray, t)
        image = small if self.config.motion.color else raw_gray
        view = self.gain.apply(image) if self.config.guard.gain_compensation else image
        c2 = clock()
        timings["tamper"] += c2 - c1

        raw = self.fg.subtract(view)
        c3 = clock()
        timings["subtract"] += c3 - c2
        mask = self.fg.clean(raw)
        c4 = clock()
        timings["clean"] += c4 - c3
        m = self.config.motion
        blobs = merge_close(components(mask, m.min_area, m.max_area), m.merge_gap * self.size[0])
        c5 = clock()
        timings["components"] += c5 - c4

        observations: list[tuple[RuleSpec, Observation]] = []
        full_box = (0.0, 0.0, float(self.size[0]), float(self.size[1]))
        for kind, since in tamper.active.items():
            observations.append((self._tamper_specs[kind], Observation(f"tamper:{kind}", since, full_box)))

        muted = self._frame_no <= self._muted_until_frame or t - self._t0 < self.config.guard.warmup_s
        if tamper.suspect:
            # Covered, blurred or moved: nothing the detectors see now is trustworthy.
            muted, self._was_suspect = True, True
            self.tracker.reset()
        elif self._was_suspect:
            self._was_suspect = False
            self._recalibrate(image)
            muted = True
        elif self._frame_no > 1 and changed_fraction(mask) > self.config.guard.max_changed_fraction:
            # Shadow-marked pixels are left out: global darkening is the gain compensator's job, and slow
            # dusk drift shows up as "shadow" long before MOG2 has followed it.
            self._recalibrate(image)
            muted = True

        if muted:
            self.tracker.coast()
            tracks = []
        else:
            boxes = np.array([b.box for b in blobs], dtype=np.float32).reshape(-1, 4)
            tracks = self.tracker.update(boxes, t)
        c6 = clock()
        timings["track"] += c6 - c5

        statics = self.static.update(view, t) if self.static is not None and not tamper.suspect else []
        c7 = clock()
        timings["static"] += c7 - c6

        ctx = FrameContext(t, self.size[0], self.size[1], tracks, self.tracker.ended,
                           [] if muted else statics, small, self.feeds)
        for rule in self.rules:
            found = rule.evaluate(ctx)
            if not muted:
                observations.extend((self.specs[rule.config.name], o) for o in found)
        transitions = self.events.step(t, observations)
        c8 = clock()
        timings["rules"] += c8 - c7

        if self.evidence is not None:
            self._record(frame, transitions)
        timings["evidence"] += clock() - c8
        self.timings.frames += 1
        return transitions

    def _record(self, frame: np.ndarray, transitions: list[CameraEvent]) -> None:
        self.evidence.push(frame)
        fresh = set()
        for event in transitions:
            if event.state == "new":
                box = next((o.box_px for o in self.events.open.values() if o.event.id == event.id), None)
                if box is None:  # opened and closed on the same frame
                    w, h = self.size
                    box = (event.box[0] * w, event.box[1] * h, event.box[2] * w, event.box[3] * h)
                self.evidence.opened(event, box)
                self.events.attach(event.id, event.evidence)
                fresh.add(event.id)
        for item in self.events.open.values():
            if item.event.id not in fresh:
                self.evidence.during(item.event.id, item.box_px)
        for event in transitions:
            if event.state == "end":
                self.evidence.closed(event)

    def finish(self, t: float) -> list[CameraEvent]:
        """Closes every open event at the end of the stream."""
        if self.events is None:
            return []
        transitions = self.events.close_all(t)
        if self.evidence is not None:
            for event in transitions:
                self.evidence.closed(event)
            self.evidence.close()
        return transitions
