"""Who sees cameras, events, violations and evidence; acknowledging events."""

from __future__ import annotations

import hashlib
from pathlib import Path

import httpx
from strawberry.relay import to_base64

from api.db import Database
from tests.cameras.factories import make_camera, observed, record
from tests.conftest import gql
from tests.factories import make_api_key, make_person

CAMERAS = "query { cameras(first: 10) { edges { node { code kind streamUrl config status } } } }"
EVENTS = """
query Events($filter: CameraEventFilter) {
  cameraEvents(first: 10, filter: $filter) {
    edges { node { id rule kind state raisesIncident acknowledgedBy camera { code }
                   violation { kind } evidence { kind sha256 bytes url } } }
  }
}
"""
VIOLATIONS = """
query { trafficViolations(first: 10, filter: {kind: RED_LIGHT}) {
  edges { node { kind occurredAt camera { code } event { rule } evidence { kind url } } } } }
"""
ACKNOWLEDGE = """
mutation Ack($id: ID!) { acknowledgeCameraEvent(input: {id: $id}) { event { acknowledgedBy acknowledgedAt }
  errors { code field } } }
"""


async def test_a_citizen_cannot_list_cameras(client: httpx.AsyncClient, database: Database, settings) -> None:
    # given
    make_camera(database)
    citizen = make_person(database, settings, "citizen")
    # when
    body = await gql(client, CAMERAS, token=citizen.token)
    # then
    assert body["data"] is None and body["errors"][0]["extensions"]["code"] == "FORBIDDEN"


async def test_a_key_without_the_scope_cannot_list_cameras(client: httpx.AsyncClient, database: Database) -> None:
    # given
    make_camera(database)
    key = make_api_key(database, "third_party", ["incidents:read"])
    # when
    body = await gql(client, CAMERAS, token=key)
    # then
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"


async def test_a_key_with_the_scope_sees_cameras_but_never_their_streams(client: httpx.AsyncClient,
                                                                         database: Database, settings) -> None:
    # given
    make_camera(database)
    key = make_api_key(database, "third_party", ["cameras:read"])
    police = make_person(database, settings, "police")
    # when
    as_key = await gql(client, CAMERAS, token=key)
    as_police = await gql(client, CAMERAS, token=police.token)
    events = await gql(client, EVENTS, token=key)
    # then
    (node,) = [e["node"] for e in as_key["data"]["cameras"]["edges"]]
    assert node["code"] == "PQ-T90" and node["streamUrl"] is None and node["config"] is None
    assert "rtsp://" not in str(as_key)
    assert as_police["data"]["cameras"]["edges"][0]["node"]["streamUrl"].startswith("rtsp://")
    assert events["errors"][0]["extensions"]["code"] == "FORBIDDEN"


async def test_watchers_list_filter_and_acknowledge_events(client: httpx.AsyncClient, database: Database,
                                                           settings) -> None:
    # given
    camera = make_camera(database)
    red = record(database, camera.id, observed())
    record(database, camera.id, observed("count_east", "tripwire", track_id=3, started=4.0, raises_incident=False))
    dispatcher = make_person(database, settings, "dispatcher")
    camera_gid = to_base64("Camera", camera.id)
    # when
    red_only = await gql(client, EVENTS, {"filter": {"cameraId": camera_gid, "rule": "red_east"}},
                         token=dispatcher.token)
    event_gid = red_only["data"]["cameraEvents"]["edges"][0]["node"]["id"]
    ack = await gql(client, ACKNOWLEDGE, {"id": event_gid}, token=dispatcher.token)
    unacknowledged = await gql(client, EVENTS, {"filter": {"acknowledged": False}}, token=dispatcher.token)
    violations = await gql(client, VIOLATIONS, token=dispatcher.token)
    # then
    (node,) = [e["node"] for e in red_only["data"]["cameraEvents"]["edges"]]
    assert (node["kind"], node["state"], node["raisesIncident"]) == ("red_light", "OPEN", True)
    assert node["camera"]["code"] == "PQ-T90" and node["violation"] == {"kind": "RED_LIGHT"}
    assert ack["data"]["acknowledgeCameraEvent"]["event"]["acknowledgedBy"] == dispatcher.account_id
    assert [e["node"]["rule"] for e in unacknowledged["data"]["cameraEvents"]["edges"]] == ["count_east"]
    (violation,) = [e["node"] for e in violations["data"]["trafficViolations"]["edges"]]
    assert violation["event"]["rule"] == "red_east" and violation["camera"]["code"] == "PQ-T90"
    assert red


async def test_evidence_is_served_to_watchers_only_and_checked_against_its_hash(
    client: httpx.AsyncClient, database: Database, settings
) -> None:
    # given
    folder = Path(settings.media_dir) / "evidence" / "run" / "PQ-T90" / "e1"
    folder.mkdir(parents=True)
    (folder / "snapshot.jpg").write_bytes(b"\xff\xd8 jpeg bytes")
    digest = hashlib.sha256(b"\xff\xd8 jpeg bytes").hexdigest()
    item = {"kind": "snapshot", "path": "evidence/run/PQ-T90/e1/snapshot.jpg", "sha256": digest, "bytes": 13}
    camera = make_camera(database)
    event_id = record(database, camera.id, observed(evidence=[item]))
    police = make_person(database, settings, "police")
    citizen = make_person(database, settings, "citizen")
    listed = await gql(client, EVENTS, token=police.token)
    url = listed["data"]["cameraEvents"]["edges"][0]["node"]["evidence"][0]["url"]
    path = httpx.URL(url).path
    # when
    anonymous = await client.get(path)
    as_citizen = await client.get(path, headers={"authorization": f"Bearer {citizen.token}"})
    bad_token = await client.get(path, headers={"authorization": "Bearer nonsense"})
    as_police = await client.get(path, headers={"authorization": f"Bearer {police.token}"})
    missing = await client.get(f"/media/evidence/{event_id}/clip", headers={"authorization": f"Bearer {police.token}"})
    (folder / "snapshot.jpg").write_bytes(b"\xff\xd8 edited")
    altered = await client.get(path, headers={"authorization": f"Bearer {police.token}"})
    # then
    assert path == f"/media/evidence/{event_id}/snapshot"
    assert (anonymous.status_code, as_citizen.status_code, bad_token.status_code) == (401, 403, 401)
    assert as_police.status_code == 200 and as_police.content == b"\xff\xd8 jpeg bytes"
    assert as_police.headers["x-evidence-sha256"] == digest and as_police.headers["content-type"] == "image/jpeg"
    assert missing.status_code == 404
    assert altered.status_code == 409


async def test_evidence_paths_cannot_leave_the_media_directory(client: httpx.AsyncClient, database: Database,
                                                               settings, tmp_path: Path) -> None:
    # given
    secret = tmp_path / "outside.txt"
    secret.write_text("not evidence")
    item = {"kind": "snapshot", "path": "../outside.txt",
            "sha256": hashlib.sha256(b"not evidence").hexdigest(), "bytes": 12}
    camera = make_camera(database)
    event_id = record(database, camera.id, observed(evidence=[item]))
    police = make_person(database, settings, "police")
    # when
    response = await client.get(f"/media/evidence/{event_id}/snapshot",
                                headers={"authorization": f"Bearer {police.token}"})
    # then
    assert response.status_code == 404


LIST_WITH_RELATIONS = """
query { cameraEvents(first: 50) { edges { node { rule camera { code } violation { kind } } } }
        trafficViolations(first: 50) { edges { node { kind camera { code } event { rule } } } } }
"""


async def _statements(client: httpx.AsyncClient, database: Database, token: str) -> int:
    from sqlalchemy import event

    count = 0

    def counter(*_args) -> None:
        nonlocal count
        count += 1

    event.listen(database.engine, "before_cursor_execute", counter)
    try:
        body = await gql(client, LIST_WITH_RELATIONS, token=token)
    finally:
        event.remove(database.engine, "before_cursor_execute", counter)
    assert "errors" not in body, body
    return count


async def test_event_and_violation_lists_load_relations_in_batches(client: httpx.AsyncClient, database: Database,
                                                                   settings) -> None:
    # given
    police = make_person(database, settings, "police")
    cameras = [make_camera(database, f"PQ-T9{i}") for i in range(3)]
    record(database, cameras[0].id, observed(track_id=1))
    await _statements(client, database, police.token)  # warm-up: the sign-in session is read once, then remembered
    few = await _statements(client, database, police.token)
    for i, camera in enumerate(cameras):
        for track in range(2, 6):
            record(database, camera.id, observed(track_id=track + 10 * i))
    # when
    many = await _statements(client, database, police.token)
    # then
    assert many == few  # 13 events on 3 cameras cost what 1 did: no N+1
