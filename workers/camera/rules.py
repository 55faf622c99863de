"""Rule evaluation over tracks and static objects: pure logic, no I/O, one object per configured rule."""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, field

import numpy as np

from workers.camera import config as cfg
from workers.camera import geometry
from workers.camera.signal import lamp_state
from workers.camera.track import Track, iou


@dataclass
class StaticObject:
    """A region that stays foreground in the long model but not in the short one."""

    id: int
    box: np.ndarray
    first_seen: float
    last_seen: float
    area: float  # fraction of the frame

    @property
    def foot(self) -> tuple[float, float]:
        """Bottom-centre of the object."""
        return (float(self.box[0] + self.box[2]) / 2.0, float(self.box[3]))


@dataclass
class FrameContext:
    """Everything a rule may look at for one analysed frame."""

    t: float
    width: int
    height: int
    tracks: list[Track]
    ended: list[Track] = field(default_factory=list)
    static_objects: list[StaticObject] = field(default_factory=list)
    frame: np.ndarray | None = None  # analysis-size BGR frame, for lamp colour
    feeds: dict[str, str] = field(default_factory=dict)  # controller -> signal state pushed from outside


@dataclass
class Observation:
    """A rule's condition holding for one object on one frame; the event manager turns these into events."""

    key: str
    since: float
    box: tuple[float, float, float, float]
    track_id: int | None = None
    zone: str | None = None
    direction: str | None = None
    speed_kmh: float | None = None
    signal: str | None = None
    instant: bool = False
    spatial_dedup: bool = False


class Rule:
    """Base class: holds the config and per-object state."""

    def __init__(self, rule: cfg.RuleBase, camera: cfg.CameraConfig, width: int, height: int):
        self.config = rule
        self.width, self.height = width, height
        zone_name = getattr(rule, "zone", None)
        self.zone_name = zone_name
        self.zone_px = geometry.to_pixels(camera.zone(zone_name).points, width, height) if zone_name else None
        self.state: dict[int, dict] = {}

    def in_zone(self, p: tuple[float, float]) -> bool:
        """Tells whether a pixel point is in the rule's zone (always true without one)."""
        return self.zone_px is None or geometry.inside(self.zone_px, p)

    def line_px(self, line: cfg.Line) -> tuple[np.ndarray, np.ndarray]:
        """Returns a config line's end points in pixels."""
        scale = np.array([self.width, self.height], dtype=np.float64)
        return np.array(line.a) * scale, np.array(line.b) * scale

    def new_points(self, track: Track) -> list[tuple[float, float, float]]:
        """History points of a track this rule has not seen yet (unconfirmed prefix included)."""
        st = self.state.setdefault(track.id, {})
        last = st.get("last_t", -math.inf)
        points = [h for h in track.history if h[0] > last]
        if points:
            st["last_t"] = points[-1][0]
        return points

    def evaluate(self, ctx: FrameContext) -> list[Observation]:
        """Returns the observations for this frame."""
        for track in ctx.ended:
            self.state.pop(track.id, None)
        return self._evaluate(ctx)

    def _evaluate(self, ctx: FrameContext) -> list[Observation]:
        raise NotImplementedError


def _box(track_or_obj) -> tuple[float, float, float, float]:
    x1, y1, x2, y2 = (float(v) for v in track_or_obj.box)
    return x1, y1, x2, y2


class IntrusionRule(Rule):
    """Bottom-centre inside the zone for `min_frames` consecutive frames."""

    def _evaluate(self, ctx: FrameContext) -> list[Observation]:
        out = []
        for track in ctx.tracks:
            for t, x, y in self.new_points(track):
                st = self.state[track.id]
                if self.in_zone((x, y)):
                    st.setdefault("since", t)
                    st["count"] = st.get("count", 0) + 1
                else:
                    st.pop("since", None)
                    st["count"] = 0
            st = self.state[track.id]
            if st.get("count", 0) >= self.config.min_frames and track.misses == 0:
                # A person split into two tracks is still one intrusion.
                out.append(Observation(f"track:{track.id}", st["since"], _box(track), track.id, self.zone_name,
                                       spatial_dedup=True))
        return out


class LoiteringRule(Rule):
    """Dwell in the zone of at least `dwell_s`, short exits forgiven, robust to identity swaps."""

    HANDOVER_S = 1.0  # a track inherits the dwell of a track that stood where it stands this recently

    def __init__(self, rule: cfg.LoiteringRule, camera: cfg.CameraConfig, width: int, height: int):
        super().__init__(rule, camera, width, height)
        self.recent: deque[tuple[float, int, float, float, float]] = deque(maxlen=512)  # t, id, x, y, since

    def _evaluate(self, ctx: FrameContext) -> list[Observation]:
        out = []
        while self.recent and ctx.t - self.recent[0][0] > self.HANDOVER_S:
            self.recent.popleft()
        for track in ctx.tracks:
            for t, x, y in self.new_points(track):
                st = self.state[track.id]
                if self.in_zone((x, y)):
                    st.setdefault("since", t)
                    st["inside_at"] = t
                elif "since" in st and t - st["inside_at"] > self.config.leave_tolerance_s:
                    del st["since"]
            st = self.state[track.id]
            if "since" not in st or st["inside_at"] != ctx.t:
                continue
            # Crossing people swap or merge tracks; whoever stands where a dweller stood keeps its dwell.
            x, y = track.foot
            reach = 1.5 * float(track.box[2] - track.box[0])
            for _, other, ox, oy, since in self.recent:
                if other != track.id and math.hypot(ox - x, oy - y) <= reach:
                    st["since"] = min(st["since"], since)
            self.recent.append((ctx.t, track.id, x, y, st["since"]))
            if ctx.t - st["since"] >= self.config.dwell_s:
                out.append(Observation(f"track:{track.id}", st["since"], _box(track), track.id, self.zone_name,
                                       spatial_dedup=True))
        return out


class _Crossing(Rule):
    """Side-change detector shared by tripwires and stop lines."""

    deadband: float = 0.0
    min_frames: int = 2

    def setup(self, line: cfg.Line, deadband: float, min_frames: int) -> None:
        """Prepares the line in pixels."""
        self.a, self.b = self.line_px(line)
        self.deadband_px = deadband * self.width
        self.min_frames = min_frames

    def crossings(self, track: Track) -> list[tuple[float, int, int, tuple[float, float]]]:
        """Confirmed side changes (time first seen on the new side, old side, new side, point)."""
        found = []
        for t, x, y in self.new_points(track):
            st = self.state[track.id]
            d = geometry.signed_side(self.a, self.b, np.array([x, y]))
            if abs(d) <= self.deadband_px:
                continue
            side = 1 if d > 0 else -1
            if side == st.get("side"):
                st.pop("cand", None)
                continue
            cand = st.get("cand")
            if cand is None or cand[0] != side:
                cand = st["cand"] = [side, 0, t, (x, y)]
            cand[1] += 1
            if cand[1] >= self.min_frames:
                old = st.get("side")
                st["side"] = side
                st.pop("cand", None)
                along = geometry.projection_t(self.a, self.b, np.array(cand[3]))
                if old is not None and -0.05 <= along <= 1.05:
                    found.append((cand[2], old, side, cand[3]))
        return found


class TripwireRule(_Crossing):
    """Directional line crossing with counts per direction."""

    def __init__(self, rule: cfg.TripwireRule, camera: cfg.CameraConfig, width: int, height: int):
        super().__init__(rule, camera, width, height)
        self.setup(rule.line, rule.deadband, rule.min_frames_on_side)
        self.counts = {"left_to_right": 0, "right_to_left": 0}

    def _evaluate(self, ctx: FrameContext) -> list[Observation]:
        out = []
        for track in ctx.tracks:
            for t, old, new, _ in self.crossings(track):
                direction = "left_to_right" if old < new else "right_to_left"
                if self.config.direction not in ("any", direction):
                    continue
                self.counts[direction] += 1
                n = self.counts[direction]
                out.append(
                    Observation(f"track:{track.id}:{direction}:{n}", t, _box(track), track.id,
                                direction=direction, instant=True)
                )
        return out


class RedLightRule(_Crossing):
    """Stop line crossed from the approach side while the signal was red at the crossing."""

    def __init__(self, rule: cfg.RedLightRule, camera: cfg.CameraConfig, width: int, height: int):
        super().__init__(rule, camera, width, height)
        self.setup(rule.stop_line, rule.deadband, 2)
        self.approach = -1 if rule.approach == "left" else 1
        self.signals: deque[tuple[float, str]] = deque(maxlen=64)

    def signal_at(self, t: float) -> str:
        """Signal state in force at time t."""
        state = "unknown"
        for ts, s in self.signals:
            if ts > t + 1e-9:
                break
            state = s
        return state

    def current_signal(self, ctx: FrameContext) -> str:
        """Signal state on this frame, from the lamp region or the controller feed."""
        source = self.config.signal
        if isinstance(source, cfg.SignalLamp):
            return lamp_state(ctx.frame, source) if ctx.frame is not None else "unknown"
        return ctx.feeds.get(source.controller, "unknown")

    def _evaluate(self, ctx: FrameContext) -> list[Observation]:
        self.signals.append((ctx.t, self.current_signal(ctx)))
        out = []
        for track in ctx.tracks:
            for t, old, _new, point in self.crossings(track):
                if old != self.approach or not self.in_zone(point):
                    continue
                signal = self.signal_at(t)
                if signal == "red":
                    out.append(Observation(f"track:{track.id}", t, _box(track), track.id, self.zone_name,
                                           direction="through", signal=signal, instant=True))
        return out


class WrongWayRule(Rule):
    """Velocity in the lane against its heading (cosine < max_cosine) for `min_duration_s`."""

    def __init__(self, rule: cfg.WrongWayRule, camera: cfg.CameraConfig, width: int, height: int):
        super().__init__(rule, camera, width, height)
        a, b = self.line_px(rule.heading)
        self.heading = (b - a) / np.linalg.norm(b - a)

    def _evaluate(self, ctx: FrameContext) -> list[Observation]:
        out = []
        for track in ctx.tracks:
            st = self.state.setdefault(track.id, {})
            vx, vy = track.velocity(window_s=self.config.min_duration_s / 2)
            speed = math.hypot(vx, vy)
            wrong = (
                track.misses == 0
                and self.in_zone(track.foot)
                and speed >= self.config.min_speed * self.width
                and (vx * self.heading[0] + vy * self.heading[1]) / speed < self.config.max_cosine
            )
            if not wrong:
                st.pop("since", None)
                continue
            since = st.setdefault("since", ctx.t)
            if ctx.t - since >= self.config.min_duration_s - 1e-6:
                out.append(Observation(f"track:{track.id}", since, _box(track), track.id, self.zone_name,
                                       direction="against"))
        return out


class SpeedRule(Rule):
    """Least-squares ground speed over the regression window, through the configured homography."""

    def __init__(self, rule: cfg.SpeedRule, camera: cfg.CameraConfig, width: int, height: int):
        super().__init__(rule, camera, width, height)
        image_px = geometry.to_pixels(rule.image_points, width, height)
        self.quad_px = image_px
        self.matrix = geometry.homography(image_px.tolist(), rule.world_points)

    def _evaluate(self, ctx: FrameContext) -> list[Observation]:
        out = []
        for track in ctx.tracks:
            st = self.state.setdefault(track.id, {"samples": deque(maxlen=60)})
            half = float(track.box[2] - track.box[0]) / 2.0
            # History includes the frames before confirmation: fast vehicles are only ~1.5 s in view.
            for t, x, y in self.new_points(track):
                # A box cut by the frame edge has a wrong foot: its centre slides at half speed.
                at_border = x - half <= 1 or x + half >= self.width - 1 or y >= self.height - 1
                if not at_border and geometry.inside(self.quad_px, (x, y)):
                    world = geometry.apply_homography(self.matrix, np.array([[x, y]]))[0]
                    st["samples"].append((t, float(world[0]), float(world[1])))
            samples = [s for s in st["samples"] if ctx.t - s[0] <= 2 * self.config.min_duration_s]
            if len(samples) < 3 or samples[-1][0] - samples[0][0] < self.config.min_duration_s - 1e-6:
                continue
            arr = np.array(samples)
            times = arr[:, 0] - arr[:, 0].mean()
            denom = float((times**2).sum())
            vx = float((times * (arr[:, 1] - arr[:, 1].mean())).sum() / denom)
            vy = float((times * (arr[:, 2] - arr[:, 2].mean())).sum() / denom)
            kmh = math.hypot(vx, vy) * 3.6
            st["kmh"] = kmh
            if kmh > self.config.limit_kmh + self.config.tolerance_kmh and samples[-1][0] == ctx.t:
                out.append(Observation(f"track:{track.id}", samples[0][0], _box(track), track.id,
                                       speed_kmh=round(kmh, 1)))
        return out


class AbandonedObjectRule(Rule):
    """Static bag-sized object with no other track within `owner_radius` for `unattended_s`."""

    def _evaluate(self, ctx: FrameContext) -> list[Observation]:
        out = []
        radius = self.config.owner_radius * self.width
        live = set()
        for obj in ctx.static_objects:
            w, h = obj.box[2] - obj.box[0], obj.box[3] - obj.box[1]
            if not (self.config.min_area <= obj.area <= self.config.max_area) or h / max(w, 1) > self.config.max_aspect:
                continue
            if not self.in_zone(obj.foot):
                continue
            live.add(obj.id)
            st = self.state.setdefault(-obj.id, {})
            attended = any(
                iou(track.box, obj.box) < 0.3 and math.dist(track.foot, obj.foot) <= radius for track in ctx.tracks
            )
            if attended:
                st.pop("since", None)
                continue
            since = st.setdefault("since", ctx.t)
            if ctx.t - since >= self.config.unattended_s - 1e-6:
                out.append(Observation(f"static:{obj.id}", since, _box(obj), None, self.zone_name,
                                       spatial_dedup=True))
        for key in [k for k in self.state if k < 0 and -k not in live]:
            del self.state[key]
        return out


class StoppedVehicleRule(Rule):
    """Vehicle-sized static object in the zone for `max_stop_s` (stop counted from when it stood still)."""

    def __init__(self, rule: cfg.StoppedVehicleRule, camera: cfg.CameraConfig, width: int, height: int):
        super().__init__(rule, camera, width, height)
        self.absorb_s = camera.static.short_absorb_s

    def _evaluate(self, ctx: FrameContext) -> list[Observation]:
        out = []
        for obj in ctx.static_objects:
            if not (self.config.min_area <= obj.area <= self.config.max_area) or not self.in_zone(obj.foot):
                continue
            # The short model needs about `short_absorb_s` to absorb it, so the stop began that much earlier.
            since = obj.first_seen - self.absorb_s
            if ctx.t - since >= self.config.max_stop_s - 1e-6:
                out.append(Observation(f"static:{obj.id}", since, _box(obj), None, self.zone_name,
                                       spatial_dedup=True))
        return out


RULES = {
    "intrusion": IntrusionRule,
    "loitering": LoiteringRule,
    "tripwire": TripwireRule,
    "red_light": RedLightRule,
    "wrong_way": WrongWayRule,
    "speed": SpeedRule,
    "abandoned_object": AbandonedObjectRule,
    "stopped_vehicle": StoppedVehicleRule,
    "no_parking": StoppedVehicleRule,
}


def build_rules(camera: cfg.CameraConfig, width: int, height: int) -> list[Rule]:
    """Instantiates the enabled rules of a camera for an analysis size."""
    return [RULES[r.type](r, camera, width, height) for r in camera.rules if r.enabled]
