"""Who may do what to an incident now, and who may see it: pure rules on top of the state machine.

The mutations (flows.check) and the `allowedActions` field both decide with `refusal` below, so what the API
offers and what it then accepts cannot drift apart. An action is refused for who the caller is (permission) or
for where the incident is (its state, and the few facts besides the state that no input can change: the reopen
window, a rating already given, a single report that cannot be split off). What the caller must still supply
(a reason, a note, units) is checked only when they act: `lifecycle.missing_inputs`."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from api.core.auth import Role
from api.core.errors import FieldError
from api.incidents import lifecycle
from api.incidents.lifecycle import Action
from api.incidents.rules import AssignmentState, IncidentState

# Roles that see every incident; a responder sees the incidents their unit is or was assigned to.
SEE_ALL_ROLES = frozenset({Role.DISPATCHER, Role.POLICE, Role.ADMIN})


def only_responder(roles: frozenset[Role]) -> bool:
    """A responder and nothing more senior: acts on, and sees, only what their unit is sent to."""
    return Role.RESPONDER in roles and not roles & SEE_ALL_ROLES


def sees_every_incident(roles: frozenset[Role]) -> bool:
    """Operators, police and admins see every incident."""
    return bool(roles & SEE_ALL_ROLES)


@dataclass(frozen=True)
class Standing:
    """Who the caller is to one incident."""

    roles: frozenset[Role]
    is_reporter: bool = False
    unit_active: bool = False  # the caller's responder unit is on it now (assigned, en route or on scene)
    unit_ever: bool = False  # the caller's responder unit was ever assigned to it


@dataclass(frozen=True)
class Situation:
    """Where an incident is: its state and the facts besides it that decide whether an action can succeed."""

    state: IncidentState
    report_count: int = 1
    rated: bool = False
    reopen_window_open: bool = False
    reopen_window_hours: int = 0


def situation(*, state: IncidentState | str, report_count: int, rating: int | None,
              resolved_at: dt.datetime | None, reopen_window_hours: int, now: dt.datetime) -> Situation:
    """The situation of an incident (a row or its GraphQL object: both have these values) at `now`."""
    window = dt.timedelta(hours=reopen_window_hours)
    return Situation(state=IncidentState(state), report_count=report_count, rated=rating is not None,
                     reopen_window_open=lifecycle.reopen_window_open(resolved_at, now, window),
                     reopen_window_hours=reopen_window_hours)


def refusal(action: Action, standing: Standing, where: Situation) -> list[FieldError]:
    """Why the caller may not take this action now, whatever they supply (empty: they may): permission
    first, then state, then the facts of this incident."""
    t = lifecycle.TRANSITIONS[action]
    errors = lifecycle.refusal(lifecycle.Attempt(action, where.state, standing.roles, standing.is_reporter))
    if errors:
        return errors
    by_role = bool(standing.roles & t.roles)
    if by_role and only_responder(standing.roles) and not standing.unit_active:
        return [FieldError("PERMISSION_DENIED", "Your unit is not assigned to this incident.", field="id",
                           message_vi="Đơn vị của bạn không được phân công sự việc này.")]
    if action == Action.REOPEN and not where.reopen_window_open:
        hours = where.reopen_window_hours
        return [FieldError("REOPEN_WINDOW_CLOSED",
                           f"An incident can be reopened only within {hours} hours of its resolution.", field="id",
                           message_vi=f"Chỉ mở lại được trong {hours} giờ sau khi xử lý xong.")]
    if action == Action.RATE and where.rated:
        return [FieldError("ALREADY_RATED", "This incident was already rated.", field="id",
                           message_vi="Sự việc này đã được đánh giá.")]
    if action == Action.SPLIT and where.report_count < 2:
        return [FieldError("INVALID", "This is the incident's only report; nothing to split off.",
                           field="report_id", message_vi="Đây là phản ánh duy nhất của sự việc; không có gì để tách.")]
    return []


def allowed_actions(standing: Standing, where: Situation) -> list[Action]:
    """Every action the caller may take now, in the state machine's order."""
    return [action for action in Action if not refusal(action, standing, where)]


def needs_reporter(state: IncidentState) -> bool:
    """Whether being one of the reporters can change what may be done in this state."""
    return any(t.by_reporter and state in t.sources for t in lifecycle.TRANSITIONS.values())


def needs_unit(roles: frozenset[Role], state: IncidentState) -> bool:
    """Whether the caller's unit being on the incident can change what they may do in this state."""
    return only_responder(roles) and any(roles & t.roles and state in t.sources
                                         for t in lifecycle.TRANSITIONS.values())


def may_view(standing: Standing) -> bool:
    """Whether the caller may see the incident: operators, police and admins always; a responder when their
    unit is or was assigned to it; anyone who reported it."""
    return sees_every_incident(standing.roles) or standing.is_reporter or (
        Role.RESPONDER in standing.roles and standing.unit_ever)


# --- a unit's progress on an incident ----------------------------------------------------------------------


def assignment_refusal(roles: frozenset[Role], caller_unit: int | None, unit_id: int, current: AssignmentState,
                       target: AssignmentState, incident_state: IncidentState | str) -> FieldError | None:
    """Why the caller may not move a unit's assignment from `current` to `target` (None: they may). Operators,
    police and admins move any unit; a responder only their own; units move forward, and only clear once
    the incident is no longer DISPATCHED."""
    if not (roles & SEE_ALL_ROLES or (Role.RESPONDER in roles and caller_unit == unit_id)):
        return FieldError("PERMISSION_DENIED", "Only the unit's responders or a dispatcher may update this.",
                          field="assignment_id",
                          message_vi="Chỉ thành viên đơn vị hoặc điều phối viên được cập nhật.")
    state = IncidentState(incident_state)
    if state != IncidentState.DISPATCHED and target != AssignmentState.CLEARED:
        return FieldError("INVALID_STATE", f"The incident is {state.value}; units can only clear.", field="state",
                          message_vi=f"Sự việc đang ở trạng thái {state.value}; "
                                     "đơn vị chỉ có thể rời hiện trường.")
    if not lifecycle.can_advance_assignment(current, target):
        return FieldError("INVALID_STATE", f"A unit that is {current.value} cannot go to {target.value}.",
                          field="state",
                          message_vi=f"Đơn vị ở trạng thái {current.value} không thể chuyển sang {target.value}.")
    return None


def assignment_steps(roles: frozenset[Role], caller_unit: int | None, unit_id: int, current: AssignmentState,
                     incident_state: IncidentState | str) -> list[AssignmentState]:
    """The states the caller may move this assignment to now."""
    return [s for s in AssignmentState
            if assignment_refusal(roles, caller_unit, unit_id, current, s, incident_state) is None]
