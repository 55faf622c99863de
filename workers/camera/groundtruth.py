"""Exact ground truth for a scripted scene: derived from the true trajectories, never from the detector."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from workers.camera import config as cfg
from workers.camera import geometry
from workers.camera.synthetic import Actor, Scene

DT = 0.02  # trajectory sampling step, seconds
W, H = 640.0, 360.0  # nominal pixel frame for distances (the layouts are 16:9)
SETTLE_S = 1.5  # after a tamper clears the pipeline recalibrates; truth in that window is not expected
TAMPER_TYPES = {"covered": "tamper_covered", "defocus": "tamper_defocused", "moved": "tamper_moved"}


@dataclass(frozen=True)
class TruthEvent:
    """An event a perfect system would raise: rule name and type, due time and end time (seconds)."""

    rule: str
    rule_type: str
    start: float
    end: float


def _times(scene: Scene) -> np.ndarray:
    return np.arange(0.0, scene.duration + 1e-9, DT)


def _track(actor: Actor, times: np.ndarray) -> list[tuple[float, float, float] | None]:
    out = []
    for t in times:
        foot = actor.foot_at(float(t))
        visible = foot is not None and 0.0 <= foot[0] <= 1.0 and 0.0 <= foot[1] <= 1.0
        out.append((float(t), foot[0] * W, foot[1] * H) if visible else None)
    return out


def _intervals(flags: list[bool], times: np.ndarray, gap: float = 0.0) -> list[tuple[float, float]]:
    spans, start, last = [], None, None
    for flag, t in zip(flags, times, strict=True):
        if flag:
            if start is None or (last is not None and t - last > gap + DT * 1.5):
                if start is not None:
                    spans.append((start, last))
                start = t
            last = t
    if start is not None:
        spans.append((start, last))
    return [(float(a), float(b)) for a, b in spans]


def _muted(scene: Scene, t: float, warmup: float) -> bool:
    if t < warmup:
        return True
    return any(e.start - 0.5 <= t <= e.end + SETTLE_S for e in scene.effects)


def _line(line: cfg.Line) -> tuple[np.ndarray, np.ndarray]:
    return np.array([line.a[0] * W, line.a[1] * H]), np.array([line.b[0] * W, line.b[1] * H])


def _crossings(path, line: cfg.Line) -> list[tuple[float, int, int, tuple[float, float]]]:
    a, b = _line(line)
    found, prev = [], None
    for p in path:
        if p is None:
            prev = None
            continue
        side = 1 if geometry.signed_side(a, b, np.array(p[1:])) > 0 else -1
        if prev is not None and side != prev and -0.05 <= geometry.projection_t(a, b, np.array(p[1:])) <= 1.05:
            found.append((p[0], prev, side, (p[1], p[2])))
        prev = side
    return found


def _speed(path, i: int) -> tuple[float, float]:
    j, k = max(0, i - 1), min(len(path) - 1, i + 1)
    if path[j] is None or path[k] is None or k == j:
        return (0.0, 0.0)
    dt = path[k][0] - path[j][0]
    return ((path[k][1] - path[j][1]) / dt, (path[k][2] - path[j][2]) / dt)


def ground_truth(scene: Scene, camera: cfg.CameraConfig) -> list[TruthEvent]:
    """Lists the events the camera's rules should raise on the scene."""
    times = _times(scene)
    movers = [a for a in scene.actors if a.kind in ("person", "vehicle")]
    paths = {id(a): _track(a, times) for a in scene.actors}
    zones = {z.name: geometry.to_pixels(z.points, int(W), int(H)) for z in camera.zones}
    truth: list[TruthEvent] = []

    def add(rule, start, end) -> None:
        if not _muted(scene, start, camera.guard.warmup_s) and start <= scene.duration:
            truth.append(TruthEvent(rule.name, rule.type, round(start, 2), round(min(end, scene.duration), 2)))

    for rule in camera.rules:
        zone = zones.get(getattr(rule, "zone", None) or "")
        for actor in movers:
            path = paths[id(actor)]
            in_zone = [p is not None and (zone is None or geometry.inside(zone, p[1:])) for p in path]
            if rule.type == "intrusion":
                for a, b in _intervals(in_zone, times):
                    add(rule, a, b)
            elif rule.type == "loitering":
                for a, b in _intervals(in_zone, times, gap=rule.leave_tolerance_s):
                    if b - a >= rule.dwell_s:
                        add(rule, a + rule.dwell_s, b)
            elif rule.type == "tripwire":
                for t, old, new, _ in _crossings(path, rule.line):
                    direction = "left_to_right" if old < new else "right_to_left"
                    if rule.direction in ("any", direction):
                        add(rule, t, t)
            elif rule.type == "red_light":
                approach = -1 if rule.approach == "left" else 1
                for t, old, _, point in _crossings(path, rule.stop_line):
                    inside_lane = zone is None or geometry.inside(zone, point)
                    if old == approach and inside_lane and scene.signal_at(t) == "red":
                        add(rule, t, t)
            elif rule.type == "wrong_way":
                a_, b_ = _line(rule.heading)
                heading = (b_ - a_) / np.linalg.norm(b_ - a_)
                wrong = []
                for i in range(len(path)):
                    vx, vy = _speed(path, i)
                    v = math.hypot(vx, vy)
                    wrong.append(in_zone[i] and v >= rule.min_speed * W
                                 and (vx * heading[0] + vy * heading[1]) / v < rule.max_cosine)
                for a, b in _intervals(wrong, times):
                    if b - a >= rule.min_duration_s:
                        add(rule, a + rule.min_duration_s, b)
            elif rule.type == "speed" and actor.kind == "vehicle":
                quad = geometry.to_pixels(rule.image_points, int(W), int(H))
                matrix = geometry.homography(quad.tolist(), rule.world_points)
                half = actor.size[0] * W / 2
                fast = []
                for i, p in enumerate(path):
                    ok = p is not None and half < p[1] < W - half and geometry.inside(quad, p[1:])
                    if ok:
                        q = path[min(len(path) - 1, i + 1)] or p
                        w0, w1 = geometry.apply_homography(matrix, np.array([p[1:], q[1:]]))
                        dt = max(q[0] - p[0], DT)
                        ok = np.linalg.norm(w1 - w0) / dt * 3.6 > rule.limit_kmh + rule.tolerance_kmh
                    fast.append(bool(ok))
                for a, b in _intervals(fast, times):
                    if b - a >= rule.min_duration_s:
                        add(rule, a + rule.min_duration_s, b)
            elif rule.type in ("stopped_vehicle", "no_parking") and actor.kind == "vehicle":
                still = [in_zone[i] and math.hypot(*_speed(path, i)) < 1.0 for i in range(len(path))]
                for a, b in _intervals(still, times):
                    if b - a >= rule.max_stop_s:
                        add(rule, a + rule.max_stop_s, b)
        if rule.type == "abandoned_object":
            for bag in (a for a in scene.actors if a.kind == "bag"):
                path = paths[id(bag)]
                alone = []
                for i, p in enumerate(path):
                    ok = p is not None and math.hypot(*_speed(path, i)) < 1.0 and (zone is None or geometry.inside(zone, p[1:]))
                    if ok:
                        owners = (paths[id(m)][i] for m in movers if m.kind == "person")
                        ok = all(o is None or math.dist(o[1:], p[1:]) > rule.owner_radius * W for o in owners)
                    alone.append(ok)
                for a, b in _intervals(alone, times):
                    if b - a >= rule.unattended_s:
                        add(rule, a + rule.unattended_s, b)
    for effect in scene.effects:
        end = min(effect.end, effect.start + camera.tamper.rebaseline_s, scene.duration)
        truth.append(TruthEvent(TAMPER_TYPES[effect.kind], TAMPER_TYPES[effect.kind], effect.start, end))
    return sorted(truth, key=lambda e: (e.start, e.rule))
