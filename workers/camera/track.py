"""Multi-object tracker: constant-velocity Kalman per track, Hungarian assignment on IoU / centre distance."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

import cv2
import numpy as np
from scipy.optimize import linear_sum_assignment

from workers.camera.config import TrackerConfig

_INFEASIBLE = 1e6


def iou(a: np.ndarray, b: np.ndarray) -> float:
    """Intersection over union of two (x1, y1, x2, y2) boxes."""
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def _kalman(box: np.ndarray) -> cv2.KalmanFilter:
    # State: centre x, centre y, width, height, vx, vy (per frame). Size has no velocity: blobs breathe.
    kf = cv2.KalmanFilter(6, 4)
    kf.transitionMatrix = np.eye(6, dtype=np.float32)
    kf.transitionMatrix[0, 4] = kf.transitionMatrix[1, 5] = 1.0
    kf.measurementMatrix = np.eye(4, 6, dtype=np.float32)
    kf.processNoiseCov = np.diag([1.0, 1.0, 4.0, 4.0, 4.0, 4.0]).astype(np.float32)
    kf.measurementNoiseCov = np.diag([4.0, 4.0, 16.0, 16.0]).astype(np.float32)
    kf.errorCovPost = np.diag([10.0, 10.0, 10.0, 10.0, 1000.0, 1000.0]).astype(np.float32)
    cx, cy, w, h = _measure(box)
    kf.statePost = np.array([[cx], [cy], [w], [h], [0.0], [0.0]], dtype=np.float32)
    return kf


def _measure(box: np.ndarray) -> np.ndarray:
    return np.array(
        [(box[0] + box[2]) / 2, (box[1] + box[3]) / 2, box[2] - box[0], box[3] - box[1]], dtype=np.float32
    )


@dataclass
class Track:
    """One tracked object; `box` is the last measured box in analysis pixels."""

    id: int
    box: np.ndarray
    first_seen: float
    last_seen: float
    hits: int = 1
    misses: int = 0
    confirmed: bool = False
    predicted: np.ndarray | None = None
    history: deque = field(default_factory=lambda: deque(maxlen=150))
    kf: cv2.KalmanFilter | None = None

    @property
    def foot(self) -> tuple[float, float]:
        """Bottom-centre of the box: where the object touches the ground."""
        return (float(self.box[0] + self.box[2]) / 2.0, float(self.box[3]))

    def velocity(self, window_s: float = 1.0) -> tuple[float, float]:
        """Foot velocity in pixels per second over about the last `window_s` seconds."""
        if len(self.history) < 2:
            return (0.0, 0.0)
        t1, x1, y1 = self.history[-1]
        start = self.history[0]
        for point in reversed(self.history):
            if t1 - point[0] >= window_s:
                start = point
                break
        t0, x0, y0 = start
        dt = t1 - t0
        return ((x1 - x0) / dt, (y1 - y0) / dt) if dt > 0 else (0.0, 0.0)


class Tracker:
    """Keeps stable ids across frames; call `update` once per analysed frame."""

    def __init__(self, config: TrackerConfig):
        self.config = config
        self.tracks: list[Track] = []
        self.ended: list[Track] = []
        self._next_id = 1

    def _cost(self, predicted: list[np.ndarray], boxes: np.ndarray) -> np.ndarray:
        cost = np.full((len(predicted), len(boxes)), _INFEASIBLE, dtype=np.float64)
        for i, p in enumerate(predicted):
            pw, ph = p[2] - p[0], p[3] - p[1]
            pc = ((p[0] + p[2]) / 2, (p[1] + p[3]) / 2)
            for j, b in enumerate(boxes):
                overlap = iou(p, b)
                if overlap >= self.config.min_iou:
                    cost[i, j] = 1.0 - overlap
                    continue
                bc = ((b[0] + b[2]) / 2, (b[1] + b[3]) / 2)
                gate = self.config.max_distance * max(pw, ph, b[2] - b[0], b[3] - b[1], 4.0)
                dist = float(np.hypot(pc[0] - bc[0], pc[1] - bc[1]))
                if dist <= gate:
                    # Distance matches always rank behind any IoU match.
                    cost[i, j] = 1.0 + dist / gate
        return cost

    def update(self, boxes: np.ndarray, t: float) -> list[Track]:
        """Matches this frame's boxes (N x 4, x1 y1 x2 y2) and returns the confirmed live tracks."""
        self.ended = []
        predicted = []
        for track in self.tracks:
            state = track.kf.predict().ravel()
            cx, cy, w, h = state[:4]
            w, h = max(w, 1.0), max(h, 1.0)
            track.predicted = np.array([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2], dtype=np.float32)
            predicted.append(track.predicted)
        matched_tracks: set[int] = set()
        matched_boxes: set[int] = set()
        if len(self.tracks) and len(boxes):
            cost = self._cost(predicted, boxes)
            rows, cols = linear_sum_assignment(cost)
            for r, c in zip(rows, cols, strict=True):
                if cost[r, c] >= _INFEASIBLE:
                    continue
                track = self.tracks[r]
                track.kf.correct(_measure(boxes[c]).reshape(4, 1))
                track.box = boxes[c].astype(np.float32)
                track.hits += 1
                track.misses = 0
                track.last_seen = t
                track.confirmed = track.confirmed or track.hits >= self.config.min_hits
                track.history.append((t, *track.foot))
                matched_tracks.add(r)
                matched_boxes.add(c)
        survivors = []
        for i, track in enumerate(self.tracks):
            if i not in matched_tracks:
                track.misses += 1
                # An unconfirmed track that misses was most likely noise: drop it at once.
                if track.misses > self.config.max_misses or not track.confirmed:
                    self.ended.append(track)
                    continue
            survivors.append(track)
        for j, box in enumerate(boxes):
            if j in matched_boxes:
                continue
            box = box.astype(np.float32)
            track = Track(id=self._next_id, box=box, first_seen=t, last_seen=t, kf=_kalman(box))
            track.confirmed = self.config.min_hits <= 1
            track.history.append((t, *track.foot))
            self._next_id += 1
            survivors.append(track)
        self.tracks = survivors
        return [tr for tr in self.tracks if tr.confirmed]

    def coast(self) -> None:
        """Skips a frame (muted by the guard) without counting it as a miss."""
        for track in self.tracks:
            track.kf.predict()

    def reset(self) -> None:
        """Ends every track (after a recalibration)."""
        self.ended = list(self.tracks)
        self.tracks = []
