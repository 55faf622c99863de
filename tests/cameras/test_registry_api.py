"""Registering cameras through GraphQL: strict configs, clear errors, nothing stored on error."""

from __future__ import annotations

import copy
import subprocess
import sys
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from api.cameras.demo import demo_cameras, plaza_config, traffic_config
from api.cameras.models import Camera
from api.db import Database
from tests.conftest import gql
from tests.factories import make_person

CREATE = """
mutation Create($input: CreateCameraInput!) {
  createCamera(input: $input) {
    camera { id code kind status streamUrl config }
    errors { field code message }
  }
}
"""
UPDATE = """
mutation Update($input: UpdateCameraInput!) {
  updateCamera(input: $input) { camera { code config } errors { field code message } }
}
"""


def _input(**overrides: Any) -> dict[str, Any]:
    values = {"code": "PQ-T50", "name": "Nút giao thử nghiệm", "kind": "TRAFFIC", "lat": 10.2163, "lng": 103.9617,
              "unitCode": "31078", "streamUrl": "rtsp://10.31.78.150:554/Streaming/Channels/102",
              "config": traffic_config()}
    values.update(overrides)
    return values


def _count(database: Database) -> int:
    with database.session() as session:
        return session.scalar(select(func.count()).select_from(Camera)) or 0


def _bow_tie() -> dict:
    data = plaza_config()
    data["zones"][0]["points"] = [[0.1, 0.1], [0.9, 0.9], [0.9, 0.1], [0.1, 0.9]]
    return data


def _unknown_key() -> dict:
    data = plaza_config()
    data["rules"][0]["dwell"] = 5
    return data


def _outside_frame() -> dict:
    data = plaza_config()
    data["zones"][1]["points"][0] = [1.2, 0.5]
    return data


def _unknown_zone() -> dict:
    data = plaza_config()
    data["rules"][1]["zone"] = "nowhere"
    return data


def _collinear_homography() -> dict:
    data = traffic_config()
    speed = next(r for r in data["rules"] if r["type"] == "speed")
    speed["image_points"] = [[0, 0.5], [0.5, 0.5], [1, 0.5], [0.2, 0.9]]
    return data


def _bad_param_type() -> dict:
    data = traffic_config()
    data["rules"][-1]["max_stop_s"] = "long"
    return data


BAD_CONFIGS = [
    (_bow_tie, "config.zones.0.points", "polygon is not simple: edge 0 intersects edge 2"),
    (_unknown_key, "config.rules.0.intrusion.dwell", "Extra inputs are not permitted"),
    (_outside_frame, "config.zones.1.points.0.0", "less than or equal to 1"),
    (_unknown_zone, "config", "rule 'atm_loitering' refers to unknown zone 'nowhere'"),
    (_collinear_homography, "config.rules.4.speed", "image_points must form a convex quadrilateral"),
    (_bad_param_type, "config.rules.5.no_parking.max_stop_s", "valid number"),
    (lambda: {**traffic_config(), "fps": 5}, "config.fps", "Extra inputs are not permitted"),
]


async def test_admin_registers_a_camera_with_a_valid_config(client: httpx.AsyncClient, database: Database,
                                                            settings) -> None:
    # given
    admin = make_person(database, settings, "admin")
    # when
    body = await gql(client, CREATE, {"input": _input()}, token=admin.token)
    # then
    payload = body["data"]["createCamera"]
    assert payload["errors"] == []
    assert payload["camera"]["code"] == "PQ-T50" and payload["camera"]["status"] == "UNKNOWN"
    assert payload["camera"]["config"]["rules"][0]["name"] == "count_east"
    assert _count(database) == 1


@pytest.mark.parametrize(("make_config", "field", "message"), BAD_CONFIGS,
                         ids=["bow_tie", "unknown_key", "outside_frame", "unknown_zone", "collinear_homography",
                              "bad_param_type", "unknown_top_level_key"])
async def test_bad_config_is_refused_with_its_field_path_and_nothing_is_stored(
    client: httpx.AsyncClient, database: Database, settings, make_config, field: str, message: str
) -> None:
    # given
    admin = make_person(database, settings, "admin")
    # when
    body = await gql(client, CREATE, {"input": _input(config=make_config())}, token=admin.token,
                     headers={"accept-language": "en"})
    # then
    payload = body["data"]["createCamera"]
    assert payload["camera"] is None
    matching = [e for e in payload["errors"] if e["field"] == field]
    assert matching, payload["errors"]
    assert matching[0]["code"] == "CONFIG_INVALID" and message in matching[0]["message"]
    assert _count(database) == 0


async def test_registry_fields_are_checked_together(client: httpx.AsyncClient, database: Database, settings) -> None:
    # given
    admin = make_person(database, settings, "admin")
    # when
    body = await gql(client, CREATE, {"input": _input(lat=103.96, lng=10.21, unitCode="99999",
                                                      streamUrl="ftp://camera", code="PQ T50")},
                     token=admin.token, headers={"accept-language": "vi"})
    # then
    errors = {e["field"]: e for e in body["data"]["createCamera"]["errors"]}
    assert set(errors) == {"code", "lat", "lng", "unitCode", "streamUrl"}
    assert errors["lat"]["code"] == "LOCATION_INVALID" and "Vĩ độ" in errors["lat"]["message"]
    assert _count(database) == 0


async def test_update_with_a_bad_config_keeps_the_stored_one(client: httpx.AsyncClient, database: Database,
                                                             settings) -> None:
    # given
    admin = make_person(database, settings, "admin")
    created = (await gql(client, CREATE, {"input": _input()}, token=admin.token))["data"]["createCamera"]["camera"]
    # when
    body = await gql(client, UPDATE, {"input": {"id": created["id"], "config": _bow_tie()}}, token=admin.token)
    renamed = await gql(client, UPDATE, {"input": {"id": created["id"], "name": "Đổi tên"}}, token=admin.token)
    # then
    assert body["data"]["updateCamera"]["errors"][0]["field"] == "config.zones.0.points"
    assert renamed["data"]["updateCamera"]["errors"] == []
    with database.session() as session:
        row = session.scalars(select(Camera)).one()
    assert row.name == "Đổi tên" and row.config["zones"][0]["name"] == "lane_east"


async def test_duplicate_code_is_refused(client: httpx.AsyncClient, database: Database, settings) -> None:
    # given
    admin = make_person(database, settings, "admin")
    await gql(client, CREATE, {"input": _input()}, token=admin.token)
    # when
    body = await gql(client, CREATE, {"input": _input()}, token=admin.token)
    # then
    assert [e["code"] for e in body["data"]["createCamera"]["errors"]] == ["CODE_TAKEN"]
    assert _count(database) == 1


async def test_only_admins_register_cameras(client: httpx.AsyncClient, database: Database, settings) -> None:
    # given
    police = make_person(database, settings, "police")
    # when
    body = await gql(client, CREATE, {"input": _input()}, token=police.token)
    # then
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert _count(database) == 0


def test_demo_has_the_50_phu_quoc_cameras_with_valid_configs() -> None:
    from api.cameras.rules import config_errors

    cameras = demo_cameras()
    assert len(cameras) == 50 and len({c.code for c in cameras}) == 50
    assert sum(c.kind == "TRAFFIC" for c in cameras) == 19
    assert all(10.0 <= c.lat <= 10.45 and 103.85 <= c.lng <= 104.1 for c in cameras)
    assert all(config_errors(c.config) == [] for c in cameras)


def test_demo_synthetic_cameras_watch_the_layout_their_scene_draws() -> None:
    from workers.camera.scenes import plaza_config as scene_plaza
    from workers.camera.scenes import traffic_config as scene_traffic

    def analysis(config: dict) -> dict:
        data = copy.deepcopy(config)
        for key in ("code", "name", "analysis_fps", "analysis_width"):
            data.pop(key)
        return data

    assert traffic_config() == analysis(scene_traffic())
    assert plaza_config() == analysis(scene_plaza())


def test_config_validation_in_the_api_needs_no_opencv_or_numpy() -> None:
    code = ("import sys, api.cameras.flows, api.cameras.config; "
            "assert 'cv2' not in sys.modules and 'numpy' not in sys.modules, sorted(sys.modules)")
    subprocess.run([sys.executable, "-c", code], check=True)
