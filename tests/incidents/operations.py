"""GraphQL operations the Safe City tests share, and a helper to file a report."""

from __future__ import annotations

import itertools
import uuid
from typing import Any

import httpx

from tests.conftest import gql

INCIDENT_FIELDS = """id state priority category channel reportCount reopenCount rating ratingComment resolutionNote
  acknowledgedAt dispatchedAt arrivedAt resolvedAt closedAt mergedIntoId location { lat lng }
  deadlines { acknowledgeBy resolveBy escalatedStages }"""


def mutation(name: str, payload: str) -> str:
    """`mutation($input: NameInput!) { name(input: $input) payload }`."""
    input_type = name[0].upper() + name[1:] + "Input"
    return "mutation($input: " + input_type + "!) { " + name + "(input: $input) " + payload + " }"


REPORT = mutation("reportIncident", "{ incident { " + INCIDENT_FIELDS + " } attachedToExisting "
                  "errors { field code message } }")
PAYLOAD = "{ incident { " + INCIDENT_FIELDS + " } errors { field code message } }"
ACKNOWLEDGE = mutation("acknowledgeIncident", PAYLOAD)
REJECT = mutation("rejectIncident", PAYLOAD)
DISPATCH = mutation("dispatchIncident", PAYLOAD)
RESOLVE = mutation("resolveIncident", PAYLOAD)
CLOSE = mutation("closeIncident", PAYLOAD)
REOPEN = mutation("reopenIncident", PAYLOAD)
RATE = mutation("rateIncident", PAYLOAD)
UPDATE_ASSIGNMENT = """mutation($input: UpdateAssignmentInput!) { updateAssignment(input: $input) {
  assignment { id state enRouteAt onSceneAt clearedAt unit { id readiness } } incident { state arrivedAt }
  errors { field code message } } }"""
MERGE = """mutation($input: MergeIncidentsInput!) { mergeIncidents(input: $input) {
  source { id state mergedIntoId reportCount } target { id state reportCount } errors { field code message } } }"""
SPLIT = """mutation($input: SplitIncidentInput!) { splitIncident(input: $input) {
  source { id reportCount } incident { id state reportCount category } errors { field code message } } }"""
HOTLINE = """mutation($input: LogHotlineCallInput!) { logHotlineCall(input: $input) {
  incident { id channel state reportCount reporter { fullName phone } } attachedToExisting hotlineCallId
  errors { field code message } } }"""
INCIDENT = """query($id: ID!) { incident(id: $id) { id state reportCount
  reporter { fullName phone accountId } reports { id description }
  assignments { id state unit { id name } } timeline { kind fromState toState note unitId } } }"""

PHU_QUOC = {"lat": 10.2170, "lng": 103.9600}
_spots = itertools.count()


def elsewhere() -> dict[str, float]:
    """A location ~1 km from every other one handed out, so reports do not attach to each other."""
    n = next(_spots)
    return {"lat": round(10.0 + (n % 40) * 0.01, 4), "lng": round(103.86 + (n // 40) * 0.01, 4)}


async def report(client: httpx.AsyncClient, token: str, **overrides: Any) -> dict[str, Any]:
    """Files a report through the API and returns the payload."""
    values: dict[str, Any] = {"category": "THEFT", "description": "Bị giật túi xách", "location": elsewhere(),
                              "idempotencyKey": str(uuid.uuid4())}
    values.update(overrides)
    body = await gql(client, REPORT, {"input": values}, token=token)
    assert "errors" not in body, body
    return body["data"]["reportIncident"]


async def run(client: httpx.AsyncClient, op: str, token: str, **values: Any) -> dict[str, Any]:
    """Runs a mutation with `input: values` and returns its payload."""
    body = await gql(client, op, {"input": values}, token=token)
    assert "errors" not in body, body
    return next(iter(body["data"].values()))
