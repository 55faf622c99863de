"""Typed camera configuration: zones, rules and detector tuning, validated strictly (extra keys refused).

Pure pydantic with no OpenCV or NumPy: the API validates configs with it, the worker re-exports it
(workers/camera/config.py)."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from api.cameras import geometry

Unit = Annotated[float, Field(ge=0.0, le=1.0)]
Point = tuple[Unit, Unit]
Metres = Annotated[float, Field(ge=-100_000.0, le=100_000.0)]
Name = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.\-]+$")]


class Strict(BaseModel):
    """Base for every config model: unknown keys are refused, values are immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class Zone(Strict):
    """A named simple polygon in normalised image coordinates."""

    name: Name = Field(description="Zone name, referenced by rules")
    points: list[Point] = Field(min_length=3, max_length=64, description="Vertices, x and y in 0..1")

    @field_validator("points")
    @classmethod
    def _simple(cls, points: list[Point]) -> list[Point]:
        crossings = geometry.self_intersections(points)
        if crossings:
            i, j = crossings[0]
            raise ValueError(f"polygon is not simple: edge {i} intersects edge {j}")
        if abs(geometry.polygon_area(points)) < 1e-4:
            raise ValueError("polygon has (almost) no area")
        return points


class Line(Strict):
    """A segment from a to b in normalised coordinates; sides are as seen standing at a facing b."""

    a: Point = Field(description="Start point, 0..1")
    b: Point = Field(description="End point, 0..1")

    @model_validator(mode="after")
    def _long_enough(self) -> Line:
        if math.dist(self.a, self.b) < 0.01:
            raise ValueError("line is shorter than 1% of the frame")
        return self


class Rect(Strict):
    """An axis-aligned rectangle in normalised coordinates."""

    x: Unit = Field(description="Left edge, 0..1")
    y: Unit = Field(description="Top edge, 0..1")
    w: float = Field(gt=0.0, le=1.0, description="Width, fraction of the frame")
    h: float = Field(gt=0.0, le=1.0, description="Height, fraction of the frame")

    @model_validator(mode="after")
    def _inside(self) -> Rect:
        if self.x + self.w > 1.0 + 1e-9 or self.y + self.h > 1.0 + 1e-9:
            raise ValueError("rectangle extends outside the frame")
        return self


class RuleBase(Strict):
    """Fields every rule shares."""

    name: Name = Field(description="Rule name, unique per camera")
    enabled: bool = Field(True, description="Disabled rules are not evaluated")
    cooldown_s: float = Field(30.0, ge=0.0, le=3600.0, description="Same rule+object cannot re-open within this")
    raise_incident: bool = Field(False, description="Passed through on events; the API turns them into incidents")


class IntrusionRule(RuleBase):
    """An object's bottom-centre inside a zone for at least `min_frames` analysed frames."""

    type: Literal["intrusion"]
    zone: Name = Field(description="Zone the object must not enter")
    min_frames: int = Field(3, ge=1, le=100, description="Consecutive frames inside before alarming")


class LoiteringRule(RuleBase):
    """An object dwelling in a zone for at least `dwell_s` seconds."""

    type: Literal["loitering"]
    zone: Name = Field(description="Zone watched for dwelling")
    dwell_s: float = Field(60.0, ge=1.0, le=3600.0, description="Dwell time that makes it loitering")
    leave_tolerance_s: float = Field(2.0, ge=0.0, le=60.0, description="Short exits that do not reset the dwell")


class TripwireRule(RuleBase):
    """A directional line crossing: sign change with a dead band and frames held on the new side."""

    type: Literal["tripwire"]
    line: Line = Field(description="The wire")
    direction: Literal["any", "left_to_right", "right_to_left"] = Field(
        "any", description="Crossing direction that counts (sides seen from a looking at b)"
    )
    deadband: float = Field(0.01, ge=0.0, le=0.1, description="Half-width of the neutral band, frame widths")
    min_frames_on_side: int = Field(2, ge=1, le=10, description="Frames held on the new side to confirm")


class WrongWayRule(RuleBase):
    """Motion inside a lane against its heading (cosine below `max_cosine`) for `min_duration_s`."""

    type: Literal["wrong_way"]
    zone: Name = Field(description="Lane polygon")
    heading: Line = Field(description="Allowed direction of travel, from a to b")
    max_cosine: float = Field(-0.5, ge=-1.0, le=0.0, description="Cosine to the heading below which it is wrong")
    min_duration_s: float = Field(1.0, ge=0.2, le=30.0, description="How long the wrong motion must last")
    min_speed: float = Field(0.03, ge=0.0, le=2.0, description="Minimum speed, frame widths per second")


class SignalFeed(Strict):
    """Signal state pushed by the traffic controller (see `CameraPipeline.set_signal`)."""

    type: Literal["feed"]
    controller: Name = Field(description="Controller / phase identifier")


class SignalLamp(Strict):
    """Signal state read from the lamp's colour inside a region (HSV thresholds)."""

    type: Literal["lamp"]
    roi: Rect = Field(description="Region covering the signal head")
    min_saturation: int = Field(120, ge=0, le=255, description="HSV saturation a lit lamp reaches")
    min_value: int = Field(150, ge=0, le=255, description="HSV value a lit lamp reaches")
    min_fraction: float = Field(0.02, gt=0.0, le=1.0, description="Share of ROI pixels lit to call a colour")


class RedLightRule(RuleBase):
    """Stop line crossed from the approach side while the signal is red."""

    type: Literal["red_light"]
    stop_line: Line = Field(description="Stop line")
    approach: Literal["left", "right"] = Field(description="Side vehicles wait on, seen from a looking at b")
    signal: Annotated[SignalFeed | SignalLamp, Field(discriminator="type")] = Field(description="Signal source")
    zone: Name | None = Field(None, description="Optional lane the vehicle must be in")
    deadband: float = Field(0.01, ge=0.0, le=0.1, description="Half-width of the neutral band, frame widths")


class SpeedRule(RuleBase):
    """Speed from the bottom-centre mapped through a 4-point homography to metres."""

    type: Literal["speed"]
    image_points: list[Point] = Field(min_length=4, max_length=4, description="Quad in the image, 0..1")
    world_points: list[tuple[Metres, Metres]] = Field(
        min_length=4, max_length=4, description="Same corners on the ground, metres"
    )
    limit_kmh: float = Field(50.0, ge=5.0, le=300.0, description="Speed limit")
    tolerance_kmh: float = Field(0.0, ge=0.0, le=50.0, description="Margin above the limit before alarming")
    min_duration_s: float = Field(1.0, ge=0.4, le=10.0, description="Regression window")

    @model_validator(mode="after")
    def _valid_homography(self) -> SpeedRule:
        for label, pts in (("image_points", self.image_points), ("world_points", self.world_points)):
            if not geometry.is_convex_quad(pts):
                raise ValueError(f"{label} must form a convex quadrilateral (no three collinear, no crossing)")
        matrix = geometry.homography(self.image_points, self.world_points)
        if matrix is None or abs(geometry.determinant(matrix)) < 1e-12:
            raise ValueError("homography is degenerate")
        return self


class StaticObjectRuleBase(RuleBase):
    """Rules over objects that stay still (long-term foreground that the short-term model absorbed)."""

    zone: Name | None = Field(None, description="Zone the object must be in; whole frame if unset")
    min_area: float = Field(0.0005, gt=0.0, le=0.5, description="Smallest object, fraction of frame area")
    max_area: float = Field(0.2, gt=0.0, le=1.0, description="Largest object, fraction of frame area")

    @model_validator(mode="after")
    def _areas(self) -> StaticObjectRuleBase:
        if self.min_area >= self.max_area:
            raise ValueError("min_area must be smaller than max_area")
        return self


class AbandonedObjectRule(StaticObjectRuleBase):
    """PETS 2006 style: a static object with nobody within `owner_radius` for `unattended_s`."""

    type: Literal["abandoned_object"]
    unattended_s: float = Field(30.0, ge=1.0, le=3600.0, description="Unattended time before alarming")
    owner_radius: float = Field(0.15, ge=0.01, le=1.0, description="Attending distance, frame widths")
    max_aspect: float = Field(1.6, ge=0.5, le=10.0, description="Height/width above which it is not a bag")


class StoppedVehicleRule(StaticObjectRuleBase):
    """A vehicle-sized object standing still in a zone for `max_stop_s`."""

    type: Literal["stopped_vehicle", "no_parking"]
    zone: Name = Field(description="Zone where stopping is not allowed")
    max_stop_s: float = Field(60.0, ge=1.0, le=3600.0, description="Allowed stop before alarming")
    min_area: float = Field(0.004, gt=0.0, le=0.5, description="Smallest vehicle, fraction of frame area")


Rule = Annotated[
    IntrusionRule | LoiteringRule | TripwireRule | WrongWayRule | RedLightRule | SpeedRule
    | AbandonedObjectRule | StoppedVehicleRule,
    Field(discriminator="type"),
]


class MotionConfig(Strict):
    """MOG2 foreground extraction and blob filters."""

    color: bool = Field(True, description="Model colour (BGR) instead of grey: catches cars as dark as the road")
    history: int = Field(500, ge=20, le=10_000, description="MOG2 history, frames")
    var_threshold: float = Field(16.0, ge=4.0, le=200.0, description="MOG2 squared Mahalanobis threshold")
    shadow_threshold: int = Field(200, ge=128, le=254, description="Mask cut that drops shadows (marked 127)")
    kernel: int = Field(3, ge=3, le=9, description="Elliptic open/close kernel size, pixels")
    min_area: float = Field(0.0005, gt=0.0, le=0.5, description="Smallest blob, fraction of frame area")
    max_area: float = Field(0.5, gt=0.0, le=1.0, description="Largest blob, fraction of frame area")
    merge_gap: float = Field(0.01, ge=0.0, le=0.1, description="Blobs closer than this merge, frame widths")


class TrackerConfig(Strict):
    """Kalman + Hungarian tracker."""

    min_hits: int = Field(3, ge=1, le=20, description="Matched frames before a track is confirmed")
    max_misses: int = Field(5, ge=1, le=100, description="Missed frames before a track ends")
    min_iou: float = Field(0.05, ge=0.0, le=1.0, description="IoU that allows a match on its own")
    max_distance: float = Field(1.5, ge=0.1, le=10.0, description="Centre gate, multiples of the box size")


class StaticConfig(Strict):
    """Two background models for left objects and stopped vehicles."""

    long_absorb_s: float = Field(180.0, ge=10.0, le=3600.0, description="Seconds before the long model absorbs")
    short_absorb_s: float = Field(1.0, ge=0.2, le=30.0, description="Seconds before the short model absorbs")
    max_gap_s: float = Field(1.0, ge=0.0, le=30.0, description="Flicker tolerated on a static object")
    scale: float = Field(0.5, ge=0.25, le=1.0, description="Static models run at this share of analysis width")
    every_n_frames: int = Field(2, ge=1, le=10, description="Static models see every n-th analysed frame")


class GuardConfig(Strict):
    """Whole-frame change guard (lightning, IR switch, auto-exposure): recalibrate instead of alarming."""

    max_changed_fraction: float = Field(0.6, ge=0.1, le=1.0, description="Foreground share that trips it")
    settle_frames: int = Field(3, ge=0, le=100, description="Frames with rules muted after recalibration")
    gain_compensation: bool = Field(True, description="Cancel global brightness steps before subtraction")
    warmup_s: float = Field(2.0, ge=0.0, le=120.0, description="Rules muted while the background forms")


class TamperConfig(Strict):
    """Covered / defocused / moved camera alarms."""

    enabled: bool = Field(True, description="Evaluate tamper")
    min_duration_s: float = Field(2.0, ge=0.2, le=120.0, description="How long a condition must hold")
    covered_max_std: float = Field(12.0, ge=1.0, le=80.0, description="Grey-level std below which it is covered")
    defocus_ratio: float = Field(0.35, ge=0.05, le=0.95, description="Sharpness share of reference = defocused")
    moved_shift: float = Field(0.03, ge=0.005, le=0.5, description="Global shift that means moved, frame widths")
    moved_min_change: float = Field(0.25, ge=0.0, le=1.0, description="Pixel share changed for a rotation")
    rebaseline_s: float = Field(60.0, ge=5.0, le=86_400.0, description="A moved view becomes the reference after")


class EvidenceConfig(Strict):
    """What gets written when an event opens and closes."""

    enabled: bool = Field(True, description="Write evidence files when a directory is given")
    pre_s: float = Field(2.0, ge=0.0, le=30.0, description="Clip seconds before the event")
    post_s: float = Field(2.0, ge=0.0, le=30.0, description="Clip seconds after the event")
    max_clip_s: float = Field(20.0, ge=1.0, le=300.0, description="Longest clip")
    jpeg_quality: int = Field(90, ge=30, le=100, description="JPEG quality of snapshots and crops")


class AnalysisConfig(Strict):
    """What the registry stores as a camera's `config`: zones, rules and detector tuning."""

    zones: list[Zone] = Field(default_factory=list, max_length=64, description="Named polygons")
    rules: list[Rule] = Field(default_factory=list, max_length=64, description="Rules")
    motion: MotionConfig = Field(default_factory=MotionConfig, description="Foreground settings")
    tracker: TrackerConfig = Field(default_factory=TrackerConfig, description="Tracker settings")
    static: StaticConfig = Field(default_factory=StaticConfig, description="Static object models")
    guard: GuardConfig = Field(default_factory=GuardConfig, description="Whole-frame change guard")
    tamper: TamperConfig = Field(default_factory=TamperConfig, description="Tamper alarms")
    evidence: EvidenceConfig = Field(default_factory=EvidenceConfig, description="Evidence files")

    @model_validator(mode="after")
    def _references(self) -> AnalysisConfig:
        zone_names = [z.name for z in self.zones]
        if len(set(zone_names)) != len(zone_names):
            raise ValueError("zone names must be unique")
        rule_names = [r.name for r in self.rules]
        if len(set(rule_names)) != len(rule_names):
            raise ValueError("rule names must be unique")
        for rule in self.rules:
            zone = getattr(rule, "zone", None)
            if zone is not None and zone not in zone_names:
                raise ValueError(f"rule {rule.name!r} refers to unknown zone {zone!r}")
        return self

    def zone(self, name: str) -> Zone:
        """Returns a zone by its name."""
        return next(z for z in self.zones if z.name == name)


class CameraConfig(AnalysisConfig):
    """One camera as the worker runs it: identity and analysis rate plus its `AnalysisConfig`."""

    code: Name = Field(description="Camera code, e.g. PQ-TR-001")
    name: str = Field("", max_length=200, description="Human name")
    analysis_fps: float = Field(5.0, ge=0.5, le=30.0, description="Frames analysed per second")
    analysis_width: int = Field(320, ge=160, le=1920, description="Analysis width in pixels (sub-stream)")


def load_camera_config(path: str | Path) -> CameraConfig:
    """Reads and validates a camera config from a JSON or YAML file."""
    text = Path(path).read_text()
    if str(path).endswith((".yaml", ".yml")):
        import yaml  # only needed for YAML files

        data = yaml.safe_load(text)
    else:
        data = json.loads(text)
    return CameraConfig.model_validate(data)
