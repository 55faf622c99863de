"""Tamper alarms: lens covered, image defocused, camera moved; compared against a slowly refreshed reference."""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from workers.camera.config import TamperConfig

WIDTH = 160  # tamper looks at a thumbnail: global properties survive the downscale and it costs ~0.3 ms


@dataclass
class TamperState:
    """The conditions holding on one frame and since when (condition start, not alarm time)."""

    active: dict[str, float]  # kind -> since
    suspect: bool  # something is off, alarm or not yet: rules should not trust this frame


def _sharpness(gray: np.ndarray) -> float:
    # Laplacian energy over intensity variance: invariant to a global gain (illumination step).
    std = float(gray.std())
    lap = cv2.Laplacian(gray, cv2.CV_32F)
    return float(lap.var()) / (std * std + 1.0)


class TamperDetector:
    """Call `update` with each raw (not gain-compensated) grey analysis frame."""

    def __init__(self, config: TamperConfig, fps: float):
        self.config = config
        self._every = max(1, round(fps / 2.5))
        self._n = 0
        self._ref: np.ndarray | None = None
        self._ref_sharp = 0.0
        self._window: np.ndarray | None = None
        self._pending: dict[str, float] = {}
        self._active: dict[str, float] = {}
        self._last = TamperState({}, False)

    def _thumb(self, gray: np.ndarray) -> np.ndarray:
        h = max(8, round(gray.shape[0] * WIDTH / gray.shape[1]))
        return cv2.resize(gray, (WIDTH, h), interpolation=cv2.INTER_AREA).astype(np.float32)

    def reset_reference(self, gray: np.ndarray) -> None:
        """Takes this frame as the reference view."""
        thumb = self._thumb(gray)
        self._ref = thumb
        self._ref_sharp = _sharpness(thumb)
        self._window = cv2.createHanningWindow((thumb.shape[1], thumb.shape[0]), cv2.CV_32F)

    def _conditions(self, thumb: np.ndarray) -> set[str]:
        found = set()
        std = float(thumb.std())
        if std < self.config.covered_max_std:
            return {"covered"}
        if _sharpness(thumb) < self.config.defocus_ratio * self._ref_sharp:
            return {"defocused"}
        ref_n = self._ref / (float(self._ref.mean()) + 1e-3)
        cur_n = thumb / (float(thumb.mean()) + 1e-3)
        (dx, dy), response = cv2.phaseCorrelate(ref_n, cur_n, self._window)
        shifted = np.hypot(dx, dy) >= self.config.moved_shift * WIDTH and response > 0.05
        # A rotation or zoom defeats phase correlation; a view that no longer matches anywhere does not.
        changed = float((np.abs(cv2.GaussianBlur(cur_n - ref_n, (5, 5), 0)) > 0.25).mean())
        if shifted or changed >= max(self.config.moved_min_change, 0.01) and self.config.moved_min_change > 0:
            found.add("moved")
        return found

    def update(self, gray: np.ndarray, t: float) -> TamperState:
        """Returns the tamper conditions in force at time t."""
        if not self.config.enabled:
            return self._last
        if self._ref is None:
            self.reset_reference(gray)
            return self._last
        self._n += 1
        if self._n % self._every:
            return self._last
        thumb = self._thumb(gray)
        now = self._conditions(thumb)
        for kind in list(self._pending):
            if kind not in now:
                del self._pending[kind]
        for kind in list(self._active):
            if kind not in now:
                del self._active[kind]
        for kind in now:
            since = self._pending.setdefault(kind, t)
            if t - since >= self.config.min_duration_s - 1e-6:
                self._active.setdefault(kind, since)
        moved_since = self._active.get("moved")
        if moved_since is not None and t - moved_since >= self.config.rebaseline_s:
            # Somebody re-aimed the camera on purpose or it will stay like this: accept the new view.
            self.reset_reference(gray)
            self._active.pop("moved")
            self._pending.pop("moved", None)
        if not now:
            # Follow slow changes (dusk, parked cars) only while the view is trusted.
            cv2.accumulateWeighted(thumb, self._ref, 0.02)
            self._ref_sharp += 0.02 * (_sharpness(thumb) - self._ref_sharp)
        self._last = TamperState(dict(self._active), bool(now))
        return self._last
