"""Pure rules of an incident's life: who may take which action from which state (the state machine), the
status derived from the event log, stage deadlines, and response times. No database, no network, no GraphQL."""

from __future__ import annotations

import datetime as dt
import enum
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace

from api.core.auth import Role
from api.core.errors import FieldError
from api.incidents.rules import OPEN_STATES, AssignmentState, EventKind, IncidentState, Priority, Stage

# --- the state machine -------------------------------------------------------------------------------------

DISPATCH_ROLES = frozenset({Role.DISPATCHER, Role.ADMIN})
OPERATOR_ROLES = frozenset({Role.DISPATCHER, Role.POLICE, Role.ADMIN})
RESPONDER_ROLES = frozenset({Role.DISPATCHER, Role.POLICE, Role.RESPONDER, Role.ADMIN})
STAFF_VIEW_ROLES = frozenset({Role.DISPATCHER, Role.POLICE, Role.RESPONDER, Role.ADMIN})
REPORTER = "reporter"  # not a role: the account that filed one of the incident's reports


class Action(enum.StrEnum):
    """Things that can be done to an incident."""

    ACKNOWLEDGE = "ACKNOWLEDGE"
    REJECT = "REJECT"
    DISPATCH = "DISPATCH"
    RESOLVE = "RESOLVE"
    CLOSE = "CLOSE"
    MERGE = "MERGE"
    SPLIT = "SPLIT"
    REOPEN = "REOPEN"
    RATE = "RATE"


@dataclass(frozen=True)
class Transition:
    """Who may do an action, from which states, to which state, and what it requires."""

    action: Action
    sources: frozenset[IncidentState]
    target: IncidentState | None  # None: the state does not change
    roles: frozenset[Role]
    by_reporter: bool = False
    requires: tuple[str, ...] = ()


_S = IncidentState
TRANSITIONS: Mapping[Action, Transition] = {
    t.action: t
    for t in (
        Transition(Action.ACKNOWLEDGE, frozenset({_S.REPORTED}), _S.ACKNOWLEDGED, OPERATOR_ROLES),
        Transition(Action.REJECT, frozenset({_S.REPORTED, _S.ACKNOWLEDGED}), _S.REJECTED, OPERATOR_ROLES,
                   requires=("reason",)),
        Transition(Action.DISPATCH, frozenset({_S.ACKNOWLEDGED, _S.DISPATCHED}), _S.DISPATCHED, DISPATCH_ROLES,
                   requires=("units",)),
        Transition(Action.RESOLVE, frozenset({_S.ACKNOWLEDGED, _S.DISPATCHED}), _S.RESOLVED, RESPONDER_ROLES,
                   requires=("resolution_note",)),
        Transition(Action.CLOSE, frozenset({_S.RESOLVED}), _S.CLOSED, DISPATCH_ROLES),
        Transition(Action.MERGE, OPEN_STATES, _S.MERGED, OPERATOR_ROLES, requires=("target",)),
        Transition(Action.SPLIT, OPEN_STATES, None, OPERATOR_ROLES, requires=("report",)),
        Transition(Action.REOPEN, frozenset({_S.RESOLVED, _S.CLOSED}), _S.ACKNOWLEDGED, frozenset(),
                   by_reporter=True, requires=("reason",)),
        Transition(Action.RATE, frozenset({_S.CLOSED}), None, frozenset(), by_reporter=True,
                   requires=("rating",)),
    )
}

_MESSAGES = {
    "reason": ("A reason is required.", "Cần nêu lý do."),
    "resolution_note": ("A resolution note is required.", "Cần ghi chú kết quả xử lý."),
    "target": ("Name the incident to merge into.", "Cần chọn sự việc để gộp vào."),
    "units": ("Choose at least one unit.", "Cần chọn ít nhất một đơn vị."),
    "report": ("Name the report to split off.", "Cần chọn phản ánh để tách."),
    "rating": ("Give a rating from 1 to 5.", "Cần chấm điểm từ 1 đến 5."),
}


@dataclass(frozen=True)
class Attempt:
    """What a caller tries: the action, their roles, whether they reported it, and what they supplied."""

    action: Action
    state: IncidentState
    roles: frozenset[Role]
    is_reporter: bool = False
    supplied: Mapping[str, object] = field(default_factory=dict)


def check_transition(attempt: Attempt) -> list[FieldError]:
    """The errors that stop this attempt (empty when it is allowed), permission first, then state."""
    return refusal(attempt) or missing_inputs(attempt)


def refusal(attempt: Attempt) -> list[FieldError]:
    """Why this caller may not take this action in this state at all, whatever they supply (empty: they may)."""
    t = TRANSITIONS[attempt.action]
    allowed = bool(attempt.roles & t.roles) or (t.by_reporter and attempt.is_reporter)
    if not allowed:
        who = "the reporter" if t.by_reporter else ", ".join(sorted(r.value for r in t.roles))
        return [FieldError("PERMISSION_DENIED", f"Only {who} may do this.", field="id",
                           message_vi="Bạn không có quyền thực hiện thao tác này với sự việc này.")]
    if attempt.state not in t.sources:
        states = ", ".join(sorted(s.value for s in t.sources))
        return [FieldError("INVALID_STATE",
                           f"Cannot {attempt.action.value.lower()} an incident that is {attempt.state.value}; "
                           f"allowed from {states}.", field="id",
                           message_vi=f"Không thể thực hiện khi sự việc đang ở trạng thái {attempt.state.value}.")]
    return []


def missing_inputs(attempt: Attempt) -> list[FieldError]:
    """What the action requires that the attempt did not supply."""
    t = TRANSITIONS[attempt.action]
    errors = []
    for name in t.requires:
        value = attempt.supplied.get(name)
        if value is None or (isinstance(value, str) and not value.strip()) or value in ((), []):
            en, vi = _MESSAGES[name]
            errors.append(FieldError("REQUIRED", en, field=name, message_vi=vi))
    return errors


def can_advance_assignment(current: AssignmentState, target: AssignmentState) -> bool:
    """Units move forward only: ASSIGNED -> EN_ROUTE -> ON_SCENE -> CLEARED (steps may be skipped)."""
    order = list(AssignmentState)
    return order.index(target) > order.index(current)


def reopen_window_open(resolved_at: dt.datetime | None, now: dt.datetime, window: dt.timedelta) -> bool:
    """Whether the reporter may still reopen an incident resolved at `resolved_at`."""
    return resolved_at is not None and now - resolved_at <= window


# --- status derived from the event log -------------------------------------------------------------------


@dataclass(frozen=True)
class Status:
    """The incident's state and stage timestamps, derived from its events."""

    state: IncidentState = IncidentState.REPORTED
    reported_at: dt.datetime | None = None
    acknowledged_at: dt.datetime | None = None
    dispatched_at: dt.datetime | None = None
    arrived_at: dt.datetime | None = None
    resolved_at: dt.datetime | None = None
    closed_at: dt.datetime | None = None


@dataclass(frozen=True)
class EventFacts:
    """The parts of an event that change the status."""

    kind: EventKind
    at: dt.datetime
    to_state: IncidentState | None = None
    assignment_state: AssignmentState | None = None


def apply_event(status: Status, event: EventFacts) -> Status:
    """The status after one more event."""
    out = status if event.to_state is None else replace(status, state=event.to_state)
    if event.kind == EventKind.REPORTED and out.reported_at is None:
        out = replace(out, reported_at=event.at)
    elif event.kind == EventKind.ACKNOWLEDGED and out.acknowledged_at is None:
        out = replace(out, acknowledged_at=event.at)
    elif event.kind in (EventKind.DISPATCHED, EventKind.ASSIGNMENT_UPDATED):
        if event.kind == EventKind.DISPATCHED and out.dispatched_at is None:
            out = replace(out, dispatched_at=event.at)
        # A unit on scene: by its own update, or moved here already on scene (a merged duplicate's unit).
        if event.assignment_state == AssignmentState.ON_SCENE and out.arrived_at is None:
            out = replace(out, arrived_at=event.at)
    elif event.kind == EventKind.RESOLVED:
        out = replace(out, resolved_at=event.at)
    elif event.kind == EventKind.CLOSED:
        out = replace(out, closed_at=event.at)
    elif event.kind == EventKind.REOPENED:
        # A reopened incident is handled again: its resolution no longer counts.
        out = replace(out, resolved_at=None, closed_at=None)
    return out


def fold(events: Iterable[EventFacts]) -> Status:
    """The status from the whole event log."""
    status = Status()
    for event in events:
        status = apply_event(status, event)
    return status


# --- deadlines -------------------------------------------------------------------------------------------

STAGES = (Stage.ACKNOWLEDGE, Stage.DISPATCH, Stage.ARRIVE, Stage.RESOLVE)


@dataclass(frozen=True)
class DeadlineTable:
    """Minutes from report to each stage, per priority."""

    minutes: Mapping[str, Sequence[int]]

    def deadlines(self, priority: Priority | str, start: dt.datetime) -> dict[Stage, dt.datetime]:
        """The four deadlines of an incident reported (or reopened) at `start`."""
        row = self.minutes[Priority(priority).value]
        return {stage: start + dt.timedelta(minutes=row[i]) for i, stage in enumerate(STAGES)}


def stage_met(stage: Stage, status: Status) -> bool:
    """Whether a stage's work is done (or no longer needed)."""
    if status.state not in OPEN_STATES:
        return True
    return {
        Stage.ACKNOWLEDGE: status.acknowledged_at is not None,
        Stage.DISPATCH: status.dispatched_at is not None,
        Stage.ARRIVE: status.arrived_at is not None,
        Stage.RESOLVE: status.resolved_at is not None,
    }[stage]


def breaches(status: Status, deadlines: Mapping[Stage, dt.datetime], escalated: Iterable[str],
             now: dt.datetime) -> list[Stage]:
    """Stages past their deadline, not met, and not escalated yet."""
    done = set(escalated)
    return [s for s in STAGES if s.value not in done and not stage_met(s, status) and deadlines[s] <= now]


def next_due(status: Status, deadlines: Mapping[Stage, dt.datetime], escalated: Iterable[str]) -> dt.datetime | None:
    """The earliest deadline still to watch (None when nothing is pending)."""
    done = set(escalated)
    pending = [deadlines[s] for s in STAGES if s.value not in done and not stage_met(s, status)]
    return min(pending) if pending else None


# --- response times --------------------------------------------------------------------------------------


def percentile(values: Sequence[float], q: float) -> float | None:
    """The q-th percentile (0..100) with linear interpolation; None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    if len(ordered) == 1:
        return float(ordered[0])
    rank = (len(ordered) - 1) * q / 100.0
    low = math.floor(rank)
    high = min(low + 1, len(ordered) - 1)
    return float(ordered[low] + (ordered[high] - ordered[low]) * (rank - low))


def stage_seconds(status: Status) -> dict[Stage, float]:
    """Seconds each stage took: acknowledge (report->ack), dispatch (ack->dispatch), arrive (dispatch->on
    scene), resolve (report->resolved); stages not reached are left out."""
    out: dict[Stage, float] = {}
    pairs = {
        Stage.ACKNOWLEDGE: (status.reported_at, status.acknowledged_at),
        Stage.DISPATCH: (status.acknowledged_at, status.dispatched_at),
        Stage.ARRIVE: (status.dispatched_at, status.arrived_at),
        Stage.RESOLVE: (status.reported_at, status.resolved_at),
    }
    for stage, (start, end) in pairs.items():
        if start is not None and end is not None and end >= start:
            out[stage] = (end - start).total_seconds()
    return out
