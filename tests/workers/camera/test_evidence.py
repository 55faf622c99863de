import cv2

from workers.camera.config import CameraConfig
from workers.camera.evidence import verify
from workers.camera.pipeline import CameraPipeline
from workers.camera.scenes import build_scene, config_for
from workers.camera.synthetic import SceneRenderer


def _replay(tmp_path):
    scene = build_scene("red_light", 0)
    config = CameraConfig.model_validate(config_for(scene))
    pipeline = CameraPipeline(config, evidence_dir=tmp_path)
    events, t = [], 0.0
    for frame, t in SceneRenderer(scene, 320, 180, 5, "clean", 0).frames():
        events += pipeline.process(frame, t)
    return events + pipeline.finish(t)


def test_evidence_files_exist_and_hashes_verify(tmp_path):
    events = _replay(tmp_path)
    ended = [e for e in events if e.state == "end" and e.rule == "red_east"]
    assert len(ended) == 1
    evidence = ended[0].evidence
    assert {"snapshot", "snapshot_crop", "best", "best_crop", "clip"} <= set(evidence)
    assert verify(evidence)
    crop = cv2.imread(evidence["best_crop"]["path"])
    assert 0 < crop.shape[1] < 320  # a crop, not the whole frame
    clip = cv2.VideoCapture(evidence["clip"]["path"])
    assert clip.isOpened() and int(clip.get(cv2.CAP_PROP_FOURCC)) == cv2.VideoWriter_fourcc(*"MJPG")
    assert clip.get(cv2.CAP_PROP_FRAME_COUNT) >= 10  # 2 s pre-roll + 2 s post-roll at 5 fps
    new = next(e for e in events if e.state == "new" and e.rule == "red_east")
    assert set(new.evidence) == {"snapshot", "snapshot_crop"}  # available at once, before the event ends


def test_tampered_evidence_fails_verification(tmp_path):
    events = _replay(tmp_path)
    evidence = next(e.evidence for e in events if e.state == "end" and e.rule == "red_east")
    with open(evidence["best"]["path"], "ab") as fh:
        fh.write(b"edited")
    assert not verify(evidence)
