"""Typed camera configuration: the pure models live in api/cameras/config.py (the API validates configs
without OpenCV); the worker modules keep importing them from here."""

from __future__ import annotations

from api.cameras.config import (
    AbandonedObjectRule,
    AnalysisConfig,
    CameraConfig,
    EvidenceConfig,
    GuardConfig,
    IntrusionRule,
    Line,
    LoiteringRule,
    Metres,
    MotionConfig,
    Name,
    Point,
    Rect,
    RedLightRule,
    Rule,
    RuleBase,
    SignalFeed,
    SignalLamp,
    SpeedRule,
    StaticConfig,
    StaticObjectRuleBase,
    StoppedVehicleRule,
    Strict,
    TamperConfig,
    TrackerConfig,
    TripwireRule,
    Unit,
    WrongWayRule,
    Zone,
    load_camera_config,
)

__all__ = [
    "AbandonedObjectRule", "AnalysisConfig", "CameraConfig", "EvidenceConfig", "GuardConfig", "IntrusionRule",
    "Line", "LoiteringRule", "Metres", "MotionConfig", "Name", "Point", "Rect", "RedLightRule", "Rule",
    "RuleBase", "SignalFeed", "SignalLamp", "SpeedRule", "StaticConfig", "StaticObjectRuleBase",
    "StoppedVehicleRule", "Strict", "TamperConfig", "TrackerConfig", "TripwireRule", "Unit", "WrongWayRule",
    "Zone", "load_camera_config",
]
