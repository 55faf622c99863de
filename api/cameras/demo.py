"""The 50 Phu Quoc cameras of the article (19 traffic + 31 public-area) as demo data; three of them watch
looping synthetic scenes so events appear live in the demo."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session

from api.cameras import flows, service

UNIT_CODE = "31078"  # Đặc khu Phú Quốc
LAMP = {"x": 0.645, "y": 0.04, "w": 0.04, "h": 0.16}
# Demo cameras that watch scripted scenes (workers/camera/scenes.py): code -> scene.
SYNTHETIC = {"PQ-T01": "red_light", "PQ-T06": "speeding", "PQ-P02": "intrusion"}


def traffic_config(*, red_light: bool = True, signal: str = "lamp", speed_limit: float = 50, wrong_way: bool = True,
                   no_parking: bool = True, no_parking_s: float = 12) -> dict[str, Any]:
    """Zones and rules of a road camera (two lanes, stop line, shoulder); the defaults are the layout the
    synthetic traffic scenes draw."""
    rules: list[dict[str, Any]] = [
        {"type": "tripwire", "name": "count_east", "line": {"a": [0.25, 0.86], "b": [0.25, 0.6]},
         "direction": "left_to_right", "cooldown_s": 0},
    ]
    if wrong_way:
        rules += [
            {"type": "wrong_way", "name": "ww_east", "zone": "lane_east",
             "heading": {"a": [0.1, 0.75], "b": [0.9, 0.75]}},
            {"type": "wrong_way", "name": "ww_west", "zone": "lane_west",
             "heading": {"a": [0.9, 0.5], "b": [0.1, 0.5]}},
        ]
    if red_light:
        source = {"type": "lamp", "roi": LAMP} if signal == "lamp" else {"type": "feed", "controller": signal}
        rules.append({"type": "red_light", "name": "red_east", "stop_line": {"a": [0.62, 0.86], "b": [0.62, 0.6]},
                      "approach": "left", "zone": "lane_east", "raise_incident": True, "signal": source})
    rules.append({"type": "speed", "name": "speed_road", "limit_kmh": speed_limit,
                  "image_points": [[0, 0.35], [1, 0.35], [1, 0.86], [0, 0.86]],
                  "world_points": [[0, 0], [40.0, 0], [40.0, 7], [0, 7]]})
    if no_parking:
        rules.append({"type": "no_parking", "name": "no_parking_shoulder", "zone": "shoulder",
                      "max_stop_s": no_parking_s})
    return {
        "zones": [
            {"name": "lane_east", "points": [[0, 0.6], [1, 0.6], [1, 0.86], [0, 0.86]]},
            {"name": "lane_west", "points": [[0, 0.35], [1, 0.35], [1, 0.6], [0, 0.6]]},
            {"name": "shoulder", "points": [[0.33, 0.87], [0.62, 0.87], [0.62, 1.0], [0.33, 1.0]]},
        ],
        "rules": rules,
    }


def plaza_config(*, restricted: str = "lawn", dwell_s: float = 15, unattended_s: float = 15,
                 loitering: bool = True, abandoned: bool = True) -> dict[str, Any]:
    """Zones and rules of a public-area camera (restricted area, loitering spot, entry line, left objects);
    the defaults are the layout the synthetic plaza scenes draw."""
    rules: list[dict[str, Any]] = [
        {"type": "intrusion", "name": f"{restricted}_intrusion", "zone": restricted, "raise_incident": True},
    ]
    if loitering:
        rules.append({"type": "loitering", "name": "atm_loitering", "zone": "atm", "dwell_s": dwell_s})
    rules.append({"type": "tripwire", "name": "gate_in", "line": {"a": [0.45, 0.98], "b": [0.45, 0.32]},
                  "direction": "left_to_right", "cooldown_s": 0})
    if abandoned:
        rules.append({"type": "abandoned_object", "name": "left_bag", "zone": "floor", "unattended_s": unattended_s,
                      "owner_radius": 0.15, "max_area": 0.003, "raise_incident": True})
    return {
        "zones": [
            {"name": restricted, "points": [[0.62, 0.45], [0.95, 0.40], [0.98, 0.9], [0.70, 0.95], [0.60, 0.7]]},
            {"name": "atm", "points": [[0.05, 0.45], [0.3, 0.45], [0.3, 0.75], [0.05, 0.75]]},
            {"name": "floor", "points": [[0.02, 0.3], [0.98, 0.3], [0.98, 0.99], [0.02, 0.99]]},
        ],
        "rules": rules,
    }


JUNCTION: dict[str, Any] = {}
ROAD = {"red_light": False}
URBAN_ROAD = {"red_light": False, "speed_limit": 40}
HIGHWAY = {"red_light": False, "speed_limit": 60, "no_parking_s": 60}
PORT_ROAD = {"red_light": False, "wrong_way": False, "speed_limit": 30, "no_parking_s": 30}

# (code, name, lat, lng, traffic config options)
TRAFFIC: list[tuple[str, str, float, float, dict[str, Any]]] = [
    ("PQ-T01", "Nút giao 30/4 – Nguyễn Trung Trực, Dương Đông", 10.2163, 103.9617, JUNCTION),
    ("PQ-T02", "Nút giao Nguyễn Trung Trực – Trần Hưng Đạo, Dương Đông", 10.2105, 103.9633, JUNCTION),
    ("PQ-T03", "Cầu Dương Đông, đường Bạch Đằng", 10.2188, 103.9584, URBAN_ROAD),
    ("PQ-T04", "Vòng xoay Trần Hưng Đạo – Cách Mạng Tháng Tám, Dương Đông", 10.2050, 103.9660, JUNCTION),
    ("PQ-T05", "Đường 30/4 – chợ Dương Đông", 10.2170, 103.9650, {**JUNCTION, "signal": "DD-3004"}),
    ("PQ-T06", "Trần Hưng Đạo – Bãi Trường (Km 12)", 10.1520, 103.9720, ROAD),
    ("PQ-T07", "Trần Hưng Đạo – Km 7, Dương Tơ", 10.1780, 103.9700, HIGHWAY),
    ("PQ-T08", "Nút giao sân bay Phú Quốc – Võ Văn Kiệt", 10.1700, 103.9990, JUNCTION),
    ("PQ-T09", "ĐT46 Dương Đông – An Thới, Suối Mây", 10.1180, 104.0050, HIGHWAY),
    ("PQ-T10", "ĐT46 – nút giao Cửa Lấp", 10.1500, 103.9950, JUNCTION),
    ("PQ-T11", "Nút giao Nguyễn Văn Cừ, An Thới", 10.0300, 104.0120, JUNCTION),
    ("PQ-T12", "Nguyễn Văn Cừ – đường vào Bãi Sao", 10.0580, 104.0300, HIGHWAY),
    ("PQ-T13", "Đường vào cảng An Thới", 10.0190, 104.0140, PORT_ROAD),
    ("PQ-T14", "ĐT47 Dương Đông – Hàm Ninh", 10.1950, 104.0200, HIGHWAY),
    ("PQ-T15", "Nút giao trung tâm Hàm Ninh", 10.1800, 104.0480, JUNCTION),
    ("PQ-T16", "Đường Cửa Cạn – Cây Thông Trong", 10.2700, 103.9300, ROAD),
    ("PQ-T17", "Đường ven biển Cửa Cạn – Gành Dầu", 10.3150, 103.8800, HIGHWAY),
    ("PQ-T18", "Nút giao Gành Dầu – Grand World", 10.3330, 103.8580, JUNCTION),
    ("PQ-T19", "Đường Bãi Dài – Gành Dầu", 10.3600, 103.8600, HIGHWAY),
]
BUSY = {"dwell_s": 120, "unattended_s": 60}
# (code, name, lat, lng, plaza config options)
PUBLIC: list[tuple[str, str, float, float, dict[str, Any]]] = [
    ("PQ-P01", "Chợ đêm Phú Quốc – cổng Bạch Đằng", 10.2148, 103.9590, {**BUSY, "restricted": "stalls_closed"}),
    ("PQ-P02", "Dinh Cậu – bãi đá", 10.2177, 103.9566, {}),
    ("PQ-P03", "Công viên bờ kè Dương Đông", 10.2130, 103.9580, {**BUSY, "restricted": "lawn"}),
    ("PQ-P04", "Bến tàu Dương Đông", 10.2190, 103.9570, {**BUSY, "restricted": "pier_edge"}),
    ("PQ-P05", "Chợ Dương Đông", 10.2180, 103.9620, {**BUSY, "restricted": "loading_bay"}),
    ("PQ-P06", "Bệnh viện Đa khoa Phú Quốc – cổng cấp cứu", 10.2220, 103.9660, {**BUSY, "restricted": "ambulance_bay"}),
    ("PQ-P07", "Trụ sở UBND đặc khu Phú Quốc", 10.2140, 103.9640, {**BUSY, "restricted": "courtyard"}),
    ("PQ-P08", "Sân bay Phú Quốc – sảnh đến", 10.1698, 103.9931, {"dwell_s": 300, "unattended_s": 30,
                                                                  "restricted": "airside_door"}),
    ("PQ-P09", "Sân bay Phú Quốc – bãi đỗ xe", 10.1710, 103.9905, {**BUSY, "restricted": "taxi_lane"}),
    ("PQ-P10", "Bãi Trường – lối xuống biển Sonasea", 10.1480, 103.9690, {**BUSY, "restricted": "dunes"}),
    ("PQ-P11", "Bãi Trường – quảng trường Long Beach", 10.1650, 103.9660, {**BUSY, "restricted": "fountain"}),
    ("PQ-P12", "Bãi Ông Lang – lối xuống biển", 10.2620, 103.9380, {**BUSY, "restricted": "dunes"}),
    ("PQ-P13", "Cầu Cửa Cạn", 10.2870, 103.9100, {**BUSY, "restricted": "bridge_rail", "loitering": False}),
    ("PQ-P14", "Bến thuyền Cửa Cạn", 10.2850, 103.9060, {**BUSY, "restricted": "pier_edge"}),
    ("PQ-P15", "Grand World – phố đi bộ, Gành Dầu", 10.3340, 103.8570, {**BUSY, "restricted": "canal_edge"}),
    ("PQ-P16", "VinWonders – cổng chính, Gành Dầu", 10.3385, 103.8560, {**BUSY, "restricted": "staff_gate"}),
    ("PQ-P17", "Bến cá Gành Dầu", 10.3780, 103.8520, {**BUSY, "restricted": "pier_edge"}),
    ("PQ-P18", "Bãi Dài – lối xuống biển", 10.3500, 103.8620, {**BUSY, "restricted": "dunes"}),
    ("PQ-P19", "Làng chài Hàm Ninh – cầu cảng", 10.1820, 104.0520, {**BUSY, "restricted": "pier_edge"}),
    ("PQ-P20", "Chợ hải sản Hàm Ninh", 10.1800, 104.0500, {**BUSY, "restricted": "loading_bay"}),
    ("PQ-P21", "Cảng Bãi Vòng, Hàm Ninh", 10.1560, 104.0530, {"dwell_s": 300, "unattended_s": 30,
                                                             "restricted": "quay"}),
    ("PQ-P22", "Khu du lịch Suối Tranh – cổng", 10.1700, 104.0200, {**BUSY, "restricted": "stream_bank"}),
    ("PQ-P23", "Ga cáp treo Hòn Thơm, An Thới", 10.0225, 104.0135, {"dwell_s": 300, "unattended_s": 30,
                                                                   "restricted": "platform_edge"}),
    ("PQ-P24", "Cảng An Thới – nhà chờ", 10.0180, 104.0150, {"dwell_s": 300, "unattended_s": 30,
                                                            "restricted": "quay"}),
    ("PQ-P25", "Di tích Nhà tù Phú Quốc (Cây Dừa)", 10.0435, 104.0180, {**BUSY, "restricted": "exhibit"}),
    ("PQ-P26", "Bãi Sao – lối xuống biển", 10.0570, 104.0370, {**BUSY, "restricted": "dunes"}),
    ("PQ-P27", "Bãi Khem – cổng", 10.0300, 104.0300, {**BUSY, "restricted": "lawn"}),
    ("PQ-P28", "Chợ An Thới", 10.0280, 104.0110, {**BUSY, "restricted": "loading_bay"}),
    ("PQ-P29", "Thị trấn Hoàng Hôn – cầu Hôn, An Thới", 10.0265, 103.9960, {**BUSY, "restricted": "bridge_rail"}),
    ("PQ-P30", "Cầu sông Dương Đông – công viên", 10.2165, 103.9600, {**BUSY, "restricted": "river_bank"}),
    ("PQ-P31", "Bến xe Phú Quốc, Dương Đông", 10.2100, 103.9700, {**BUSY, "restricted": "bus_lane"}),
]


def stream_url(code: str, index: int) -> str:
    """The demo stream of a camera: a looping synthetic scene, or the (unreachable) sub-stream it would have."""
    if code in SYNTHETIC:
        return f"synthetic:{SYNTHETIC[code]}?realtime=1&loop=1"
    return f"rtsp://10.31.78.{100 + index}:554/Streaming/Channels/102"


def demo_cameras() -> list[flows.CameraData]:
    """All 50 cameras as registry input."""
    out = []
    for i, (code, name, lat, lng, options) in enumerate(TRAFFIC):
        out.append(flows.CameraData(code=code, name=name, kind="TRAFFIC", lat=lat, lng=lng, unit_code=UNIT_CODE,
                                    stream_url=stream_url(code, i), config=traffic_config(**options)))
    for i, (code, name, lat, lng, options) in enumerate(PUBLIC, start=len(TRAFFIC)):
        out.append(flows.CameraData(code=code, name=name, kind="PUBLIC_AREA", lat=lat, lng=lng, unit_code=UNIT_CODE,
                                    stream_url=stream_url(code, i), config=plaza_config(**options)))
    return out


def seed_cameras(session: Session, settings: Any) -> list[str]:
    """Registers the cameras that are not there yet and says what to try."""
    added = 0
    for data in demo_cameras():
        if service.get_camera_by_code(db_session=session, code=data.code) is None:
            flows.create_camera(db_session=session, data=data)
            added += 1
    live = ", ".join(f"{code} ({scene})" for code, scene in SYNTHETIC.items())
    return ["", f"Cameras: 50 in Phú Quốc ({added} added); live synthetic streams: {live}.",
            "  as police/dispatcher: subscription { cameraEvents { rule kind state camera { code } evidence { kind url } } }"]
