"""Pure camera rules: kinds and states, config validation as field errors, de-duplication, violations."""

from __future__ import annotations

import datetime as dt
import enum
import re
from typing import Any

from pydantic import ValidationError
from pydantic_core import ErrorDetails

from api.cameras.config import AnalysisConfig, CameraConfig
from api.core.auth import Principal, Role
from api.core.errors import FieldError

# Who watches the camera feeds: the police command centre, dispatchers, admins. They see stream URLs,
# events and evidence; third parties with `cameras:read` see the registry only.
WATCHERS = (Role.POLICE, Role.DISPATCHER, Role.ADMIN)
CAMERAS_SCOPE = "cameras:read"


class CameraKind(enum.StrEnum):
    """What a camera watches."""

    TRAFFIC = "TRAFFIC"
    PUBLIC_AREA = "PUBLIC_AREA"


class CameraStatus(enum.StrEnum):
    """Whether frames are flowing from the camera."""

    ONLINE = "ONLINE"
    OFFLINE = "OFFLINE"
    UNKNOWN = "UNKNOWN"


class EventState(enum.StrEnum):
    """An event is open while its condition holds, closed once it ended."""

    OPEN = "OPEN"
    CLOSED = "CLOSED"


class ViolationKind(enum.StrEnum):
    """Traffic offences the cameras record."""

    RED_LIGHT = "RED_LIGHT"
    WRONG_WAY = "WRONG_WAY"
    SPEEDING = "SPEEDING"
    NO_PARKING = "NO_PARKING"


class CameraRuleCode(enum.StrEnum):
    """Error codes of the checks below (part of CameraErrorCode)."""

    CONFIG_INVALID = "CONFIG_INVALID"
    LOCATION_INVALID = "LOCATION_INVALID"
    STREAM_URL_INVALID = "STREAM_URL_INVALID"
    CODE_INVALID = "CODE_INVALID"


# Worker rule types that are traffic offences; stopped_vehicle is a hazard, not an offence.
VIOLATION_OF_RULE = {
    "red_light": ViolationKind.RED_LIGHT,
    "wrong_way": ViolationKind.WRONG_WAY,
    "speed": ViolationKind.SPEEDING,
    "no_parking": ViolationKind.NO_PARKING,
}
# Vietnam's mainland and islands, generously: a camera outside is a typo (lat/lng swapped, a sign lost).
LAT_RANGE = (8.0, 23.5)
LNG_RANGE = (102.0, 117.0)
STREAM_SCHEMES = ("rtsp://", "rtsps://", "http://", "https://", "synthetic:")
CODE_PATTERN = re.compile(r"^[A-Za-z0-9_.\-]{1,64}$")


def is_watcher(principal: Principal) -> bool:
    """Whether the caller watches cameras (sees stream URLs, events and evidence)."""
    return principal.has(*WATCHERS)


def may_list_cameras(principal: Principal) -> bool:
    """Whether the caller may see the camera registry (watchers, or a third-party key with cameras:read)."""
    return is_watcher(principal) or (principal.has(Role.THIRD_PARTY) and CAMERAS_SCOPE in principal.scopes)


def config_errors(data: Any, *, prefix: str = "config") -> list[FieldError]:
    """Validates a camera's `config` JSON strictly; returns one error per problem with its field path."""
    try:
        AnalysisConfig.model_validate(data)
    except ValidationError as exc:
        return [_field_error(e, prefix) for e in exc.errors(include_url=False)]
    return []


def normalise_config(data: Any) -> dict[str, Any]:
    """The stored form of a valid config: validated, JSON types, defaults left out."""
    return AnalysisConfig.model_validate(data).model_dump(mode="json", exclude_defaults=True)


def _field_error(error: ErrorDetails, prefix: str) -> FieldError:
    path = ".".join([prefix, *(str(p) for p in error["loc"])])
    message = str(error["msg"]).removeprefix("Value error, ")
    return FieldError(
        code=CameraRuleCode.CONFIG_INVALID.value, field=path, message=f"{path}: {message}",
        message_vi=f"Cấu hình camera không hợp lệ tại {path}: {message}",
    )


def camera_field_errors(*, code: str | None = None, lat: float | None = None, lng: float | None = None,
                        stream_url: str | None = None) -> list[FieldError]:
    """Checks the registry fields given (None means not being set)."""
    errors: list[FieldError] = []
    if code is not None and not CODE_PATTERN.match(code):
        errors.append(FieldError(CameraRuleCode.CODE_INVALID.value,
                                 "Use 1-64 letters, digits, '-', '_' or '.', e.g. PQ-T01.", "code",
                                 "Mã camera gồm 1-64 chữ, số, '-', '_' hoặc '.', ví dụ PQ-T01."))
    if lat is not None and not LAT_RANGE[0] <= lat <= LAT_RANGE[1]:
        errors.append(FieldError(CameraRuleCode.LOCATION_INVALID.value,
                                 f"Latitude must be in Vietnam ({LAT_RANGE[0]} to {LAT_RANGE[1]}).", "lat",
                                 f"Vĩ độ phải thuộc Việt Nam ({LAT_RANGE[0]} đến {LAT_RANGE[1]})."))
    if lng is not None and not LNG_RANGE[0] <= lng <= LNG_RANGE[1]:
        errors.append(FieldError(CameraRuleCode.LOCATION_INVALID.value,
                                 f"Longitude must be in Vietnam ({LNG_RANGE[0]} to {LNG_RANGE[1]}).", "lng",
                                 f"Kinh độ phải thuộc Việt Nam ({LNG_RANGE[0]} đến {LNG_RANGE[1]})."))
    if stream_url is not None and (not stream_url.startswith(STREAM_SCHEMES) or len(stream_url) > 500):
        errors.append(FieldError(CameraRuleCode.STREAM_URL_INVALID.value,
                                 "The stream URL must start with rtsp://, rtsps://, http://, https:// or synthetic:.",
                                 "stream_url",
                                 "Địa chỉ luồng phải bắt đầu bằng rtsp://, rtsps://, http://, https:// hoặc synthetic:."))
    return errors


def worker_config(*, code: str, name: str, analysis_fps: float, analysis_width: int,
                  config: dict[str, Any]) -> CameraConfig:
    """The config a worker runs for a registry row."""
    return CameraConfig.model_validate({**config, "code": code, "name": name, "analysis_fps": analysis_fps,
                                        "analysis_width": analysis_width})


def dedup_key(camera_id: int, rule: str, track_id: int | None, started_at: dt.datetime) -> str:
    """The identity of an event across re-sent transitions: camera, rule, track and start (to the ms)."""
    millis = int(round(started_at.timestamp() * 1000))
    return f"{camera_id}:{rule}:{'-' if track_id is None else track_id}:{millis}"


def violation_kind(rule_type: str) -> ViolationKind | None:
    """The traffic offence a rule type records, if any."""
    return VIOLATION_OF_RULE.get(rule_type)


def speed_limit(config: dict[str, Any], rule: str) -> float | None:
    """The limit of a speed rule in a stored config (its default when left out)."""
    for item in config.get("rules", []):
        if item.get("name") == rule and item.get("type") == "speed":
            return float(item.get("limit_kmh", 50.0))
    return None


def merge_evidence(old: list[dict[str, Any]], new: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Evidence by kind, the latest file of a kind replacing the earlier one, in first-seen order."""
    merged = {item["kind"]: item for item in old}
    for item in new:
        merged[item["kind"]] = item
    return list(merged.values())
