"""Traffic-signal state from the colour of the lamp inside a region of the frame."""

from __future__ import annotations

import cv2
import numpy as np

from workers.camera.config import SignalLamp

# OpenCV hue runs 0..179; red wraps around 0.
_HUES = {"red": ((0, 10), (170, 179)), "amber": ((15, 35),), "green": ((40, 95),)}


def lamp_state(frame_bgr: np.ndarray, lamp: SignalLamp) -> str:
    """Returns red, amber, green or unknown for the lamp region of a BGR frame."""
    h, w = frame_bgr.shape[:2]
    r = lamp.roi
    x1, y1 = int(r.x * w), int(r.y * h)
    x2, y2 = max(x1 + 1, int(round((r.x + r.w) * w))), max(y1 + 1, int(round((r.y + r.h) * h)))
    roi = frame_bgr[y1:y2, x1:x2]
    if roi.size == 0:
        return "unknown"
    hsv = cv2.cvtColor(roi, cv2.COLOR_BGR2HSV)
    lit = (hsv[..., 1] >= lamp.min_saturation) & (hsv[..., 2] >= lamp.min_value)
    hue = hsv[..., 0]
    best, best_share = "unknown", lamp.min_fraction
    for colour, ranges in _HUES.items():
        mask = np.zeros_like(lit)
        for lo, hi in ranges:
            mask |= (hue >= lo) & (hue <= hi)
        share = float((mask & lit).mean())
        if share >= best_share:
            best, best_share = colour, share
    return best
