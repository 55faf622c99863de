"""Evidence files per event: snapshot and crop when it opens, best frame, crop and MJPG clip when it ends."""

from __future__ import annotations

import hashlib
import math
from collections import deque
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from workers.camera.config import EvidenceConfig
from workers.camera.events import CameraEvent

# This OpenCV wheel has no H.264 encoder; MJPG in .avi is written everywhere and plays everywhere.
FOURCC = cv2.VideoWriter_fourcc(*"MJPG")


def sha256_file(path: str | Path) -> str:
    """Hex SHA-256 of a file."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 16), b""):
            digest.update(chunk)
    return digest.hexdigest()


def verify(evidence: dict[str, dict[str, str]]) -> bool:
    """Tells whether every evidence file still has the hash recorded for it."""
    return all(Path(item["path"]).is_file() and sha256_file(item["path"]) == item["sha256"]
               for item in evidence.values())


@dataclass
class _Clip:
    writer: cv2.VideoWriter | None
    path: Path
    frames: int
    best_score: float = -1.0
    best_frame: np.ndarray | None = None
    best_box: tuple[int, int, int, int] | None = None


class EvidenceRecorder:
    """Writes evidence for one camera; full-resolution frames are kept only in a short pre-alarm ring."""

    def __init__(self, directory: str | Path, camera: str, config: EvidenceConfig, fps: float, analysis_width: int):
        self.root = Path(directory) / camera
        self.config = config
        self.fps = fps
        self.analysis_width = analysis_width
        self._ring: deque[np.ndarray] = deque(maxlen=max(1, math.ceil(config.pre_s * fps)) + 1)
        self._clips: dict[str, _Clip] = {}
        self._max_frames = max(1, int(config.max_clip_s * fps))

    def push(self, frame: np.ndarray) -> None:
        """Remembers a full-resolution frame for pre-alarm footage."""
        self._ring.append(frame)

    def _scaled_box(self, frame: np.ndarray, box_px: tuple) -> tuple[int, int, int, int]:
        s = frame.shape[1] / float(self.analysis_width)
        h, w = frame.shape[:2]
        x1, y1, x2, y2 = (int(round(v * s)) for v in box_px)
        # A little context around the object makes the crop usable as evidence.
        pad_x, pad_y = max(4, (x2 - x1) // 4), max(4, (y2 - y1) // 4)
        return max(0, x1 - pad_x), max(0, y1 - pad_y), min(w, x2 + pad_x), min(h, y2 + pad_y)

    def _write_jpeg(self, path: Path, image: np.ndarray) -> dict[str, str]:
        path.parent.mkdir(parents=True, exist_ok=True)
        if not cv2.imwrite(str(path), image, [cv2.IMWRITE_JPEG_QUALITY, self.config.jpeg_quality]):
            raise OSError(f"could not write {path}")
        return {"path": str(path), "sha256": sha256_file(path)}

    def _frame_files(self, folder: Path, prefix: str, frame: np.ndarray, box: tuple) -> dict[str, dict]:
        x1, y1, x2, y2 = box
        files = {prefix: self._write_jpeg(folder / f"{prefix}.jpg", frame)}
        if x2 > x1 and y2 > y1:
            files[f"{prefix}_crop"] = self._write_jpeg(folder / f"{prefix}_crop.jpg", frame[y1:y2, x1:x2])
        return files

    def opened(self, event: CameraEvent, box_px: tuple) -> None:
        """Writes the snapshot and crop of a new event and starts its clip with the pre-alarm frames."""
        frame = self._ring[-1]
        folder = self.root / event.id
        box = self._scaled_box(frame, box_px)
        event.evidence.update(self._frame_files(folder, "snapshot", frame, box))
        path = folder / "clip.avi"
        h, w = frame.shape[:2]
        writer = cv2.VideoWriter(str(path), FOURCC, max(1.0, self.fps), (w, h))
        clip = _Clip(writer if writer.isOpened() else None, path, 0)
        for old in list(self._ring)[-self._max_frames:]:
            self._append(clip, old)
        self._clips[event.id] = clip
        self._consider(clip, frame, box)

    def _append(self, clip: _Clip, frame: np.ndarray) -> None:
        if clip.writer is not None and clip.frames < self._max_frames:
            clip.writer.write(frame)
            clip.frames += 1

    def _consider(self, clip: _Clip, frame: np.ndarray, box: tuple[int, int, int, int]) -> None:
        # The biggest view of the object is usually the most legible one.
        score = float((box[2] - box[0]) * (box[3] - box[1]))
        if score > clip.best_score:
            clip.best_score, clip.best_frame, clip.best_box = score, frame, box

    def during(self, event_id: str, box_px: tuple) -> None:
        """Adds the latest frame to an open event's clip and best-frame choice."""
        clip = self._clips.get(event_id)
        if clip is None:
            return
        frame = self._ring[-1]
        self._append(clip, frame)
        self._consider(clip, frame, self._scaled_box(frame, box_px))

    def closed(self, event: CameraEvent) -> None:
        """Finishes an event's files and records their hashes on the event."""
        clip = self._clips.pop(event.id, None)
        if clip is None:
            return
        folder = self.root / event.id
        if clip.best_frame is not None:
            event.evidence.update(self._frame_files(folder, "best", clip.best_frame, clip.best_box))
        if clip.writer is not None:
            clip.writer.release()
            if clip.frames and clip.path.is_file():
                event.evidence["clip"] = {"path": str(clip.path), "sha256": sha256_file(clip.path)}

    def close(self) -> None:
        """Releases writers of events that never ended."""
        for clip in self._clips.values():
            if clip.writer is not None:
                clip.writer.release()
        self._clips.clear()
