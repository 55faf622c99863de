"""The pure Safe City rules: state machine, derived status, deadlines, duplicates, unit ranking, percentiles."""

from __future__ import annotations

import datetime as dt

import pytest

from api.core.auth import Role
from api.incidents import lifecycle, rules
from api.incidents.lifecycle import Action, Attempt, EventFacts
from api.incidents.rules import (
    AssignmentState,
    EventKind,
    IncidentState,
    Readiness,
    Stage,
    UnitType,
)

T0 = dt.datetime(2026, 11, 1, 8, 0, tzinfo=dt.UTC)
S = IncidentState
OPS = frozenset({Role.DISPATCHER})
CITIZEN = frozenset({Role.CITIZEN})


@pytest.mark.parametrize(("action", "state", "roles", "reporter", "supplied"), [
    (Action.ACKNOWLEDGE, S.REPORTED, OPS, False, {}),
    (Action.ACKNOWLEDGE, S.REPORTED, frozenset({Role.POLICE}), False, {}),
    (Action.REJECT, S.REPORTED, OPS, False, {"reason": "spam"}),
    (Action.REJECT, S.ACKNOWLEDGED, OPS, False, {"reason": "spam"}),
    (Action.DISPATCH, S.ACKNOWLEDGED, OPS, False, {"units": [1]}),
    (Action.DISPATCH, S.DISPATCHED, OPS, False, {"units": [2]}),
    (Action.RESOLVE, S.DISPATCHED, frozenset({Role.RESPONDER}), False, {"resolution_note": "done"}),
    (Action.RESOLVE, S.ACKNOWLEDGED, OPS, False, {"resolution_note": "done by phone"}),
    (Action.CLOSE, S.RESOLVED, OPS, False, {}),
    (Action.MERGE, S.DISPATCHED, OPS, False, {"target": 2}),
    (Action.SPLIT, S.ACKNOWLEDGED, OPS, False, {"report": 3}),
    (Action.REOPEN, S.RESOLVED, CITIZEN, True, {"reason": "still broken"}),
    (Action.REOPEN, S.CLOSED, CITIZEN, True, {"reason": "still broken"}),
    (Action.RATE, S.CLOSED, CITIZEN, True, {"rating": 5}),
])
def test_allowed_transitions_have_no_errors(action, state, roles, reporter, supplied) -> None:
    # when
    errors = lifecycle.check_transition(Attempt(action, state, roles, reporter, supplied))
    # then
    assert errors == []


@pytest.mark.parametrize(("action", "state", "roles", "reporter", "supplied", "code", "field"), [
    (Action.ACKNOWLEDGE, S.REPORTED, CITIZEN, True, {}, "PERMISSION_DENIED", "id"),
    (Action.ACKNOWLEDGE, S.ACKNOWLEDGED, OPS, False, {}, "INVALID_STATE", "id"),
    (Action.REJECT, S.REPORTED, OPS, False, {"reason": "  "}, "REQUIRED", "reason"),
    (Action.REJECT, S.DISPATCHED, OPS, False, {"reason": "x"}, "INVALID_STATE", "id"),
    (Action.DISPATCH, S.REPORTED, OPS, False, {"units": [1]}, "INVALID_STATE", "id"),
    (Action.DISPATCH, S.ACKNOWLEDGED, frozenset({Role.POLICE}), False, {"units": [1]}, "PERMISSION_DENIED", "id"),
    (Action.DISPATCH, S.ACKNOWLEDGED, OPS, False, {"units": []}, "REQUIRED", "units"),
    (Action.RESOLVE, S.DISPATCHED, OPS, False, {"resolution_note": ""}, "REQUIRED", "resolution_note"),
    (Action.RESOLVE, S.REPORTED, OPS, False, {"resolution_note": "x"}, "INVALID_STATE", "id"),
    (Action.CLOSE, S.DISPATCHED, OPS, False, {}, "INVALID_STATE", "id"),
    (Action.CLOSE, S.RESOLVED, frozenset({Role.RESPONDER}), False, {}, "PERMISSION_DENIED", "id"),
    (Action.MERGE, S.CLOSED, OPS, False, {"target": 2}, "INVALID_STATE", "id"),
    (Action.MERGE, S.REPORTED, OPS, False, {}, "REQUIRED", "target"),
    (Action.REOPEN, S.RESOLVED, CITIZEN, False, {"reason": "x"}, "PERMISSION_DENIED", "id"),
    (Action.REOPEN, S.RESOLVED, OPS, False, {"reason": "x"}, "PERMISSION_DENIED", "id"),
    (Action.REOPEN, S.DISPATCHED, CITIZEN, True, {"reason": "x"}, "INVALID_STATE", "id"),
    (Action.REOPEN, S.RESOLVED, CITIZEN, True, {}, "REQUIRED", "reason"),
    (Action.RATE, S.RESOLVED, CITIZEN, True, {"rating": 4}, "INVALID_STATE", "id"),
    (Action.RATE, S.CLOSED, CITIZEN, False, {"rating": 4}, "PERMISSION_DENIED", "id"),
])
def test_refused_transitions_name_their_error(action, state, roles, reporter, supplied, code, field) -> None:
    # when
    errors = lifecycle.check_transition(Attempt(action, state, roles, reporter, supplied))
    # then
    assert [(e.code, e.field) for e in errors] == [(code, field)]
    assert errors[0].message and errors[0].message_vi


def test_every_action_names_its_roles_sources_and_requirements() -> None:
    # then: the table is complete, and only the reporter reopens and rates
    assert set(lifecycle.TRANSITIONS) == set(Action)
    assert {a for a, t in lifecycle.TRANSITIONS.items() if t.by_reporter} == {Action.REOPEN, Action.RATE}
    assert lifecycle.TRANSITIONS[Action.REJECT].requires == ("reason",)
    assert lifecycle.TRANSITIONS[Action.RESOLVE].requires == ("resolution_note",)
    assert lifecycle.TRANSITIONS[Action.MERGE].requires == ("target",)


def test_assignments_only_move_forward() -> None:
    A = AssignmentState
    assert lifecycle.can_advance_assignment(A.ASSIGNED, A.EN_ROUTE)
    # a unit may arrive without reporting en route
    assert lifecycle.can_advance_assignment(A.ASSIGNED, A.ON_SCENE)
    assert lifecycle.can_advance_assignment(A.ON_SCENE, A.CLEARED)
    assert not lifecycle.can_advance_assignment(A.ON_SCENE, A.EN_ROUTE)
    assert not lifecycle.can_advance_assignment(A.CLEARED, A.CLEARED)


def test_status_is_folded_from_the_event_log_and_reopen_forgets_the_resolution() -> None:
    # given
    m = dt.timedelta(minutes=1)
    events = [
        EventFacts(EventKind.REPORTED, T0, S.REPORTED),
        EventFacts(EventKind.ACKNOWLEDGED, T0 + 2 * m, S.ACKNOWLEDGED),
        EventFacts(EventKind.DISPATCHED, T0 + 5 * m, S.DISPATCHED),
        EventFacts(EventKind.ASSIGNMENT_UPDATED, T0 + 9 * m, None, AssignmentState.ON_SCENE),
        EventFacts(EventKind.ASSIGNMENT_UPDATED, T0 + 10 * m, None, AssignmentState.ON_SCENE),
        EventFacts(EventKind.RESOLVED, T0 + 30 * m, S.RESOLVED),
    ]
    # when
    status = lifecycle.fold(events)
    reopened = lifecycle.apply_event(status, EventFacts(EventKind.REOPENED, T0 + 60 * m, S.ACKNOWLEDGED))
    # then
    assert status.state == S.RESOLVED
    assert (status.acknowledged_at, status.dispatched_at, status.arrived_at, status.resolved_at) == (
        T0 + 2 * m, T0 + 5 * m, T0 + 9 * m, T0 + 30 * m)
    assert lifecycle.stage_seconds(status) == {Stage.ACKNOWLEDGE: 120, Stage.DISPATCH: 180,
                                               Stage.ARRIVE: 240, Stage.RESOLVE: 1800}
    assert reopened.state == S.ACKNOWLEDGED and reopened.resolved_at is None
    assert reopened.dispatched_at == T0 + 5 * m


def test_deadlines_per_priority_and_breaches_are_reported_once() -> None:
    # given
    table = lifecycle.DeadlineTable({"P1": [2, 5, 15, 120], "P2": [10, 20, 45, 480],
                                     "P3": [60, 240, 480, 4320], "P4": [480, 1440, 2880, 10080]})
    due = table.deadlines("P1", T0)
    status = lifecycle.Status(state=S.REPORTED, reported_at=T0)
    late = T0 + dt.timedelta(minutes=6)
    # when
    first = lifecycle.breaches(status, due, [], late)
    again = lifecycle.breaches(status, due, [s.value for s in first], late)
    # then
    assert due[Stage.ACKNOWLEDGE] == T0 + dt.timedelta(minutes=2)
    assert first == [Stage.ACKNOWLEDGE, Stage.DISPATCH]
    assert again == []
    assert lifecycle.next_due(status, due, ["ACKNOWLEDGE", "DISPATCH"]) == T0 + dt.timedelta(minutes=15)
    assert lifecycle.breaches(lifecycle.Status(state=S.CLOSED), due, [], late) == []
    assert rules.raised("P3") == "P2" and rules.raised("P1") == "P1"


def test_haversine_matches_a_known_distance() -> None:
    # Dương Đông market to An Thới port: ~20.7 km
    assert rules.haversine_m(10.2145, 103.9590, 10.0330, 104.0090) == pytest.approx(20_820, rel=0.01)
    assert rules.haversine_m(10.0, 104.0, 10.0, 104.0) == 0


def _candidate(pk: int, category: str, lat: float, lng: float, minutes_ago: float, state: S = S.REPORTED):
    return rules.Candidate(pk, category, state, lat, lng, T0 - dt.timedelta(minutes=minutes_ago))


def test_duplicates_must_be_near_recent_compatible_and_open() -> None:
    # given: 0.001 deg latitude is ~111 m
    window = dt.timedelta(minutes=30)
    candidates = [
        _candidate(1, "THEFT", 10.2020, 103.96, 5),            # ~222 m away: in
        _candidate(2, "THEFT", 10.2010, 103.96, 5),            # ~111 m: nearer, in
        _candidate(3, "THEFT", 10.2000, 103.96, 40),           # too old
        _candidate(4, "FIRE", 10.2000, 103.96, 1),             # not compatible with theft
        _candidate(5, "THEFT", 10.2000, 103.96, 1, S.CLOSED),  # not open
        _candidate(6, "THEFT", 10.2030, 103.96, 1),            # ~333 m: too far
    ]
    # when
    found = rules.find_duplicate("THEFT", 10.2, 103.96, T0, candidates, radius_m=250, window=window)
    compatible = rules.find_duplicate("PUBLIC_ORDER", 10.2, 103.96, T0, candidates[:1], radius_m=250, window=window)
    none = rules.find_duplicate("FIRE", 10.2, 103.96, T0, candidates[:3], radius_m=250, window=window)
    # then
    assert found is not None and found.id == 2
    assert compatible is not None and compatible.id == 1
    assert none is None


def test_units_are_ranked_by_distance_among_available_suitable_fresh_ones() -> None:
    # given
    fresh, stale = T0 - dt.timedelta(seconds=60), T0 - dt.timedelta(seconds=1801)
    P = rules.UnitPosition
    units = [
        P(1, UnitType.POLICE_PATROL, Readiness.AVAILABLE, 10.30, 103.96, fresh),   # far
        P(2, UnitType.POLICE_PATROL, Readiness.AVAILABLE, 10.21, 103.96, fresh),   # near
        P(3, UnitType.POLICE_PATROL, Readiness.BUSY, 10.20, 103.96, fresh),        # busy
        P(4, UnitType.FIRE, Readiness.AVAILABLE, 10.20, 103.96, fresh),            # wrong type
        P(5, UnitType.POLICE_PATROL, Readiness.AVAILABLE, 10.20, 103.96, stale),   # stale location
        P(6, UnitType.TOURIST_POLICE, Readiness.AVAILABLE, 10.25, 103.96, fresh),
    ]
    # when
    ranked = rules.rank_units(10.2, 103.96, [UnitType.POLICE_PATROL, UnitType.TOURIST_POLICE], units, now=T0,
                              stale_after=dt.timedelta(seconds=1800))
    # then
    assert [u.id for u, _ in ranked] == [2, 6, 1]
    assert ranked[0][1] == pytest.approx(1112, rel=0.01)


def test_percentiles_interpolate() -> None:
    assert lifecycle.percentile([], 50) is None
    assert lifecycle.percentile([7], 90) == 7
    assert lifecycle.percentile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 50) == 5.5
    assert lifecycle.percentile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 90) == pytest.approx(9.1)


def test_categories_are_the_contract_with_both_languages() -> None:
    assert [c.code for c in rules.CATEGORIES] == ["TRAFFIC_ACCIDENT", "THEFT", "PUBLIC_ORDER", "FIRE", "MEDICAL",
                                                  "TOURIST_COMPLAINT", "ENVIRONMENT", "INFRASTRUCTURE", "OTHER"]
    assert all(c.name_vi and c.name_en and c.responder_types for c in rules.CATEGORIES)
    assert rules.coarse(10.216789) == 10.217
