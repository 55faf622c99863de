"""Plane geometry shared by config validation, rules and the scene generator (no shapely needed)."""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np

# The pure polygon checks are shared with config validation in the API (which has no NumPy/OpenCV).
from api.cameras.geometry import (  # noqa: F401  (re-exported)
    Point,
    is_convex_quad,
    polygon_area,
    segments_intersect,
    self_intersections,
)


def signed_side(a: np.ndarray, b: np.ndarray, p: np.ndarray) -> float:
    """Signed distance of p from line a->b in pixels: > 0 is the right side seen from a looking at b."""
    d = b - a
    length = float(np.hypot(d[0], d[1])) or 1.0
    # Image y grows downwards, so a positive cross product means "right" here (it means left in y-up maths).
    return float((d[0] * (p[1] - a[1]) - d[1] * (p[0] - a[0])) / length)


def projection_t(a: np.ndarray, b: np.ndarray, p: np.ndarray) -> float:
    """Position of p's projection along a->b, 0 at a and 1 at b."""
    d = b - a
    return float(np.dot(p - a, d) / (np.dot(d, d) or 1.0))


def inside(polygon_px: np.ndarray, p: Sequence[float]) -> bool:
    """Tells whether point p lies inside (or on) a pixel polygon."""
    return cv2.pointPolygonTest(polygon_px, (float(p[0]), float(p[1])), False) >= 0


def to_pixels(points: Sequence[Point], width: int, height: int) -> np.ndarray:
    """Scales normalised points to a float32 pixel array shaped for OpenCV."""
    return np.array([[x * width, y * height] for x, y in points], dtype=np.float32)


def homography(image_points: Sequence[Point], world_points: Sequence[Point]) -> np.ndarray:
    """Returns the 3x3 matrix mapping image points to world metres."""
    return cv2.getPerspectiveTransform(
        np.asarray(image_points, dtype=np.float32), np.asarray(world_points, dtype=np.float32)
    )


def apply_homography(matrix: np.ndarray, points: np.ndarray) -> np.ndarray:
    """Maps an (N, 2) array of points through a homography."""
    return cv2.perspectiveTransform(points.reshape(-1, 1, 2).astype(np.float32), matrix).reshape(-1, 2)
