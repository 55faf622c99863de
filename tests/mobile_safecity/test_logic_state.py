"""What the list and detail screens show, computed without a screen."""

from __future__ import annotations

from pathlib import Path

from mobile_common.outbox import ItemState, Outbox
from mobile_safecity.logic.categories import emergency_numbers
from mobile_safecity.logic.state import (
    apply_live_event,
    can_rate,
    field_messages,
    local_time,
    reference,
    report_rows,
    steps_reached,
    timeline_rows,
)

INCIDENT = {"id": "SW5jaWRlbnQ6NDI=", "category": "THEFT", "state": "ACKNOWLEDGED", "description": "Mất ví",
            "reportedAt": "2026-11-25T03:05:00+00:00", "timeline": [
                {"id": 1, "kind": "REPORTED", "at": "2026-11-25T03:05:00+00:00", "toState": "REPORTED"}]}


def test_unsent_and_refused_reports_come_first_then_the_servers(tmp_path: Path) -> None:
    # given
    outbox = Outbox(tmp_path)
    waiting = outbox.add("reportIncident", {"input": {"category": "FIRE"}}, now=1795600000)
    refused = outbox.add("reportIncident", {"input": {"category": "OTHER"}})
    outbox.mark_failed(refused.id, [{"field": "location", "code": "LOCATION_REQUIRED", "message": "Cần vị trí."}])
    outbox.record_attempt(waiting.id, error="HTTP 503", next_attempt_at=0)
    # when
    rows = report_rows(outbox.items(), [INCIDENT], "vi")
    # then
    assert [(r.title, r.status, r.status_code) for r in rows] == [
        ("Khác", "Chưa gửi được", "FAILED"), ("Cháy nổ", "Đang chờ gửi", "WAITING"),
        ("Trộm cắp", "Đã xác nhận", "ACKNOWLEDGED")]
    assert rows[0].detail == "Cần vị trí."
    assert rows[1].detail == "Sẽ tự gửi khi có mạng · đã thử 1 lần"
    assert rows[2].detail == "SC-42 · Mất ví" and rows[2].when == "10:05 25/11/2026"
    assert [r.status for r in report_rows(outbox.items(), [INCIDENT], "en")] == [
        "Not sent", "Waiting to send", "Acknowledged"]
    assert [i.state for i in outbox.items()] == [ItemState.PENDING, ItemState.FAILED]


def test_a_live_event_moves_the_incident_and_extends_its_timeline_once() -> None:
    event = {"id": 2, "kind": "DISPATCHED", "at": "2026-11-25T03:15:00+00:00", "state": "DISPATCHED",
             "incidentId": INCIDENT["id"]}
    after = apply_live_event(INCIDENT, event)
    assert after["state"] == "DISPATCHED" and len(after["timeline"]) == 2
    assert apply_live_event(after, event)["timeline"] == after["timeline"]
    assert apply_live_event(INCIDENT, {**event, "incidentId": "other"}) is INCIDENT
    assert [r.title for r in timeline_rows(after["timeline"], "en")] == ["Report received", "Responders are on their way"]
    assert steps_reached("DISPATCHED") == 3 and steps_reached("REJECTED") == 1


def test_small_helpers() -> None:
    assert reference("SW5jaWRlbnQ6NDI=") == "SC-42"
    assert local_time("2026-11-25T17:30:00Z", "en") == "26/11/2026 00:30"
    assert can_rate({"state": "CLOSED", "rating": None}) and not can_rate({"state": "CLOSED", "rating": 3})
    assert field_messages([{"field": "occurred_at", "message": "a"}, {"field": "location.lat", "message": "b"},
                           {"field": None, "message": "c"}]) == {"occurredAt": "a", "location": "b", "_": "c"}
    assert emergency_numbers("FIRE") == ("114",)
    assert emergency_numbers("MEDICAL") == ("115",)
    assert emergency_numbers("THEFT") == emergency_numbers("PUBLIC_ORDER") == ("113",)
    assert emergency_numbers("TRAFFIC_ACCIDENT") == ("115", "113")
    assert emergency_numbers("ENVIRONMENT") == () and emergency_numbers(None) == ()
