"""Plane geometry for validating camera configs, in plain Python (the API must not need OpenCV or NumPy)."""

from __future__ import annotations

import math
from collections.abc import Sequence

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


def _solve(matrix: list[list[float]], rhs: list[float]) -> list[float] | None:
    """Gaussian elimination with partial pivoting; None when the system is singular."""
    n = len(rhs)
    a = [row[:] + [rhs[i]] for i, row in enumerate(matrix)]
    scale = max((abs(v) for row in matrix for v in row), default=1.0) or 1.0
    for col in range(n):
        pivot = max(range(col, n), key=lambda r: abs(a[r][col]))
        if abs(a[pivot][col]) < 1e-12 * scale:
            return None
        a[col], a[pivot] = a[pivot], a[col]
        for r in range(col + 1, n):
            f = a[r][col] / a[col][col]
            for c in range(col, n + 1):
                a[r][c] -= f * a[col][c]
    x = [0.0] * n
    for r in range(n - 1, -1, -1):
        x[r] = (a[r][n] - sum(a[r][c] * x[c] for c in range(r + 1, n))) / a[r][r]
    return x


def homography(image_points: Sequence[Point], world_points: Sequence[Point]) -> list[list[float]] | None:
    """The 3x3 matrix mapping four image points to four world points (as cv2.getPerspectiveTransform), or
    None when the points do not determine one."""
    rows: list[list[float]] = []
    rhs: list[float] = []
    for (x, y), (u, v) in zip(image_points, world_points, strict=True):
        rows.append([x, y, 1.0, 0.0, 0.0, 0.0, -x * u, -y * u])
        rhs.append(u)
        rows.append([0.0, 0.0, 0.0, x, y, 1.0, -x * v, -y * v])
        rhs.append(v)
    h = _solve(rows, rhs)
    if h is None or not all(math.isfinite(v) for v in h):
        return None
    return [h[0:3], h[3:6], [h[6], h[7], 1.0]]


def determinant(m: Sequence[Sequence[float]]) -> float:
    """The determinant of a 3x3 matrix."""
    return (
        m[0][0] * (m[1][1] * m[2][2] - m[1][2] * m[2][1])
        - m[0][1] * (m[1][0] * m[2][2] - m[1][2] * m[2][0])
        + m[0][2] * (m[1][0] * m[2][1] - m[1][1] * m[2][0])
    )
