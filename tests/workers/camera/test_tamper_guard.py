import cv2
import numpy as np

from workers.camera.config import CameraConfig, TamperConfig
from workers.camera.pipeline import CameraPipeline
from workers.camera.scenes import plaza_config
from workers.camera.tamper import TamperDetector


def _scene(seed=3, h=180, w=320):
    rng = np.random.default_rng(seed)
    tex = cv2.GaussianBlur(rng.normal(120, 40, (h, w)).astype(np.float32), (0, 0), 1.5)
    img = np.clip(tex, 0, 255).astype(np.uint8)
    for i in range(6):  # some hard edges, like buildings and kerbs
        cv2.rectangle(img, (20 + 50 * i, 20), (45 + 50 * i, 60 + 10 * i), int(rng.integers(0, 255)), -1)
    return img


def _run(detector, frames, t0=0.0):
    state = None
    for i, frame in enumerate(frames):
        state = detector.update(frame, t0 + i * 0.2)
    return state


def test_normal_view_raises_nothing_even_after_a_brightness_step():
    detector = TamperDetector(TamperConfig(min_duration_s=1.0), fps=5)
    base = _scene()
    state = _run(detector, [base] * 10 + [cv2.convertScaleAbs(base, alpha=1.5)] * 15)
    assert state.active == {} and not state.suspect


def test_covered_lens_alarms_after_min_duration():
    detector = TamperDetector(TamperConfig(min_duration_s=1.0), fps=5)
    _run(detector, [_scene()] * 10)
    covered = np.full((180, 320), 25, np.uint8)
    assert _run(detector, [covered] * 3, t0=2.0).active == {}  # 0.4 s: not yet
    state = _run(detector, [covered] * 6, t0=2.6)
    assert set(state.active) == {"covered"}


def test_defocus_alarms():
    detector = TamperDetector(TamperConfig(min_duration_s=1.0), fps=5)
    _run(detector, [_scene()] * 10)
    blurred = cv2.GaussianBlur(_scene(), (0, 0), 3)
    assert set(_run(detector, [blurred] * 10, t0=2.0).active) == {"defocused"}


def test_moved_camera_alarms_and_is_rebaselined():
    detector = TamperDetector(TamperConfig(min_duration_s=1.0, rebaseline_s=5.0), fps=5)
    base = _scene()
    _run(detector, [base] * 10)
    moved = np.roll(base, (12, 25), axis=(0, 1))
    assert set(_run(detector, [moved] * 10, t0=2.0).active) == {"moved"}
    assert _run(detector, [moved] * 30, t0=4.0).active == {}  # accepted as the new view after 5 s


def test_whole_frame_change_recalibrates_instead_of_alarming():
    config = CameraConfig.model_validate(
        {**plaza_config(), "tamper": {"enabled": False}, "guard": {"warmup_s": 0.5}}
    )
    pipeline = CameraPipeline(config)
    day = cv2.cvtColor(_scene(), cv2.COLOR_GRAY2BGR)
    # IR switch: the same place looks like a different picture; no gain step explains it.
    night = cv2.applyColorMap(_scene(seed=9), cv2.COLORMAP_JET)
    events = []
    for i in range(60):
        events += pipeline.process(day if i < 30 else night, i * 0.2)
    assert pipeline.recalibrations == 1
    assert events == []
