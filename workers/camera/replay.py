"""Replays a video file or a synthetic scene through a camera config and prints events as JSON lines."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator
from pathlib import Path

from pydantic import ValidationError

from workers.camera.config import CameraConfig, load_camera_config
from workers.camera.pipeline import CameraPipeline
from workers.camera.source import open_source


def _config(config_path: str | Path | CameraConfig, source: str) -> CameraConfig:
    if isinstance(config_path, CameraConfig):
        return config_path
    if str(config_path) == "auto" and source.startswith("synthetic:"):
        # A synthetic scene knows which layout it draws, hence which config watches it.
        from workers.camera.scenes import build_scene, config_for

        return CameraConfig.model_validate(config_for(build_scene(source[10:].split("?")[0])))
    return load_camera_config(config_path)


def run_replay(config_path: str | Path | CameraConfig, source: str, *, evidence_dir: str | Path | None = None,
               only_new: bool = False) -> Iterator[dict]:
    """Yields the event transitions (dicts) of a camera config over a file or `synthetic:<scene>` source."""
    config = _config(config_path, source)
    frames = open_source(source)
    if getattr(frames, "exhausted", False):
        raise FileNotFoundError(f"cannot open source {source}")
    pipeline = CameraPipeline(config, evidence_dir=evidence_dir)
    t = 0.0
    try:
        while True:
            ok, frame, t_frame = frames.read()
            if not ok:
                break
            t = t_frame
            if pipeline.due(t):
                for event in pipeline.process(frame, t):
                    if not only_new or event.state == "new":
                        yield event.to_dict()
        for event in pipeline.finish(t):
            if not only_new:
                yield event.to_dict()
    finally:
        frames.close()


def main(argv: list[str] | None = None) -> int:
    """Command line: `--camera CONFIG --source FILE|synthetic:<scene>`; prints one JSON object per line."""
    parser = argparse.ArgumentParser(prog="smartcity camera replay", description=__doc__)
    parser.add_argument("--camera", required=True, help="camera config (JSON/YAML), or 'auto' for synthetic scenes")
    parser.add_argument("--source", required=True, help="video file, stream URL or synthetic:<scene>[?variant=..]")
    parser.add_argument("--evidence-dir", help="write snapshots, crops and clips here")
    parser.add_argument("--only-new", action="store_true", help="print only the opening of each event")
    args = parser.parse_args(argv)
    try:
        for event in run_replay(args.camera, args.source, evidence_dir=args.evidence_dir, only_new=args.only_new):
            print(json.dumps(event, ensure_ascii=False), flush=True)
    except ValidationError as exc:
        print(f"invalid camera config {args.camera}:\n{exc}", file=sys.stderr)
        return 2
    except (OSError, KeyError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
