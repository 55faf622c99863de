"""Foreground extraction: MOG2 with shadow removal, morphology and connected components."""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from workers.camera.config import MotionConfig


@dataclass(frozen=True, slots=True)
class Blob:
    """A connected foreground component in analysis pixels."""

    x: int
    y: int
    w: int
    h: int
    area: int

    @property
    def box(self) -> tuple[float, float, float, float]:
        """Returns (x1, y1, x2, y2)."""
        return (float(self.x), float(self.y), float(self.x + self.w), float(self.y + self.h))


def absorb_rate(seconds: float, fps: float, background_ratio: float = 0.9) -> float:
    """MOG2 learning rate at which a new static colour joins the background after `seconds`."""
    # The old mode stays background until its weight (1 - a)^n drops below backgroundRatio.
    frames = max(1.0, seconds * fps)
    return float(1.0 - background_ratio ** (1.0 / frames))


class GainCompensator:
    """Cancels global brightness steps (clouds, street lights, auto exposure) before subtraction."""

    def __init__(self, time_constant_frames: float = 3000.0, limits: tuple[float, float] = (0.4, 2.5)):
        self._alpha = 1.0 / time_constant_frames
        self._limits = limits
        self._reference: np.ndarray | None = None

    def apply(self, image: np.ndarray) -> np.ndarray:
        """Scales the frame so it matches a slowly following reference view."""
        # Every 4th pixel is plenty for a global level and keeps this around 0.1 ms.
        sample = image[::4, ::4].astype(np.float32)
        if self._reference is None or self._reference.shape != sample.shape:
            self._reference = sample
            return image
        # Median of per-pixel ratios over unsaturated pixels: clipping and moving objects barely move it,
        # where a plain mean ratio under-corrects as soon as highlights clip.
        valid = (sample > 8) & (sample < 247) & (self._reference > 8) & (self._reference < 247)
        ratios = self._reference[valid] / sample[valid]
        gain = float(np.median(ratios)) if ratios.size > 64 else 1.0
        gain = min(max(gain, self._limits[0]), self._limits[1])
        # The reference follows the raw view slowly: a step is cancelled at once, then handed over
        # gradually to MOG2. Slowly: MOG2 (rate 1/500, tight variances) lags behind any faster drift.
        self._reference += self._alpha * (sample - self._reference)
        if abs(gain - 1.0) < 0.01:
            return image
        return cv2.convertScaleAbs(image, alpha=gain)

    def reset(self) -> None:
        """Forgets the reference (after a recalibration)."""
        self._reference = None


class ForegroundDetector:
    """MOG2 foreground mask cleaned with a 3x3 ellipse, then filtered connected components."""

    def __init__(self, config: MotionConfig, learning_rate: float = -1.0):
        self.config = config
        self.learning_rate = learning_rate
        self._mog = self._make()
        self._kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (config.kernel, config.kernel))

    def _make(self) -> cv2.BackgroundSubtractorMOG2:
        mog = cv2.createBackgroundSubtractorMOG2(
            history=self.config.history, varThreshold=self.config.var_threshold, detectShadows=True
        )
        return mog

    def subtract(self, gray: np.ndarray) -> np.ndarray:
        """Runs MOG2 and returns its raw mask (255 foreground, 127 shadow)."""
        return self._mog.apply(gray, learningRate=self.learning_rate)

    def clean(self, raw: np.ndarray) -> np.ndarray:
        """Drops shadows and speckle: threshold at the shadow cut, open then close."""
        _, mask = cv2.threshold(raw, self.config.shadow_threshold, 255, cv2.THRESH_BINARY)
        mask = cv2.morphologyEx(mask, cv2.MORPH_OPEN, self._kernel)
        return cv2.morphologyEx(mask, cv2.MORPH_CLOSE, self._kernel)

    def recalibrate(self, gray: np.ndarray) -> None:
        """Makes the current frame the background (learning rate 1)."""
        self._mog.apply(gray, learningRate=1.0)

    def detect(self, gray: np.ndarray) -> tuple[np.ndarray, list[Blob]]:
        """Returns the clean mask and its blobs."""
        mask = self.clean(self.subtract(gray))
        return mask, components(mask, self.config.min_area, self.config.max_area)


def components(mask: np.ndarray, min_area: float, max_area: float) -> list[Blob]:
    """Connected components of a binary mask whose area is within [min_area, max_area] of the frame."""
    total = mask.shape[0] * mask.shape[1]
    lo, hi = min_area * total, max_area * total
    # 16-bit labels are three times faster than the default 32-bit and a mask never holds 65k blobs.
    count, _, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8, ltype=cv2.CV_16U)
    blobs = []
    for i in range(1, count):
        x, y, w, h, area = (int(v) for v in stats[i])
        if lo <= area <= hi:
            blobs.append(Blob(x, y, w, h, area))
    return blobs


def merge_close(blobs: list[Blob], gap: float) -> list[Blob]:
    """Unites blobs whose boxes come within `gap` pixels: one object split by a colour close to the background."""
    merged = list(blobs)
    changed = True
    while changed and len(merged) > 1:
        changed = False
        for i in range(len(merged)):
            for j in range(i + 1, len(merged)):
                a, b = merged[i], merged[j]
                if (a.x - gap <= b.x + b.w and b.x - gap <= a.x + a.w
                        and a.y - gap <= b.y + b.h and b.y - gap <= a.y + a.h):
                    x1, y1 = min(a.x, b.x), min(a.y, b.y)
                    x2, y2 = max(a.x + a.w, b.x + b.w), max(a.y + a.h, b.y + b.h)
                    merged[i] = Blob(x1, y1, x2 - x1, y2 - y1, a.area + b.area)
                    del merged[j]
                    changed = True
                    break
            if changed:
                break
    return merged


def changed_fraction(mask: np.ndarray) -> float:
    """Share of the frame marked foreground."""
    return cv2.countNonZero(mask) / float(mask.size)
