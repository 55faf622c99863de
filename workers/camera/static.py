"""Static objects from two background models: foreground for the long one, background for the short one."""

from __future__ import annotations

import cv2
import numpy as np

from workers.camera.config import MotionConfig, StaticConfig
from workers.camera.motion import absorb_rate, components
from workers.camera.rules import StaticObject
from workers.camera.track import iou


class StaticDetector:
    """Dual-background (PETS 2006 / Porikli style) static region detector with persistent ids."""

    def __init__(self, config: StaticConfig, motion: MotionConfig, fps: float, min_area: float):
        self.config = config
        self.motion = motion
        self.min_area = min_area
        # Absorption expressed in seconds keeps behaviour the same at 2 or 5 fps; at 5 fps the defaults
        # correspond to MOG2 histories of about 8,500 and 50 frames.
        # Still things need neither full resolution nor every frame: half size, every 2nd frame by default.
        model_fps = fps / config.every_n_frames
        self._long_rate = absorb_rate(config.long_absorb_s, model_fps)
        self._short_rate = absorb_rate(config.short_absorb_s, model_fps)
        self._long = self._mog()
        self._short = self._mog()
        self._kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (motion.kernel, motion.kernel))
        self.objects: list[StaticObject] = []
        self._next_id = 1
        self._frames = 0
        self._seen = 0

    def _shrink(self, image: np.ndarray) -> np.ndarray:
        if self.config.scale >= 0.999:
            return image
        w = max(16, round(image.shape[1] * self.config.scale))
        h = max(16, round(image.shape[0] * self.config.scale))
        return cv2.resize(image, (w, h), interpolation=cv2.INTER_AREA)

    def _mog(self) -> cv2.BackgroundSubtractorMOG2:
        return cv2.createBackgroundSubtractorMOG2(
            history=self.motion.history, varThreshold=self.motion.var_threshold, detectShadows=True
        )

    def _mask(self, mog: cv2.BackgroundSubtractorMOG2, gray: np.ndarray, rate: float) -> np.ndarray:
        # Until the models hold a few frames, let them learn at the default (fast) schedule.
        raw = mog.apply(gray, learningRate=rate if self._frames > 10 else -1)
        _, mask = cv2.threshold(raw, self.motion.shadow_threshold, 255, cv2.THRESH_BINARY)
        return mask

    def update(self, image: np.ndarray, t: float) -> list[StaticObject]:
        """Feeds one analysis frame and returns the live static objects (boxes in analysis pixels)."""
        self._seen += 1
        if (self._seen - 1) % self.config.every_n_frames:
            return list(self.objects)
        self._frames += 1
        gray = self._shrink(image)
        inverse = image.shape[1] / gray.shape[1]
        long_fg = self._mask(self._long, gray, self._long_rate)
        short_fg = self._mask(self._short, gray, self._short_rate)
        static = cv2.bitwise_and(long_fg, cv2.bitwise_not(short_fg))
        static = cv2.morphologyEx(static, cv2.MORPH_OPEN, self._kernel)
        static = cv2.morphologyEx(static, cv2.MORPH_CLOSE, self._kernel)
        total = float(gray.shape[0] * gray.shape[1])
        blobs = components(static, self.min_area, 0.5)
        matched: set[int] = set()
        for blob in blobs:
            box = np.array(blob.box, dtype=np.float32) * inverse
            best, best_iou = None, 0.3
            for obj in self.objects:
                overlap = iou(obj.box, box)
                if obj.id not in matched and overlap > best_iou:
                    best, best_iou = obj, overlap
            if best is None:
                best = StaticObject(self._next_id, box, first_seen=t, last_seen=t, area=blob.area / total)
                self._next_id += 1
                self.objects.append(best)
            else:
                best.box, best.last_seen, best.area = box, t, blob.area / total
            matched.add(best.id)
        self.objects = [o for o in self.objects if t - o.last_seen <= self.config.max_gap_s + 1e-6]
        # Objects inside their flicker gap are still returned, so dwell timers do not restart.
        return list(self.objects)

    def recalibrate(self, image: np.ndarray) -> None:
        """Takes the current frame as background for both models (a left object is forgotten)."""
        small = self._shrink(image)
        self._long.apply(small, learningRate=1.0)
        self._short.apply(small, learningRate=1.0)
        self.objects = []
