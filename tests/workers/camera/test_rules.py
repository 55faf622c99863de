from collections import deque

import numpy as np
import pytest

from workers.camera.config import CameraConfig
from workers.camera.events import EventManager, RuleSpec
from workers.camera.harness import run_scene
from workers.camera.rules import FrameContext, Observation, build_rules
from workers.camera.scenes import SCENES, traffic_config
from workers.camera.scoring import match
from workers.camera.track import Track

W, H = 320, 180


@pytest.mark.parametrize("scene", sorted(SCENES))
def test_each_scene_raises_exactly_its_ground_truth(scene):
    # Small frames keep this fast; every rule and every quiet scene is covered by some scene.
    result = run_scene(scene, "clean", seed=1, width=320, height=180)
    scores = match(result.truth, result.predicted)
    summary = {k: (v.tp, v.fp, v.fn) for k, v in scores.items()}
    assert all(v.fp == 0 and v.fn == 0 for v in scores.values()), summary
    if scene.endswith("quiet"):
        assert result.truth == [] and result.predicted == []


def _track(track_id, points):
    """A confirmed track that went through (t, x, y) foot points."""
    t, x, y = points[-1]
    track = Track(track_id, np.array([x - 10, y - 8, x + 10, y], np.float32), points[0][0], t, hits=9, confirmed=True)
    track.history = deque(points, maxlen=150)
    return track


def _rules(name):
    config = CameraConfig.model_validate(traffic_config())
    return next(r for r in build_rules(config, W, H) if r.config.name == name)


def _run(rule, tracks_by_frame, frame=None):
    found = []
    for t, tracks in tracks_by_frame:
        found += rule.evaluate(FrameContext(t, W, H, tracks, frame=frame))
    return found


def _moving(track_id, x0, dx, y, n, t0=0.0):
    pts = [(t0 + 0.2 * i, x0 + dx * i, y) for i in range(n)]
    return [(pts[i][0], [_track(track_id, pts[: i + 1])]) for i in range(n)]


def test_tripwire_counts_only_its_direction():
    rule = _rules("count_east")  # x = 80 px, counts left_to_right (eastbound)
    east = _run(rule, _moving(1, 40, 10, 144, 10))
    west = _run(rule, _moving(2, 130, -10, 144, 10, t0=5))
    assert [o.direction for o in east] == ["left_to_right"] and west == []
    assert rule.counts == {"left_to_right": 1, "right_to_left": 0}


def test_tripwire_dead_band_ignores_jitter_on_the_line():
    rule = _rules("count_east")
    pts = [(0.2 * i, 70 + (12 if i % 2 else 0), 144) for i in range(12)]  # hovers 10 px left / 2 px right
    frames = [(pts[i][0], [_track(3, pts[: i + 1])]) for i in range(12)]
    assert _run(rule, frames) == []


def test_wrong_way_needs_a_full_second_against_the_heading():
    rule = _rules("ww_east")
    found = _run(rule, _moving(4, 300, -8, 144, 4))  # 0.6 s of history only
    assert found == []
    found = _run(_rules("ww_east"), _moving(5, 300, -8, 144, 10))
    assert found and found[0].since == pytest.approx(0.2, abs=0.01) and found[0].track_id == 5  # 2nd point


def test_red_light_uses_the_signal_at_the_crossing():
    rule = _rules("red_east")  # stop line at x = 198 px, lamp region top right
    red = np.zeros((H, W, 3), np.uint8)
    x, y = int(0.645 * W), int(0.04 * H)
    red[y:y + 8, x:x + 12] = (0, 0, 255)
    assert len(_run(rule, _moving(6, 150, 12, 144, 10), frame=red)) == 1
    green = np.zeros_like(red)
    green[y + 16:y + 24, x:x + 12] = (0, 255, 0)
    assert _run(_rules("red_east"), _moving(7, 150, 12, 144, 10), frame=green) == []


def test_speed_regression_through_the_homography():
    rule = _rules("speed_road")  # 40 m over 320 px: 8 px/m; 16 px per 0.2 s = 10 m/s = 36 km/h
    slow = _run(rule, _moving(8, 40, 16, 144, 12))
    assert slow == [] and rule.state[8]["kmh"] == pytest.approx(36.0, rel=0.01)
    fast = _run(_rules("speed_road"), _moving(9, 40, 32, 144, 8))
    assert fast and fast[-1].speed_kmh == pytest.approx(72.0, rel=0.01)


def test_event_manager_opens_updates_closes_and_cools_down():
    manager = EventManager("CAM", W, H, post_s=1.0)
    spec = RuleSpec("lawn", "intrusion", cooldown_s=10.0, close_after_s=1.0)
    obs = Observation("track:1", 0.0, (10, 10, 20, 20), track_id=1, zone="lawn")
    states = []
    for i in range(5):
        states += [e.state for e in manager.step(i * 0.2, [(spec, obs)])]
    for i in range(5, 12):
        states += [e.state for e in manager.step(i * 0.2, [])]
    assert states == ["new", "end"]
    assert [e.state for e in manager.step(3.0, [(spec, obs)])] == []  # same object within the cooldown
    assert [e.state for e in manager.step(13.0, [(spec, obs)])] == ["new"]


def test_event_manager_merges_static_objects_at_the_same_place():
    manager = EventManager("CAM", W, H)
    spec = RuleSpec("bag", "abandoned_object")
    first = Observation("static:1", 0.0, (100, 100, 110, 110), spatial_dedup=True)
    again = Observation("static:2", 0.0, (101, 100, 111, 110), spatial_dedup=True)
    assert [e.state for e in manager.step(0.0, [(spec, first)])] == ["new"]
    assert manager.step(0.2, [(spec, again)]) == []


def test_instant_events_end_after_the_post_roll_with_their_own_time():
    manager = EventManager("CAM", W, H, post_s=1.0)
    spec = RuleSpec("wire", "tripwire", cooldown_s=0.0)
    events = manager.step(5.0, [(spec, Observation("track:1:l:1", 4.8, (0, 0, 5, 5), instant=True))])
    events += manager.step(5.4, []) + manager.step(6.0, [])
    assert [(e.state, e.ended_at) for e in events] == [("new", None), ("end", 4.8)]
