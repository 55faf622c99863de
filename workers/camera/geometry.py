"""Plane geometry shared by config validation, rules and the scene generator (no shapely needed)."""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np

Point = tuple[float, float]


def _orient(p: Point, q: Point, r: Point) -> float:
    return (q[0] - p[0]) * (r[1] - p[1]) - (q[1] - p[1]) * (r[0] - p[0])


def _on_segment(p: Point, q: Point, r: Point) -> bool:
    return min(p[0], r[0]) - 1e-12 <= q[0] <= max(p[0], r[0]) + 1e-12 and (
        min(p[1], r[1]) - 1e-12 <= q[1] <= max(p[1], r[1]) + 1e-12
    )


def segments_intersect(p1: Point, p2: Point, q1: Point, q2: Point) -> bool:
    """Tells whether two closed segments share at least one point."""
    d1, d2 = _orient(q1, q2, p1), _orient(q1, q2, p2)
    d3, d4 = _orient(p1, p2, q1), _orient(p1, p2, q2)
    if ((d1 > 0 > d2) or (d1 < 0 < d2)) and ((d3 > 0 > d4) or (d3 < 0 < d4)):
        return True
    eps = 1e-15
    return (
        (abs(d1) <= eps and _on_segment(q1, p1, q2))
        or (abs(d2) <= eps and _on_segment(q1, p2, q2))
        or (abs(d3) <= eps and _on_segment(p1, q1, p2))
        or (abs(d4) <= eps and _on_segment(p1, q2, p2))
    )


def polygon_area(points: Sequence[Point]) -> float:
    """Returns the signed shoelace area of a polygon (positive when counter-clockwise in y-up axes)."""
    total = 0.0
    for i, (x1, y1) in enumerate(points):
        x2, y2 = points[(i + 1) % len(points)]
        total += x1 * y2 - x2 * y1
    return total / 2.0


def self_intersections(points: Sequence[Point]) -> list[tuple[int, int]]:
    """Lists pairs of edges (by start index) of a closed polygon that cross or touch illegally."""
    n = len(points)
    edges = [(points[i], points[(i + 1) % n]) for i in range(n)]
    bad = []
    for i in range(n):
        for j in range(i + 1, n):
            adjacent = j == i + 1 or (i == 0 and j == n - 1)
            if adjacent:
                # Adjacent edges share a vertex; they are only wrong if they fold back onto each other.
                a, b = edges[i]
                c, d = edges[j]
                shared = b if j == i + 1 else a
                other_i = a if j == i + 1 else b
                other_j = d if j == i + 1 else c
                if abs(_orient(shared, other_i, other_j)) < 1e-15 and (
                    (other_i[0] - shared[0]) * (other_j[0] - shared[0])
                    + (other_i[1] - shared[1]) * (other_j[1] - shared[1])
                    > 0
                ):
                    bad.append((i, j))
                continue
            if segments_intersect(*edges[i], *edges[j]):
                bad.append((i, j))
    return bad


def is_convex_quad(points: Sequence[Point]) -> bool:
    """Tells whether four points form a strictly convex quadrilateral in the given order."""
    signs = [_orient(points[i], points[(i + 1) % 4], points[(i + 2) % 4]) for i in range(4)]
    scale = max(abs(s) for s in signs) or 1.0
    return all(s > 1e-9 * scale for s in signs) or all(s < -1e-9 * scale for s in signs)


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
