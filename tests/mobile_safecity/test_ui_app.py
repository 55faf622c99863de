"""The real screens, headless, against the real API on loopback: register, sign in, report with a photo,
follow it live while a dispatcher works on it, rate it; and a report filed offline that survives a
restart and arrives exactly once. Screenshots of every screen, in Vietnamese and English, go to
docs/safecity-app/."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from PIL import Image
from sqlalchemy import func, select

from api.config import Settings
from api.db import Database
from api.incidents.models import Incident, IncidentPhoto
from mobile_common.outbox import ItemState
from mobile_common.tokens import Tokens, TokenStore
from mobile_safecity.main import SafeCityApp
from mobile_safecity.platform import desktop
from tests.factories import make_person
from tests.incidents.conftest import add_unit, gid
from tests.mobile_common.live_server import LiveServer
from tests.mobile_safecity import ui

ACKNOWLEDGE = "mutation($input: AcknowledgeIncidentInput!) { acknowledgeIncident(input: $input) { errors { code } } }"
DISPATCH = "mutation($input: DispatchIncidentInput!) { dispatchIncident(input: $input) { errors { code } } }"
RESOLVE = "mutation($input: ResolveIncidentInput!) { resolveIncident(input: $input) { errors { code } } }"
CLOSE = "mutation($input: CloseIncidentInput!) { closeIncident(input: $input) { errors { code } } }"
PHU_QUOC_NIGHT_MARKET = (10.2170, 103.9610)


def operator(server: LiveServer, token: str, operation: str, **values: Any) -> None:
    """A dispatcher acts through the API, as the operations dashboard would."""
    response = httpx.post(f"{server.url}/graphql", json={"query": operation, "variables": {"input": values}},
                          headers={"authorization": f"Bearer {token}"}, timeout=10)
    body = response.json()
    assert "errors" not in body and next(iter(body["data"].values()))["errors"] == [], body


def both_languages(app: SafeCityApp, name: str, redo: Callable[[], None] | None = None) -> None:
    """Screenshots <name>-vi.png and <name>-en.png (redo() re-creates what a language switch clears)."""
    for language in ("vi", "en"):
        app.set_language(language)
        if redo is not None:
            redo()
        ui.pump(2)
        ui.shot(app, f"{name}-{language}")
    app.set_language("vi")
    if redo is not None:
        redo()


def count(database: Database, model: Any) -> int:
    """Rows of a table."""
    with database.session() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


@pytest.fixture
def photo(tmp_path: Path) -> Path:
    """A photo in a folder the desktop file chooser starts in."""
    folder = tmp_path / "Pictures"
    folder.mkdir()
    path = folder / "va-cham.jpg"
    image = Image.new("RGB", (640, 480), (90, 120, 160))
    image.paste((200, 40, 40), (200, 150, 440, 330))
    image.save(path, "JPEG")
    return path


def test_register_sign_in_report_with_a_photo_and_follow_it_live(
    live_api: LiveServer, api_database: Database, api_settings: Settings, tmp_path: Path, photo: Path
) -> None:
    # given: the app on a fresh phone, the API up, a dispatcher and a traffic-police unit on duty
    platform = desktop.services(location=PHU_QUOC_NIGHT_MARKET, start_dir=str(photo.parent))
    app = ui.start(SafeCityApp(data_dir=tmp_path / "phone", server=live_api.url, platform=platform))
    dispatcher = make_person(api_database, api_settings, "dispatcher")
    unit = add_unit(api_database, "CSGT-1", "TRAFFIC_POLICE", 10.2180, 103.9620)
    assert app.root.current == "signin"
    both_languages(app, "01-sign-in")

    # when: a mistyped citizen id is caught on the phone, in the person's language
    ui.tap(app.screen("signin").ids.to_register)
    register = app.screen("register")
    ui.type_into(register.ids.national_id, "07909000123")
    ui.type_into(register.ids.full_name, "trần thị bích ngọc")
    ui.type_into(register.ids.date_of_birth, "25/04/1990")
    ui.tap(register.ids.submit)
    # then
    assert register.errors["nationalId"].startswith("Số định danh cá nhân gồm đúng 12 chữ số")
    assert register.ids.national_id.error == register.errors["nationalId"]
    both_languages(app, "02-register-errors", redo=lambda: ui.tap(register.ids.submit))
    assert register.errors["nationalId"].startswith("Số định danh cá nhân gồm đúng 12 chữ số")

    # when: the form is right (female, born 1990, registered in Ho Chi Minh City: 079 1 90 ...)
    ui.type_into(register.ids.national_id, "079190001234")
    register.ids.female.state = "down"
    ui.type_into(register.ids.phone, "0912 000 111")
    ui.type_into(register.ids.password, "Biển xanh 2026!")
    ui.tap(register.ids.submit)
    # then: the account exists and the sign-in form is filled in
    ui.wait_until(lambda: app.root.current == "signin", what="back to sign in")
    signin = app.screen("signin")
    assert signin.ids.username.text == "079190001234"
    assert signin.notice == "Đã tạo tài khoản. Mời đăng nhập."

    # when: she signs in
    ui.type_into(signin.ids.password, "Biển xanh 2026!")
    ui.tap(signin.ids.submit)
    ui.wait_until(lambda: app.root.current == "home", what="home")
    home = app.screen("home")
    ui.wait_until(lambda: not home.busy, what="alerts loaded")
    assert home.full_name == "Trần Thị Bích Ngọc"
    assert "Xin chào, Trần Thị Bích Ngọc" in ui.all_texts(home)
    both_languages(app, "03-home")

    # when: she reports a traffic accident with a photo from the file chooser and her position
    ui.tap(home.ids.report)
    report = app.screen("report")
    report.select_category("TRAFFIC_ACCIDENT")
    ui.type_into(report.ids.description, "Hai xe máy va chạm ở đầu chợ đêm, một người bị thương ở chân")
    ui.tap(report.ids.gps)
    ui.wait_until(lambda: report.ids.lat.text, what="position")
    ui.tap(report.ids.add_photo)
    chooser = platform.photos.popup
    assert chooser is not None
    chooser.chooser.selection = [str(photo)]
    ui.tap(chooser.choose_button)
    ui.wait_until(lambda: report.photos, what="photo added")
    # then: urgent: one tap calls the ambulance
    calls = report.ids.calls.children[::-1]
    assert [b.text for b in calls] == ["☎ Gọi 115 · Cấp cứu", "☎ Gọi 113 · Công an"]
    ui.tap(calls[0])
    assert platform.phone.calls == ["115"]
    both_languages(app, "04-report")
    report.ids.scroll.scroll_y = 0
    both_languages(app, "04-report-location-photos")

    # when: she sends it
    ui.tap(report.ids.submit)
    mine = app.screen("my_reports")
    assert app.root.current == "my_reports"
    # then: it is in the outbox first, then on the server, and shows with its status
    ui.wait_until(lambda: any(r.incident_id for r in mine.rows), what="incident listed")
    assert count(api_database, Incident) == 1
    assert count(api_database, IncidentPhoto) == 1
    row = next(r for r in mine.rows if r.incident_id)
    assert (row.title, row.status) == ("Tai nạn giao thông", "Đã tiếp nhận")
    assert [i.state for i in app.backend.outbox.items()] == [ItemState.SENT]
    both_languages(app, "05-my-reports")

    # when: she opens it and a dispatcher acknowledges and dispatches it
    app.open_incident(row.incident_id)
    incident = app.screen("incident")
    ui.wait_until(lambda: incident.live and incident.incident, what="live subscription")
    both_languages(app, "06-incident-reported")
    operator(live_api, dispatcher.token, ACKNOWLEDGE, id=row.incident_id)
    # then: the screen changes while open, without a refresh
    ui.wait_until(lambda: incident.incident.get("state") == "ACKNOWLEDGED", what="acknowledged live")
    operator(live_api, dispatcher.token, DISPATCH, id=row.incident_id, unitIds=[gid("ResponderUnit", unit)])
    ui.wait_until(lambda: incident.incident.get("state") == "DISPATCHED", what="dispatched live")
    ui.wait_until(lambda: incident.units_text == "Unit CSGT-1", what="unit shown")
    assert incident.events_seen >= 2
    titles = [entry.title for entry in incident.ids.timeline.children[::-1]]
    assert titles[:3] == ["Đã điều lực lượng tới hiện trường", "Trực ban đã xác nhận", "Phản ánh đã được tiếp nhận"]
    both_languages(app, "07-incident-dispatched")

    # when: it is resolved and closed, she rates it
    operator(live_api, dispatcher.token, RESOLVE, id=row.incident_id, resolutionNote="Đã đưa người bị thương đi viện")
    operator(live_api, dispatcher.token, CLOSE, id=row.incident_id)
    ui.wait_until(lambda: incident.rateable, what="rate offered")
    ui.tap(incident.ids.rate)
    rate = app.screen("rate")
    rate.choose(4)
    both_languages(app, "08-rate")
    ui.tap(rate.ids.submit)
    # then
    ui.wait_until(lambda: app.root.current == "incident" and incident.incident.get("rating") == 4, what="rated")
    with api_database.session() as session:
        assert session.scalar(select(Incident.rating)) == 4

    # and: settings, in both languages
    app.go("settings")
    both_languages(app, "09-settings")
    ui.stop(app)


def test_a_report_filed_offline_survives_a_restart_and_arrives_exactly_once(
    live_api: LiveServer, api_database: Database, api_settings: Settings, tmp_path: Path
) -> None:
    # given: a signed-in phone, and the server goes away
    citizen = make_person(api_database, api_settings, "citizen")
    data_dir = tmp_path / "phone"
    TokenStore(data_dir / "tokens.json").set(Tokens(citizen.token, citizen.refresh_token, None,
                                                    {"fullName": "Nguyễn Văn Thử"}))
    live_api.stop()
    app = ui.start(SafeCityApp(data_dir=data_dir, server=live_api.url, platform=desktop.services()))
    assert app.root.current == "home"

    # when: a theft is reported without a network
    ui.tap(app.screen("home").ids.report)
    report = app.screen("report")
    report.select_category("THEFT")
    ui.type_into(report.ids.description, "Bị giật túi xách trước khách sạn")
    ui.type_into(report.ids.lat, "10.2901")
    ui.type_into(report.ids.lng, "103.9840")
    ui.tap(report.ids.submit)
    # then: it waits, shown as such, after at least one failed attempt
    mine = app.screen("my_reports")
    ui.wait_until(lambda: app.backend.outbox.items()[0].attempts >= 1, what="a failed attempt")
    mine.show()
    assert [r.status for r in mine.rows] == ["Đang chờ gửi"]
    both_languages(app, "10-my-reports-waiting", redo=mine.show)

    # when: the app is killed, the server comes back, and the app starts again on the same data
    ui.stop(app)
    live_api.start()
    app = ui.start(SafeCityApp(data_dir=data_dir, server=live_api.url, platform=desktop.services()))
    # then: the report arrives, once
    ui.wait_until(lambda: app.backend.outbox.items()[0].state is ItemState.SENT, timeout=20, what="sent")
    item = app.backend.outbox.items()[0]
    assert count(api_database, Incident) == 1
    # and: a resend of the same item (an answer lost on the way back) creates nothing
    assert app.backend.deliver_report(item).server_id == item.server_id
    assert count(api_database, Incident) == 1
    app.go("my_reports")
    ui.wait_until(lambda: [r.status for r in mine.rows if r.incident_id] == ["Đã tiếp nhận"] or
                  [r.status for r in app.screen("my_reports").rows] == ["Đã tiếp nhận"], what="listed as received")
    ui.stop(app)
