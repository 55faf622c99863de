"""Which cameras a worker process owns: camera id modulo worker count, so restarts keep the same split."""

from __future__ import annotations

from collections.abc import Iterable


def owns(camera_id: int, worker_index: int, worker_count: int) -> bool:
    """Tells whether worker `worker_index` of `worker_count` analyses camera `camera_id`."""
    if worker_count < 1:
        raise ValueError("worker_count must be at least 1")
    if not 0 <= worker_index < worker_count:
        raise ValueError(f"worker_index must be in 0..{worker_count - 1}, got {worker_index}")
    return camera_id % worker_count == worker_index


def cameras_for(camera_ids: Iterable[int], worker_index: int, worker_count: int) -> list[int]:
    """The camera ids, in order, that one worker owns."""
    return [c for c in camera_ids if owns(c, worker_index, worker_count)]
