import pytest

from workers.camera.scoring import Predicted, RuleScore, Truth, combine, false_alarms_per_hour, match
from workers.camera.shard import cameras_for, owns


def test_match_counts_hits_misses_duplicates_and_latency():
    truth = [Truth("wire", "tripwire", 10.0, 10.0), Truth("wire", "tripwire", 20.0, 20.0),
             Truth("wire", "tripwire", 30.0, 30.0)]
    predicted = [Predicted("wire", "tripwire", 10.4), Predicted("wire", "tripwire", 10.6),  # duplicate
                 Predicted("wire", "tripwire", 21.0), Predicted("wire", "tripwire", 50.0)]  # 50: false alarm
    score = match(truth, predicted)["tripwire"]
    assert (score.tp, score.fp, score.fn) == (2, 2, 1)
    assert score.precision == pytest.approx(0.5) and score.recall == pytest.approx(2 / 3)
    assert score.f1 == pytest.approx(2 * 0.5 * (2 / 3) / (0.5 + 2 / 3))
    assert score.latencies == pytest.approx([0.4, 1.0])


def test_match_window_accepts_alerts_during_an_interval_event():
    truth = [Truth("lawn", "intrusion", 5.0, 12.0)]
    assert match(truth, [Predicted("lawn", "intrusion", 11.0)])["intrusion"].tp == 1
    assert match(truth, [Predicted("lawn", "intrusion", 3.9)])["intrusion"].fp == 1  # too early


def test_rule_names_must_agree_not_only_types():
    truth = [Truth("ww_east", "wrong_way", 5.0, 8.0)]
    score = match(truth, [Predicted("ww_west", "wrong_way", 6.0)])["wrong_way"]
    assert (score.tp, score.fp, score.fn) == (0, 1, 1)


def test_empty_cases_and_percentiles():
    score = RuleScore()
    assert score.precision == score.recall == score.f1 == 1.0 and score.latency(50) is None
    score = RuleScore(tp=2, latencies=[1.0, 3.0])
    assert score.latency(50) == pytest.approx(2.0)


def test_combine_and_false_alarm_rate():
    a = {"speed": RuleScore(tp=1, fp=1)}
    b = {"speed": RuleScore(fn=1), "loitering": RuleScore(fp=2)}
    total = combine([a, b])
    assert (total["speed"].tp, total["speed"].fp, total["speed"].fn) == (1, 1, 1)
    assert false_alarms_per_hour(total, 1800.0) == pytest.approx(6.0)


def test_every_camera_has_exactly_one_owner():
    ids = list(range(1, 51))
    owners = [cameras_for(ids, i, 3) for i in range(3)]
    assert sorted(sum(owners, [])) == ids
    assert owns(7, 1, 3) and not owns(7, 0, 3)
    with pytest.raises(ValueError):
        owns(1, 3, 3)
