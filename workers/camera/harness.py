"""Replays the scripted scenes under every variant and scores the events against their ground truth."""

from __future__ import annotations

import multiprocessing as mp
import time
from collections import defaultdict
from dataclasses import dataclass

import cv2

from workers.camera.config import CameraConfig
from workers.camera.groundtruth import ground_truth
from workers.camera.pipeline import CameraPipeline
from workers.camera.scenes import SCENES, build_scene, config_for
from workers.camera.scoring import Predicted, RuleScore, Truth, combine, false_alarms_per_hour, match
from workers.camera.synthetic import VARIANTS, SceneRenderer

RULE_ORDER = ["intrusion", "loitering", "tripwire", "wrong_way", "red_light", "speed", "abandoned_object",
              "no_parking", "tamper_covered", "tamper_defocused", "tamper_moved"]


@dataclass
class SceneResult:
    """One scene run: what was true, what was predicted, how long it lasted."""

    scene: str
    variant: str
    seed: int
    duration: float
    truth: list[Truth]
    predicted: list[Predicted]
    analysis_seconds: float


def run_scene(name: str, variant: str = "clean", seed: int = 0, width: int = 640, height: int = 360) -> SceneResult:
    """Renders one scene, runs the pipeline over it and collects truth and predictions."""
    scene = build_scene(name, seed)
    config = CameraConfig.model_validate(config_for(scene))
    renderer = SceneRenderer(scene, width, height, config.analysis_fps, variant, seed)
    pipeline = CameraPipeline(config)
    predicted, spent, t = [], 0.0, 0.0
    for frame, t in renderer.frames():
        started = time.perf_counter()
        events = pipeline.process(frame, t)
        spent += time.perf_counter() - started
        predicted += [Predicted(e.rule, e.rule_type, e.detected_at) for e in events if e.state == "new"]
    pipeline.finish(t)
    truth = [Truth(g.rule, g.rule_type, g.start, g.end) for g in ground_truth(scene, config)]
    return SceneResult(name, variant, seed, scene.duration, truth, predicted, spent)


def _run(args: tuple) -> SceneResult:
    cv2.setNumThreads(1)
    return run_scene(*args)


def evaluate(scenes: list[str] | None = None, variants: tuple[str, ...] = VARIANTS, seeds: int = 1,
             processes: int = 2, width: int = 640, height: int = 360) -> list[SceneResult]:
    """Runs every scene x variant x seed, in parallel processes."""
    jobs = [(s, v, seed, width, height) for v in variants for s in (scenes or list(SCENES)) for seed in range(seeds)]
    if processes <= 1:
        return [_run(job) for job in jobs]
    with mp.get_context("spawn").Pool(processes) as pool:
        return pool.map(_run, jobs, chunksize=1)


def scores_by_variant(results: list[SceneResult]) -> dict[str, dict[str, RuleScore]]:
    """Per variant, the combined score of each rule type."""
    grouped: dict[str, list] = defaultdict(list)
    for r in results:
        grouped[r.variant].append(match(r.truth, r.predicted))
    return {v: combine(s) for v, s in grouped.items()}


def accuracy_markdown(results: list[SceneResult]) -> str:
    """Markdown tables: F1 (P/R) per rule per variant, then false alarms per camera-hour and latency."""
    by_variant = scores_by_variant(results)
    variants = [v for v in VARIANTS if v in by_variant]
    seconds = defaultdict(float)
    for r in results:
        seconds[r.variant] += r.duration
    lines = ["| Rule | " + " | ".join(f"{v} F1 (P / R, n)" for v in variants) + " |",
             "|---|" + "---|" * len(variants)]
    types = [t for t in RULE_ORDER if any(t in s for s in by_variant.values())]
    types += sorted({t for s in by_variant.values() for t in s} - set(types))
    for rule_type in types:
        cells = []
        for v in variants:
            s = by_variant[v].get(rule_type, RuleScore())
            cells.append(f"{s.f1:.2f} ({s.precision:.2f} / {s.recall:.2f}, {s.tp + s.fn})")
        lines.append(f"| {rule_type} | " + " | ".join(cells) + " |")
    lines += ["", "| Variant | Streams | Hours | False alarms / camera-hour | Latency p50 s | Latency p95 s |",
              "|---|---|---|---|---|---|"]
    for v in variants:
        total = RuleScore()
        for s in by_variant[v].values():
            total.merge(s)
        streams = sum(1 for r in results if r.variant == v)
        p50, p95 = total.latency(50), total.latency(95)
        lines.append(
            f"| {v} | {streams} | {seconds[v] / 3600:.3f} | {false_alarms_per_hour(by_variant[v], seconds[v]):.1f} | "
            f"{p50:.2f} | {p95:.2f} |" if p50 is not None else f"| {v} | {streams} | - | - | - | - |"
        )
    return "\n".join(lines)


def worst_f1(results: list[SceneResult]) -> float:
    """Lowest F1 over every rule type and variant."""
    return min(s.f1 for scores in scores_by_variant(results).values() for s in scores.values())
