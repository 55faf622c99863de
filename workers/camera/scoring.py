"""Event-level scoring of predicted events against ground truth: precision, recall, F1, false alarms, latency."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

import numpy as np

BEFORE_S = 1.0  # an alert may come this much before the truth says it is due (timing quantisation)
AFTER_S = 3.0  # ... and this long after the truth event ended


@dataclass(frozen=True)
class Truth:
    """A ground-truth event: rule name, rule type, due time and end (seconds into the stream)."""

    rule: str
    rule_type: str
    start: float
    end: float


@dataclass(frozen=True)
class Predicted:
    """A predicted event: rule name, rule type, and when it was raised."""

    rule: str
    rule_type: str
    detected_at: float


@dataclass
class RuleScore:
    """Counts and latencies for one rule type."""

    tp: int = 0
    fp: int = 0
    fn: int = 0
    latencies: list[float] = field(default_factory=list)

    @property
    def precision(self) -> float:
        """TP / (TP + FP); 1.0 when nothing was predicted."""
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        """TP / (TP + FN); 1.0 when there was nothing to find."""
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0

    @property
    def f1(self) -> float:
        """Harmonic mean of precision and recall."""
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    def latency(self, q: float) -> float | None:
        """Alert latency percentile in seconds (None without matches)."""
        return float(np.percentile(self.latencies, q)) if self.latencies else None

    def merge(self, other: RuleScore) -> None:
        """Adds another score's counts into this one."""
        self.tp += other.tp
        self.fp += other.fp
        self.fn += other.fn
        self.latencies.extend(other.latencies)


def match(truth: list[Truth], predicted: list[Predicted]) -> dict[str, RuleScore]:
    """Matches one stream's predictions to its truth, one-to-one per rule name, and scores per rule type."""
    scores: dict[str, RuleScore] = defaultdict(RuleScore)
    rules = {(t.rule, t.rule_type) for t in truth} | {(p.rule, p.rule_type) for p in predicted}
    for rule, rule_type in sorted(rules):
        gts = sorted((t for t in truth if t.rule == rule), key=lambda t: t.start)
        preds = sorted((p for p in predicted if p.rule == rule), key=lambda p: p.detected_at)
        used = [False] * len(preds)
        score = scores[rule_type]
        for gt in gts:
            lo, hi = gt.start - BEFORE_S, max(gt.end, gt.start) + AFTER_S
            # The earliest unused prediction in the window: duplicates stay unused and count as false alarms.
            hit = next((i for i, p in enumerate(preds) if not used[i] and lo <= p.detected_at <= hi), None)
            if hit is None:
                score.fn += 1
                continue
            used[hit] = True
            score.tp += 1
            score.latencies.append(max(0.0, preds[hit].detected_at - gt.start))
        score.fp += used.count(False)
    return dict(scores)


def combine(per_stream: list[dict[str, RuleScore]]) -> dict[str, RuleScore]:
    """Sums per-stream scores into one score per rule type."""
    total: dict[str, RuleScore] = defaultdict(RuleScore)
    for scores in per_stream:
        for rule_type, score in scores.items():
            total[rule_type].merge(score)
    return dict(total)


def false_alarms_per_hour(scores: dict[str, RuleScore], stream_seconds: float) -> float:
    """False alarms of every rule per camera-hour of analysed stream."""
    fp = sum(s.fp for s in scores.values())
    return fp / (stream_seconds / 3600.0) if stream_seconds > 0 else 0.0
