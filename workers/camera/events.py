"""Turns per-frame observations into events that open, update and close, with cooldown and de-duplication."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from workers.camera.rules import Observation
from workers.camera.track import iou

UPDATE_EVERY_S = 10.0  # a long event re-announces itself at most this often
SPEED_STEP_KMH = 5.0  # ... or when its measured speed rises this much


@dataclass(frozen=True)
class RuleSpec:
    """What the event manager needs to know about a rule (or a built-in alarm such as tamper)."""

    name: str
    type: str
    cooldown_s: float = 30.0
    raise_incident: bool = False
    close_after_s: float = 1.0  # condition absent this long closes the event


@dataclass
class CameraEvent:
    """One event transition; `state` is new, update or end (Frigate's vocabulary)."""

    id: str
    camera: str
    rule: str
    rule_type: str
    state: str
    started_at: float
    detected_at: float
    ended_at: float | None = None
    track_id: int | None = None
    zone: str | None = None
    direction: str | None = None
    speed_kmh: float | None = None
    signal: str | None = None
    box: list[float] = field(default_factory=list)  # normalised x1, y1, x2, y2
    raise_incident: bool = False
    evidence: dict[str, dict[str, str]] = field(default_factory=dict)  # kind -> {path, sha256}

    def to_dict(self) -> dict:
        """Returns a JSON-ready dict."""
        return asdict(self)


@dataclass
class _Open:
    spec: RuleSpec
    key: str
    event: CameraEvent
    last_seen: float
    instant: bool
    box_px: tuple[float, float, float, float]
    announced_at: float


class EventManager:
    """Keeps the open events of one camera; feed it every frame, even without observations."""

    def __init__(self, camera: str, width: int, height: int, post_s: float = 2.0):
        self.camera = camera
        self.width, self.height = width, height
        self.post_s = post_s
        self.open: dict[tuple[str, str], _Open] = {}
        self._cooling: dict[tuple[str, str], tuple[float, tuple]] = {}  # key -> (closed at, box px)
        self._seq = 0

    def _norm(self, box: tuple[float, float, float, float]) -> list[float]:
        w, h = self.width, self.height
        return [round(box[0] / w, 4), round(box[1] / h, 4), round(box[2] / w, 4), round(box[3] / h, 4)]

    def _duplicate_of(self, spec: RuleSpec, obs: Observation, t: float) -> tuple[str, str] | None:
        for (rule, key), item in self.open.items():
            if rule == spec.name and iou(item.box_px, obs.box) > 0.4:
                return (rule, key)
        for (rule, key), (closed_at, box) in self._cooling.items():
            if rule == spec.name and t - closed_at < spec.cooldown_s and iou(box, obs.box) > 0.4:
                return (rule, key)
        return None

    def step(self, t: float, observations: list[tuple[RuleSpec, Observation]]) -> list[CameraEvent]:
        """Applies one frame of observations and returns the transitions it caused."""
        out: list[CameraEvent] = []
        for spec, obs in observations:
            ident = (spec.name, obs.key)
            if ident not in self.open and obs.spatial_dedup:
                dup = self._duplicate_of(spec, obs, t)
                if dup is not None:
                    if dup in self.open:
                        self.open[dup].last_seen = t
                    continue
            if ident in self.open:
                self._refresh(self.open[ident], obs, t, out)
                continue
            closed = self._cooling.get(ident)
            if closed is not None and t - closed[0] < spec.cooldown_s:
                continue
            self._seq += 1
            event = CameraEvent(
                id=f"{self.camera}-{self._seq:06d}", camera=self.camera, rule=spec.name, rule_type=spec.type,
                state="new", started_at=round(obs.since, 3), detected_at=round(t, 3), track_id=obs.track_id,
                zone=obs.zone, direction=obs.direction, speed_kmh=obs.speed_kmh, signal=obs.signal,
                box=self._norm(obs.box), raise_incident=spec.raise_incident,
            )
            self.open[ident] = _Open(spec, obs.key, event, t, obs.instant, obs.box, t)
            out.append(_copy(event))
        for ident, item in list(self.open.items()):
            limit = self.post_s if item.instant else item.spec.close_after_s
            since = item.event.detected_at if item.instant else item.last_seen
            if t - since >= limit - 1e-9:
                out.append(self._close(ident, item.event.started_at if item.instant else item.last_seen, t))
        return out

    def _refresh(self, item: _Open, obs: Observation, t: float, out: list[CameraEvent]) -> None:
        item.last_seen = t
        item.box_px = obs.box
        event = item.event
        event.box = self._norm(obs.box)
        faster = obs.speed_kmh is not None and obs.speed_kmh >= (event.speed_kmh or 0) + SPEED_STEP_KMH
        if obs.speed_kmh is not None:
            event.speed_kmh = max(event.speed_kmh or 0.0, obs.speed_kmh)
        if faster or t - item.announced_at >= UPDATE_EVERY_S:
            item.announced_at = t
            event.state = "update"
            out.append(_copy(event))

    def _close(self, ident: tuple[str, str], ended_at: float, t: float) -> CameraEvent:
        item = self.open.pop(ident)
        self._cooling[ident] = (t, item.box_px)
        # Old cooldown entries are useless once expired; keep the dict small on long runs.
        if len(self._cooling) > 512:
            self._cooling = {k: v for k, v in self._cooling.items() if t - v[0] < 3600}
        item.event.state = "end"
        item.event.ended_at = round(ended_at, 3)
        return _copy(item.event)

    def close_all(self, t: float) -> list[CameraEvent]:
        """Ends every open event (end of stream, worker shutdown)."""
        return [
            self._close(ident, item.event.started_at if item.instant else item.last_seen, t)
            for ident, item in list(self.open.items())
        ]

    def attach(self, event_id: str, evidence: dict[str, dict[str, str]]) -> None:
        """Records evidence written for an open event so later transitions carry it."""
        for item in self.open.values():
            if item.event.id == event_id:
                item.event.evidence.update(evidence)

    def open_box(self, ident: tuple[str, str]) -> tuple[float, float, float, float]:
        """Latest pixel box of an open event."""
        return self.open[ident].box_px


def _copy(event: CameraEvent) -> CameraEvent:
    return CameraEvent(**{**asdict(event), "evidence": dict(event.evidence)})
