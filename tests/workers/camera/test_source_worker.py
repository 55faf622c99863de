import json
import threading
import time

from workers.camera.capture import CaptureProcess
from workers.camera.config import CameraConfig
from workers.camera.replay import main as replay_main
from workers.camera.scenes import traffic_config
from workers.camera.source import SyntheticSource, VideoCaptureSource, open_source
from workers.camera.worker import run_camera


def _drain(source, seconds):
    frames = 0
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        ok, frame, _ = source.read()
        frames += ok
    return frames


def test_dying_stream_goes_offline_and_is_retried_with_back_off():
    statuses = []
    source = CaptureProcess("synthetic:traffic_quiet?width=160&height=90&fail_after=3", "PQ-1",
                            stale_after_s=5.0, backoff_initial_s=0.3, backoff_max_s=2.0, poll_s=0.1,
                            on_status=statuses.append)
    try:
        frames = _drain(source, 7.0)
    finally:
        source.close()
    states = [s.state for s in statuses]
    assert frames >= 6  # three per connection, at least two connections
    assert states[:2] == ["online", "offline"] and "online" in states[2:]
    gaps = [b - a for a, b in zip(source.attempts, source.attempts[1:], strict=False)]
    assert len(gaps) >= 2 and all(g >= 0.3 for g in gaps)
    offline = [s for s in statuses if s.state == "offline"]
    assert "stream ended" in offline[0].reason


def test_unreachable_stream_is_offline_and_backs_off_exponentially():
    source = CaptureProcess("rtsp://127.0.0.1:9/none", "PQ-2", backoff_initial_s=0.2, backoff_max_s=0.8,
                            poll_s=0.1, open_timeout_ms=1000, read_timeout_ms=1000)
    try:
        assert _drain(source, 6.0) == 0
    finally:
        source.close()
    assert [s.state for s in source.statuses] == ["offline"]  # one transition, not one per attempt
    assert len(source.attempts) >= 3
    waits = [b - a for a, b in zip(source.attempts, source.attempts[1:], strict=False)]
    assert waits[1] > waits[0]  # back-off grows


def test_hung_reader_is_caught_by_the_watchdog():
    source = CaptureProcess("synthetic:traffic_quiet?width=160&height=90&hang_after=2", "PQ-3",
                            stale_after_s=1.0, backoff_initial_s=5.0, poll_s=0.1)
    try:
        _drain(source, 4.0)
        assert source.state == "offline"
        assert "no frame for 1s" in source.statuses[-1].reason
        assert source._proc is None  # the hung child was killed, not left behind
    finally:
        source.close()


def test_worker_loop_survives_a_broken_source_and_a_broken_sink():
    class Exploding:
        exhausted = False

        def __init__(self):
            self.inner = SyntheticSource("red_light", width=320, height=180)
            self.calls = 0

        def read(self):
            self.calls += 1
            if self.calls % 7 == 0:
                raise RuntimeError("decoder crashed")
            ok, frame, t = self.inner.read()
            self.exhausted = self.inner.exhausted
            return ok, frame, t

        def close(self):
            pass

    delivered = []

    def sink(event):
        delivered.append(event)
        raise ConnectionError("database down")

    config = CameraConfig.model_validate(traffic_config())
    analysed = run_camera(config, Exploding(), sink, stop=threading.Event())
    assert analysed > 100 and delivered  # kept going after both failures


def test_unopenable_file_is_reported_not_raised(tmp_path):
    source = VideoCaptureSource(str(tmp_path / "missing.avi"))
    assert source.read()[0] is False and source.exhausted


def test_open_source_parses_synthetic_options():
    source = open_source("synthetic:plaza_quiet?variant=rain&seed=2&width=160&height=90")
    ok, frame, t = source.read()
    assert ok and frame.shape == (90, 160, 3) and t == 0.0


def test_replay_prints_json_lines(capsys):
    assert replay_main(["--camera", "auto", "--source", "synthetic:red_light?width=320&height=180",
                        "--only-new"]) == 0
    events = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [e["rule"] for e in events if e["rule_type"] == "red_light"] == ["red_east"]
    assert all(e["state"] == "new" and e["camera"] == "PQ-TR-SYN" for e in events)


def test_replay_rejects_a_bad_config_clearly(tmp_path, capsys):
    bad = tmp_path / "cam.json"
    bad.write_text(json.dumps({**traffic_config(), "colour": True}))
    assert replay_main(["--camera", str(bad), "--source", "synthetic:red_light"]) == 2
    err = capsys.readouterr().err
    assert "invalid camera config" in err and "colour" in err and "Extra inputs are not permitted" in err
