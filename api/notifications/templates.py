"""What each notification says, in Vietnamese and English, rendered when it is queued."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from api.notifications.rules import Language

MAX_TITLE = 256
MAX_BODY = 2000

# Incident statuses as a reporter reads them; an unknown status is shown as it is.
# (The incident states of api/incidents/rules.py.)
_STATUS = {
    "REPORTED": ("đã được ghi nhận", "recorded"),
    "ACKNOWLEDGED": ("đã được tiếp nhận", "acknowledged"),
    "DISPATCHED": ("đã có lực lượng được điều đến", "dispatched to responders"),
    "RESOLVED": ("đã được xử lý xong", "resolved"),
    "CLOSED": ("đã được đóng", "closed"),
    "REJECTED": ("không được tiếp nhận", "rejected"),
    "MERGED": ("đã được gộp với một phản ánh khác", "merged with another report"),
}


class TemplateError(ValueError):
    """A notification asked for an unknown template or without a parameter it needs (a caller bug)."""


@dataclass(frozen=True)
class Template:
    """Title and body patterns per language, the parameters they need, and the Android channel."""

    title: Mapping[str, str]
    body: Mapping[str, str]
    required: tuple[str, ...]
    android_channel: str


TEMPLATES: dict[str, Template] = {
    # For the person who reported the incident.
    "incident_status_changed": Template(
        title={"vi": "Phản ánh {reference}: {status_text}", "en": "Report {reference}: {status_text}"},
        body={
            "vi": "Phản ánh {reference} của bạn {status_text}.",
            "en": "Your report {reference} has been {status_text}.",
        },
        required=("reference", "status"),
        android_channel="incidents",
    ),
    # For the person whose report an operator found to be about something else: it is followed on its own.
    "incident_report_split": Template(
        title={"vi": "Phản ánh {reference} được theo dõi riêng", "en": "Report {reference} is followed on its own"},
        body={
            "vi": "Phản ánh của bạn được tách khỏi {source} và theo dõi riêng là {reference}.",
            "en": "Your report was separated from {source} and is now followed as {reference}.",
        },
        required=("reference", "source"),
        android_channel="incidents",
    ),
    # For the responders of a unit sent to an incident.
    "unit_dispatched": Template(
        title={"vi": "Điều động: {category}", "en": "Dispatched: {category}"},
        body={
            "vi": "Đơn vị {unit} được điều đến {address} (sự việc {reference}).",
            "en": "Unit {unit} is dispatched to {address} (incident {reference}).",
        },
        required=("unit", "reference", "category", "address"),
        android_channel="dispatch",
    ),
    # For supervisors, when a step of an incident or a dossier is late.
    "deadline_breached": Template(
        title={"vi": "Quá hạn: {reference}", "en": "Overdue: {reference}"},
        body={
            "vi": "{step} của {reference} đã quá hạn {minutes} phút.",
            "en": "{step} of {reference} is {minutes} minutes overdue.",
        },
        required=("reference", "step", "minutes"),
        android_channel="deadlines",
    ),
    # A free-text alert (flood, air quality, an announcement): the sender writes both languages.
    "generic_alert": Template(
        title={"vi": "{title_vi}", "en": "{title_en}"},
        body={"vi": "{body_vi}", "en": "{body_en}"},
        required=("title_vi", "body_vi"),
        android_channel="alerts",
    ),
}


def render(template: str, params: Mapping[str, Any], language: str) -> tuple[str, str]:
    """Returns (title, body) of a template in a language (vi or en)."""
    spec = TEMPLATES.get(template)
    if spec is None:
        raise TemplateError(f"unknown notification template {template!r}")
    missing = [name for name in spec.required if params.get(name) in (None, "")]
    if missing:
        raise TemplateError(f"template {template!r} needs {', '.join(missing)}")
    lang = Language(language).value
    values = {key: str(value) for key, value in params.items()}
    # English falls back to the Vietnamese text when the sender wrote only that.
    values.setdefault("title_en", values.get("title_vi", ""))
    values.setdefault("body_en", values.get("body_vi", ""))
    if "status" in values:
        vi, en = _STATUS.get(values["status"], (values["status"], values["status"]))
        values.setdefault("status_text", vi if lang == "vi" else en)
    title = spec.title[lang].format_map(values)
    body = spec.body[lang].format_map(values)
    return _clip(title, MAX_TITLE), _clip(body, MAX_BODY)


def android_channel(template: str) -> str | None:
    """The Android notification channel a template's pushes go to."""
    spec = TEMPLATES.get(template)
    return spec.android_channel if spec else None


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
