import json

import numpy as np
import pytest
from pydantic import ValidationError

from workers.camera import geometry
from workers.camera.config import CameraConfig, load_camera_config
from workers.camera.scenes import plaza_config, traffic_config


def _errors(data: dict) -> str:
    with pytest.raises(ValidationError) as info:
        CameraConfig.model_validate(data)
    return str(info.value)


def test_synthetic_layout_configs_are_valid():
    assert CameraConfig.model_validate(traffic_config()).rules[0].type == "tripwire"
    assert len(CameraConfig.model_validate(plaza_config()).zones) == 3


def test_unknown_key_is_refused_with_its_location():
    data = plaza_config()
    data["rules"][0]["dwell"] = 5
    message = _errors(data)
    assert "rules.0.intrusion.dwell" in message
    assert "Extra inputs are not permitted" in message


def test_unknown_top_level_key_is_refused():
    assert "fps" in _errors({**traffic_config(), "fps": 5})


def test_self_intersecting_polygon_is_refused():
    data = plaza_config()
    data["zones"][0]["points"] = [[0.1, 0.1], [0.9, 0.9], [0.9, 0.1], [0.1, 0.9]]  # a bow tie
    assert "polygon is not simple: edge 0 intersects edge 2" in _errors(data)


def test_coordinates_outside_unit_square_are_refused():
    data = plaza_config()
    data["zones"][1]["points"][0] = [1.2, 0.5]
    message = _errors(data)
    assert "zones.1.points.0.0" in message and "less than or equal to 1" in message


def test_collinear_homography_is_refused():
    data = traffic_config()
    data["rules"][4]["image_points"] = [[0, 0.5], [0.5, 0.5], [1, 0.5], [0.2, 0.9]]
    assert "image_points must form a convex quadrilateral" in _errors(data)


def test_crossed_world_points_are_refused():
    data = traffic_config()
    data["rules"][4]["world_points"] = [[0, 0], [40, 7], [40, 0], [0, 7]]
    assert "world_points must form a convex quadrilateral" in _errors(data)


def test_rule_with_unknown_zone_is_refused():
    data = plaza_config()
    data["rules"][1]["zone"] = "nowhere"
    assert "rule 'atm_loitering' refers to unknown zone 'nowhere'" in _errors(data)


def test_duplicate_rule_names_are_refused():
    data = plaza_config()
    data["rules"][1]["name"] = data["rules"][0]["name"]
    assert "rule names must be unique" in _errors(data)


def test_red_light_signal_type_is_discriminated():
    data = traffic_config()
    data["rules"][3]["signal"] = {"type": "radio"}
    assert "signal" in _errors(data)


def test_out_of_range_parameter_is_refused():
    data = traffic_config()
    data["rules"][4]["limit_kmh"] = 1000
    assert "less than or equal to 300" in _errors(data)


def test_loads_json_file(tmp_path):
    path = tmp_path / "cam.json"
    path.write_text(json.dumps(traffic_config("PQ-TR-007")))
    assert load_camera_config(path).code == "PQ-TR-007"


def test_side_convention_is_as_seen_from_a_towards_b():
    a, b = np.array([0.0, 10.0]), np.array([0.0, 0.0])  # pointing up the screen
    assert geometry.signed_side(a, b, np.array([5.0, 5.0])) > 0  # east is on the right
    assert geometry.signed_side(a, b, np.array([-5.0, 5.0])) < 0


def test_simple_polygon_check():
    assert geometry.self_intersections([(0, 0), (1, 0), (1, 1), (0, 1)]) == []
    assert geometry.self_intersections([(0, 0), (1, 1), (1, 0), (0, 1)]) == [(0, 2)]
    assert geometry.self_intersections([(0, 0), (2, 0), (1, 0), (1, 1)])  # an edge folding back
