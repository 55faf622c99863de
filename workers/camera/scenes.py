"""Scripted scenes on two layouts (a signalised road, a public plaza) and the camera configs that watch them."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from workers.camera.synthetic import Actor, Effect, Scene

ROAD_M = 40.0  # metres across the traffic frame (the speed homography says the same)
EAST_Y, WEST_Y, SHOULDER_Y = 0.80, 0.55, 0.96
CAR = (0.13, 0.11)
PERSON = (0.035, 0.16)
BAG = (0.03, 0.05)
LAMP = (0.645, 0.04, 0.04, 0.16)
CAR_COLOURS = [(40, 40, 200), (200, 70, 30), (30, 170, 230), (225, 225, 225), (40, 120, 40), (150, 60, 150)]
SHIRTS = [(30, 30, 220), (220, 120, 30), (40, 200, 230), (200, 200, 200), (60, 160, 60), (170, 50, 170)]


def traffic_config(code: str = "PQ-TR-SYN") -> dict:
    """Camera config for the traffic layout (both lanes, stop line with lamp, shoulder no-parking)."""
    return {
        "code": code, "name": "Synthetic junction", "analysis_fps": 5, "analysis_width": 320,
        "zones": [
            {"name": "lane_east", "points": [[0, 0.6], [1, 0.6], [1, 0.86], [0, 0.86]]},
            {"name": "lane_west", "points": [[0, 0.35], [1, 0.35], [1, 0.6], [0, 0.6]]},
            {"name": "shoulder", "points": [[0.33, 0.87], [0.62, 0.87], [0.62, 1.0], [0.33, 1.0]]},
        ],
        "rules": [
            {"type": "tripwire", "name": "count_east", "line": {"a": [0.25, 0.86], "b": [0.25, 0.6]},
             "direction": "left_to_right", "cooldown_s": 0},
            {"type": "wrong_way", "name": "ww_east", "zone": "lane_east",
             "heading": {"a": [0.1, 0.75], "b": [0.9, 0.75]}},
            {"type": "wrong_way", "name": "ww_west", "zone": "lane_west",
             "heading": {"a": [0.9, 0.5], "b": [0.1, 0.5]}},
            {"type": "red_light", "name": "red_east", "stop_line": {"a": [0.62, 0.86], "b": [0.62, 0.6]},
             "approach": "left", "zone": "lane_east", "raise_incident": True,
             "signal": {"type": "lamp", "roi": {"x": LAMP[0], "y": LAMP[1], "w": LAMP[2], "h": LAMP[3]}}},
            {"type": "speed", "name": "speed_road", "limit_kmh": 50,
             "image_points": [[0, 0.35], [1, 0.35], [1, 0.86], [0, 0.86]],
             "world_points": [[0, 0], [ROAD_M, 0], [ROAD_M, 7], [0, 7]]},
            {"type": "no_parking", "name": "no_parking_shoulder", "zone": "shoulder", "max_stop_s": 12},
        ],
    }


def plaza_config(code: str = "PQ-PL-SYN") -> dict:
    """Camera config for the plaza layout (restricted lawn, ATM loitering, entry gate, left objects)."""
    return {
        "code": code, "name": "Synthetic plaza", "analysis_fps": 5, "analysis_width": 320,
        "zones": [
            {"name": "lawn", "points": [[0.62, 0.45], [0.95, 0.40], [0.98, 0.9], [0.70, 0.95], [0.60, 0.7]]},
            {"name": "atm", "points": [[0.05, 0.45], [0.3, 0.45], [0.3, 0.75], [0.05, 0.75]]},
            {"name": "floor", "points": [[0.02, 0.3], [0.98, 0.3], [0.98, 0.99], [0.02, 0.99]]},
        ],
        "rules": [
            {"type": "intrusion", "name": "lawn_intrusion", "zone": "lawn", "raise_incident": True},
            {"type": "loitering", "name": "atm_loitering", "zone": "atm", "dwell_s": 15},
            {"type": "tripwire", "name": "gate_in", "line": {"a": [0.45, 0.98], "b": [0.45, 0.32]},
             "direction": "left_to_right", "cooldown_s": 0},
            {"type": "abandoned_object", "name": "left_bag", "zone": "floor", "unattended_s": 15,
             "owner_radius": 0.15, "max_area": 0.003, "raise_incident": True},
        ],
    }


class _Script:
    """Small helper that builds actors with seeded jitter."""

    def __init__(self, seed: int):
        self.rng = np.random.default_rng(seed)
        self.actors: list[Actor] = []

    def jitter(self, spread: float = 0.4) -> float:
        """A small random time offset."""
        return float(self.rng.uniform(-spread, spread))

    def add(self, kind: str, keyframes: list[tuple[float, float, float]]) -> Actor:
        """Adds an actor; sizes and colours follow its kind."""
        size = {"vehicle": CAR, "person": PERSON, "bag": BAG}[kind]
        palette = CAR_COLOURS if kind == "vehicle" else SHIRTS if kind == "person" else [(30, 60, 90)]
        colour = palette[int(self.rng.integers(len(palette)))]
        actor = Actor(kind, size, keyframes, colour, int(self.rng.integers(1 << 30)))
        self.actors.append(actor)
        return actor

    def car(self, t0: float, kmh: float, east: bool = True, y: float | None = None) -> Actor:
        """A car crossing the whole frame at constant speed."""
        speed = kmh / 3.6 / ROAD_M  # frame widths per second
        x0, x1 = (-0.1, 1.1) if east else (1.1, -0.1)
        y = y if y is not None else (EAST_Y if east else WEST_Y)
        return self.add("vehicle", [(t0, x0, y), (t0 + 1.2 / speed, x1, y)])

    def car_path(self, t0: float, kmh: float, points: list[tuple[float, float, float]]) -> Actor:
        """A car along (x, y, pause seconds) waypoints at a given cruising speed."""
        speed = kmh / 3.6 / ROAD_M
        keys, t, (x, y) = [], t0, points[0][:2]
        keys.append((t, x, y))
        for nx, ny, pause in points[1:]:
            t += float(np.hypot((nx - x), (ny - y) * 9 / 16)) / speed
            keys.append((t, nx, ny))
            if pause:
                t += pause
                keys.append((t, nx, ny))
            x, y = nx, ny
        return self.add("vehicle", keys)

    def walk(self, t0: float, points: list[tuple[float, float, float]], speed: float = 0.07) -> Actor:
        """A person walking along (x, y, pause seconds) waypoints; speed in frame widths per second."""
        keys, t, (x, y) = [(t0, points[0][0], points[0][1])], t0, points[0][:2]
        for nx, ny, pause in points[1:]:
            t += float(np.hypot(nx - x, (ny - y) * 9 / 16)) / speed
            keys.append((t, nx, ny))
            if pause:
                t += pause
                keys.append((t, nx, ny))
            x, y = nx, ny
        return self.add("person", keys)


def _traffic(name: str, duration: float, script: _Script, signal=None, effects=None) -> Scene:
    return Scene(name, "traffic", duration, script.actors, signal or [(0.0, "green")], effects or [], LAMP)


def _waiting_car(s: _Script, t0: float, depart: float) -> Actor:
    """A car that arrives during red, waits behind the stop line and leaves at `depart` (after green)."""
    travel = 0.63 / (35 / 3.6 / ROAD_M)
    return s.car_path(t0, 35, [(-0.1, EAST_Y, 0), (0.53, EAST_Y, depart - t0 - travel), (1.1, EAST_Y, 0)])


def traffic_quiet(seed: int = 0) -> Scene:
    """Westbound traffic within the limit and pedestrians on the far sidewalk: nothing should fire."""
    s = _Script(seed)
    for i, kmh in enumerate((35, 42, 30, 45, 38)):
        s.car(3 + 5.5 * i + s.jitter(), kmh, east=False)
    s.walk(2 + s.jitter(), [(-0.05, 0.3, 0), (1.05, 0.3, 0)])
    s.walk(12 + s.jitter(), [(1.05, 0.28, 0), (0.5, 0.29, 3), (-0.05, 0.3, 0)])
    return _traffic("traffic_quiet", 32, s, [(0.0, "green"), (12.0, "red"), (22.0, "green")])


def traffic_normal(seed: int = 0) -> Scene:
    """Eastbound traffic obeying the signal (one car waits at red): only tripwire counts."""
    s = _Script(seed)
    for t0, kmh in ((3, 40), (8, 35), (24, 42), (30, 38)):
        s.car(t0 + s.jitter(), kmh)
    _waiting_car(s, 14 + s.jitter(0.2), depart=22.3)
    s.car(5 + s.jitter(), 40, east=False)
    return _traffic("traffic_normal", 38, s, [(0.0, "green"), (13.0, "red"), (22.0, "green")])


def wrong_way(seed: int = 0) -> Scene:
    """A car drives west in the eastbound lane among normal traffic."""
    s = _Script(seed)
    for t0 in (3, 16, 24):
        s.car(t0 + s.jitter(), 38)
    s.car(8 + s.jitter(), 30, east=False, y=EAST_Y)
    s.car(12 + s.jitter(), 40, east=False)
    return _traffic("wrong_way", 30, s)


def red_light(seed: int = 0) -> Scene:
    """One car runs the red light; one waits for green; others pass on green."""
    s = _Script(seed)
    s.car(3 + s.jitter(), 40)
    s.car(10 + s.jitter(0.3), 45)  # reaches the stop line about 2.4 s later, well inside the red phase
    _waiting_car(s, 16 + s.jitter(0.2), depart=22.8)
    s.car(28 + s.jitter(), 40)
    return _traffic("red_light", 36, s, [(0.0, "green"), (9.0, "red"), (22.5, "green")])


def speeding(seed: int = 0) -> Scene:
    """Two speeders (80 km/h east, 90 km/h west) among cars within the 50 km/h limit."""
    s = _Script(seed)
    s.car(3 + s.jitter(), 40)
    s.car(9 + s.jitter(), 80)
    s.car(14 + s.jitter(), 35)
    s.car(12 + s.jitter(), 90, east=False)
    s.car(20 + s.jitter(), 45, east=False)
    return _traffic("speeding", 28, s)


def no_parking(seed: int = 0) -> Scene:
    """A car pulls onto the shoulder, stays 25 s in the no-parking zone, then leaves."""
    s = _Script(seed)
    s.car_path(3 + s.jitter(), 30, [(-0.1, EAST_Y, 0), (0.3, EAST_Y, 0), (0.45, SHOULDER_Y, 25), (0.62, EAST_Y, 0),
                                    (1.1, EAST_Y, 0)])
    s.car(10 + s.jitter(), 40)
    s.car(18 + s.jitter(), 38, east=False)
    return _traffic("no_parking", 42, s)


def _tamper(kind: str, name: str, seed: int) -> Scene:
    s = _Script(seed)
    s.car(3 + s.jitter(), 40)
    s.car(6 + s.jitter(), 38, east=False)
    if kind != "moved":
        s.car(24 + s.jitter(), 40)
    end = 20.0 if kind != "moved" else 1e9
    return _traffic(name, 30, s, effects=[Effect(kind, 10.0, end)])


def plaza(name: str, duration: float, script: _Script) -> Scene:
    """Wraps a plaza script into a scene."""
    return Scene(name, "plaza", duration, script.actors)


def plaza_quiet(seed: int = 0) -> Scene:
    """People cross, pause, pass the ATM, leave by the gate, attend a bag: nothing should fire."""
    s = _Script(seed)
    s.walk(2 + s.jitter(), [(0.9, 0.35, 0), (0.55, 0.4, 0), (0.1, 0.9, 0), (-0.05, 0.9, 0)])  # westwards: gate ignores
    s.walk(5 + s.jitter(), [(0.35, 0.99, 0), (0.33, 0.5, 4), (0.4, 0.3, 0)])  # pauses 4 s, no crossing
    s.walk(9 + s.jitter(), [(0.0, 0.6, 0), (0.2, 0.6, 0), (0.25, 0.4, 0)])  # passes through the ATM zone
    owner = s.walk(12 + s.jitter(), [(0.55, 0.32, 0), (0.55, 0.8, 9), (0.57, 0.3, 0)])
    t_drop, t_pick = owner.keyframes[1][0], owner.keyframes[2][0]
    s.add("bag", [(owner.start, 0.565, 0.32), (t_drop, 0.565, 0.8), (t_pick, 0.565, 0.8), (t_pick + 0.01, 2.0, 2.0)])
    return plaza("plaza_quiet", 40, s)


def intrusion(seed: int = 0) -> Scene:
    """Someone walks onto the lawn, wanders there and leaves; others stay on the paving."""
    s = _Script(seed)
    s.walk(2 + s.jitter(), [(0.3, 0.99, 0), (0.4, 0.3, 0)])
    s.walk(6 + s.jitter(), [(0.1, 0.55, 0), (0.78, 0.65, 3), (0.85, 0.5, 0), (1.02, 0.35, 0)])
    s.walk(14 + s.jitter(), [(0.2, 0.99, 0), (0.5, 0.35, 0)])
    return plaza("intrusion", 30, s)


def loitering(seed: int = 0) -> Scene:
    """One person hangs around the ATM for about 25 s; another only passes it."""
    s = _Script(seed)
    moves = [(0.0, 0.6, 0), (0.15, 0.6, 2)]
    for i in range(5):  # small back-and-forth inside the zone
        moves.append((0.25 if i % 2 == 0 else 0.12, 0.55 + 0.03 * (i % 3), 2.0))
    moves += [(0.5, 0.9, 0), (0.5, 1.05, 0)]
    s.walk(3 + s.jitter(), moves, speed=0.05)
    s.walk(8 + s.jitter(), [(0.0, 0.7, 0), (0.35, 0.7, 0), (0.4, 0.3, 0)])
    return plaza("loitering", 44, s)


def abandoned(seed: int = 0) -> Scene:
    """A bag is put down and its owner walks away (PETS 2006 style)."""
    s = _Script(seed)
    owner = s.walk(3 + s.jitter(), [(0.0, 0.75, 0), (0.5, 0.75, 1.5), (0.56, 0.32, 0), (1.02, 0.3, 0)])
    t_drop = owner.keyframes[1][0]
    # Carried at the owner's side (one blob with them) until it is put down.
    s.add("bag", [(owner.start, 0.015, 0.75), (t_drop, 0.515, 0.75), (60.0, 0.515, 0.75)])
    s.walk(12 + s.jitter(), [(0.2, 0.99, 0), (0.3, 0.3, 0)])
    return plaza("abandoned", 46, s)


SCENES: dict[str, Callable[[int], Scene]] = {
    "traffic_quiet": traffic_quiet,
    "traffic_normal": traffic_normal,
    "wrong_way": wrong_way,
    "red_light": red_light,
    "speeding": speeding,
    "no_parking": no_parking,
    "tamper_covered": lambda seed=0: _tamper("covered", "tamper_covered", seed),
    "tamper_defocus": lambda seed=0: _tamper("defocus", "tamper_defocus", seed),
    "tamper_moved": lambda seed=0: _tamper("moved", "tamper_moved", seed),
    "plaza_quiet": plaza_quiet,
    "intrusion": intrusion,
    "loitering": loitering,
    "abandoned": abandoned,
}


def build_scene(name: str, seed: int = 0) -> Scene:
    """Builds a named scene with a seed (jittered timings, new textures)."""
    if name not in SCENES:
        raise KeyError(f"unknown scene {name!r}; known: {', '.join(SCENES)}")
    return SCENES[name](seed)


def config_for(scene: Scene) -> dict:
    """The camera config that watches a scene's layout."""
    return traffic_config() if scene.layout == "traffic" else plaza_config()
