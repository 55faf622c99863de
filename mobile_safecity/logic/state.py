"""What the list and detail screens show, computed from outbox items and API answers (no Kivy)."""

from __future__ import annotations

import base64
import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from mobile_common.outbox import ItemState, OutboxItem
from mobile_safecity.logic.i18n import category_name, event_name, state_name, tr

VIETNAM = dt.timezone(dt.timedelta(hours=7), "ICT")

# The reporter's progress bar: each step lights up once the incident has reached it.
STEPS = ("REPORTED", "ACKNOWLEDGED", "DISPATCHED", "RESOLVED", "CLOSED")


def local_time(value: str | dt.datetime | float | None, language: str) -> str:
    """A time in Phu Quoc (UTC+7): 'HH:MM dd/mm' in Vietnamese, 'dd/mm HH:MM' in English."""
    if value is None or value == "":
        return ""
    if isinstance(value, int | float):
        moment = dt.datetime.fromtimestamp(value, dt.UTC)
    elif isinstance(value, str):
        moment = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    else:
        moment = value
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    moment = moment.astimezone(VIETNAM)
    return moment.strftime("%H:%M %d/%m/%Y") if language == "vi" else moment.strftime("%d/%m/%Y %H:%M")


def reference(incident_id: str) -> str:
    """SC-<pk> from a global id (how staff quote an incident)."""
    try:
        return "SC-" + base64.b64decode(incident_id).decode().split(":", 1)[1]
    except (ValueError, IndexError, UnicodeDecodeError):
        return incident_id


@dataclass(frozen=True)
class ReportRow:
    """One line of 'my reports'."""

    key: str  # incident id, or "outbox:<id>"
    category: str
    title: str
    status: str
    status_code: str
    when: str
    detail: str
    incident_id: str | None = None
    outbox_id: int | None = None
    errors: tuple[str, ...] = ()


def report_rows(outbox_items: Iterable[OutboxItem], incidents: Sequence[Mapping[str, Any]],
                language: str) -> list[ReportRow]:
    """Unsent and refused reports first (newest first), then the server's incidents (newest first)."""
    rows: list[ReportRow] = []
    local = [i for i in outbox_items if i.state in (ItemState.PENDING, ItemState.FAILED)]
    for item in sorted(local, key=lambda i: i.id, reverse=True):
        data = item.variables.get("input", {})
        code = "WAITING" if item.state is ItemState.PENDING else "FAILED"
        detail = (tr("mine.waiting_detail", language, n=item.attempts) if code == "WAITING"
                  else "; ".join(str(e.get("message", "")) for e in item.errors))
        rows.append(ReportRow(
            key=f"outbox:{item.id}", category=data.get("category", "OTHER"),
            title=category_name(data.get("category", "OTHER"), language), status=state_name(code, language),
            status_code=code, when=local_time(item.created_at, language), detail=detail, outbox_id=item.id,
            errors=tuple(str(e.get("message", "")) for e in item.errors)))
    for incident in incidents:
        description = (incident.get("description") or "").strip()
        rows.append(ReportRow(
            key=incident["id"], category=incident["category"],
            title=category_name(incident["category"], language), status=state_name(incident["state"], language),
            status_code=incident["state"], when=local_time(incident.get("reportedAt"), language),
            detail=f"{reference(incident['id'])} · {description[:60]}" if description else reference(incident["id"]),
            incident_id=incident["id"]))
    return rows


@dataclass(frozen=True)
class TimelineRow:
    """One entry of an incident's timeline."""

    title: str
    when: str
    note: str


def timeline_rows(events: Iterable[Mapping[str, Any]], language: str) -> list[TimelineRow]:
    """Oldest first, each with its title in the person's language."""
    rows = []
    for event in events:
        title = event_name(event["kind"], language)
        rows.append(TimelineRow(title=title, when=local_time(event.get("at"), language), note=event.get("note") or ""))
    return rows


def steps_reached(state: str) -> int:
    """How many of the five steps the incident has reached (REJECTED/MERGED: only the first)."""
    return STEPS.index(state) + 1 if state in STEPS else 1


def apply_live_event(incident: dict[str, Any], event: Mapping[str, Any]) -> dict[str, Any]:
    """The incident after a `myIncidentUpdates` event: new state, the event appended to the timeline."""
    if event.get("incidentId") != incident.get("id"):
        return incident
    updated = dict(incident)
    timeline = list(updated.get("timeline") or [])
    if all(e.get("id") != event.get("id") for e in timeline):
        timeline.append(dict(event))
    updated["timeline"] = timeline
    if event.get("state"):
        updated["state"] = event["state"]
    return updated


def can_rate(incident: Mapping[str, Any]) -> bool:
    """A closed incident not rated yet."""
    return incident.get("state") == "CLOSED" and not incident.get("rating")


def stars(rating: int) -> str:
    """★★★☆☆ for 3."""
    return "★" * rating + "☆" * (5 - rating)


def field_messages(errors: Iterable[Mapping[str, Any]]) -> dict[str, str]:
    """Payload errors by field, the field's last path part in camelCase ('input.location.lat' -> 'location')."""
    out: dict[str, str] = {}
    for error in errors:
        name = _camel(error.get("field") or "")
        out.setdefault(name or "_", str(error.get("message", "")))
    return out


def _camel(path: str) -> str:
    parts = [p for p in path.split(".") if p and p != "input" and not p.isdigit()]
    if not parts:
        return ""
    name = parts[0]
    head, *rest = name.split("_")
    return head + "".join(p.title() for p in rest)
