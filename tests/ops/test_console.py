"""The operations console in headless Chromium against the real API on loopback."""

from __future__ import annotations

import base64
import time
from typing import Any

import httpx

from tests.factories import PASSWORD
from tests.ops.conftest import Ops, shot, sign_in


def test_console_is_served_with_a_strict_policy(ops: Ops) -> None:
    # given the running API
    base = ops.server.base_url

    # when the console and its assets are fetched
    page = httpx.get(f"{base}/ops")
    wall = httpx.get(f"{base}/ops/wall?tiles=map")
    module = httpx.get(f"{base}/ops/static/js/main.js")
    config = httpx.get(f"{base}/ops/config.json").json()
    outline = httpx.get(f"{base}/ops/static/phu-quoc.geojson").json()

    # then the page comes with a same-origin-only policy, the modules as JavaScript, and the outline is own data
    assert page.status_code == 200 and "<ops-app>" in page.text
    assert wall.status_code == 200 and wall.text == page.text
    policy = page.headers["content-security-policy"]
    assert "default-src 'self'" in policy and "script-src 'self';" in policy and "frame-ancestors 'none'" in policy
    assert module.headers["content-type"].startswith("text/javascript")
    assert config["tileUrl"] is None and config["defaultLanguage"] == "vi"
    assert "approximate" in outline["properties"]["source"]
    names = {f["properties"]["name"] for f in outline["features"]}
    assert {"Phú Quốc", "Thổ Châu"} <= names


def test_sign_in_keeps_no_token_at_rest_and_signs_out(page: Any, ops: Ops) -> None:
    # given the console, in Vietnamese by default
    page.goto(ops.server.base_url + "/ops")
    assert page.inner_text("form.signin button[type=submit]") == "Đăng nhập"

    # when a wrong password is tried, then the right one
    page.fill("input[name=username]", ops.dispatcher.phone)
    page.fill("input[name=password]", "not-the-password")
    page.click("form.signin button[type=submit]")
    page.wait_for_selector("form.signin .error:not(:empty)")
    sign_in(page, ops)

    # then the console shows, the access token is in memory only, the refresh token in this tab's storage
    page.wait_for_selector("header.top")
    storage = page.evaluate("({s: JSON.stringify(sessionStorage), l: JSON.stringify(localStorage)})")
    assert "ops.refresh" in storage["s"] and "ey" not in storage["l"]
    assert ops.dispatcher.token not in storage["s"]
    refresh_before = page.evaluate("sessionStorage.getItem('ops.refresh')")

    # when the tab reloads, it resumes with the refresh token (rotated)
    page.reload()
    page.wait_for_selector("header.top")
    assert page.evaluate("sessionStorage.getItem('ops.refresh')") != refresh_before

    # when the language is switched
    page.click("[data-lang-toggle]")
    assert page.inner_text("[data-tab=dispatch]") == "Dispatch"

    # when signing out, then the form is back and nothing is left in storage
    page.click("[data-sign-out]")
    page.wait_for_selector("form.signin")
    assert page.evaluate("sessionStorage.length") == 0


def test_citizen_is_not_let_in(page: Any, ops: Ops) -> None:
    # given a citizen account
    page.goto(ops.server.base_url + "/ops")

    # when it signs in
    page.fill("input[name=username]", ops.citizen.phone)
    page.fill("input[name=password]", PASSWORD)
    page.click("form.signin button[type=submit]")

    # then it is refused, and no token is kept
    page.wait_for_selector("form.signin .error:not(:empty)")
    assert "cán bộ" in page.inner_text("form.signin .error")
    assert page.evaluate("sessionStorage.length") == 0


def test_report_appears_in_the_queue_within_a_second(page: Any, ops: Ops) -> None:
    # given a signed-in dispatcher with the live subscription up
    sign_in(page, ops)

    for category, location in (("FIRE", {"lat": 10.2250, "lng": 103.9700}), ("TRAFFIC_ACCIDENT", {"lat": 10.1300, "lng": 103.9800}),
                               ("TOURIST_COMPLAINT", {"lat": 10.0130, "lng": 104.0180})):
        ops.report(category, location)
    page.wait_for_selector(".queue-row >> nth=2")

    # when a resident files a report through the API
    incident = ops.report("THEFT")
    filed = time.monotonic()

    # then it shows in the queue, without reloading, within a second, and counts as unseen
    page.wait_for_selector(f".queue-row[data-id='{incident['id']}']", timeout=1000)
    seen_after = time.monotonic() - filed
    assert seen_after < 1.0
    page.wait_for_selector(".badge[data-unseen='4']", timeout=1000)
    assert page.locator(f".map-svg .incident[data-id='{incident['id']}']").count() == 1
    priorities = page.eval_on_selector_all(".queue-row", "(rows) => rows.map((r) => r.dataset.priority)")
    assert priorities == sorted(priorities)  # P1 first
    page.click(f".queue-row[data-id='{incident['id']}']")
    # the store coalesces its change notices into the next frame: the badge follows within one
    page.wait_for_selector(".badge[data-unseen='3']", timeout=1000)
    page.wait_for_selector("[data-detail-state=REPORTED]")
    shot(page, "queue-and-map.png")
    print(f"report visible after {seen_after * 1000:.0f} ms")


def _gid(type_name: str, pk: int) -> str:
    return base64.b64encode(f"{type_name}:{pk}".encode()).decode()


INCIDENT_STATE = "query($id: ID!) { incident(id: $id) { state reportCount channel assignments { unit { code } } } }"


def test_acknowledge_and_dispatch_from_the_detail(page: Any, ops: Ops) -> None:
    # given a reported theft in the queue
    sign_in(page, ops)
    incident = ops.report("THEFT")
    row = f".queue-row[data-id='{incident['id']}']"
    page.click(row)
    page.wait_for_selector("[data-detail-state=REPORTED]")

    # when the dispatcher acknowledges it
    page.click("[data-action=ACKNOWLEDGE]")

    # then the detail and the queue show the new state, and dispatch is now offered
    page.wait_for_selector("[data-detail-state=ACKNOWLEDGED]")
    page.wait_for_selector(f"{row}[data-state=ACKNOWLEDGED]")
    page.wait_for_selector(".recommended li")
    assert "km" in page.inner_text(".recommended li .distance")

    # when it dispatches the nearest recommended unit
    page.click("[data-action=DISPATCH]")
    page.wait_for_selector("[data-form=DISPATCH] input[name=unit]:checked")
    page.click("[data-confirm=DISPATCH]")

    # then the incident is DISPATCHED here and in the database, with the unit assigned
    page.wait_for_selector("[data-detail-state=DISPATCHED]")
    page.wait_for_selector(f"{row}[data-state=DISPATCHED]")
    page.wait_for_selector(".assignments li")
    stored = ops.server.gql(INCIDENT_STATE, {"id": incident["id"]}, token=ops.dispatcher.token)["incident"]
    assert stored["state"] == "DISPATCHED" and stored["assignments"][0]["unit"]["code"] in {"CSTT-01", "CSDL-01"}
    shot(page, "incident-detail.png")


def test_only_actions_the_state_machine_allows_are_offered(page: Any, ops: Ops) -> None:
    # given a reported incident, and a police officer (who may acknowledge but not dispatch)
    incident = ops.report("PUBLIC_ORDER")
    police = ops.person("police")

    # when the dispatcher opens it
    sign_in(page, ops)
    page.click(f".queue-row[data-id='{incident['id']}']")
    page.wait_for_selector("[data-detail-state=REPORTED]")

    # then REPORTED offers acknowledge, reject and merge; never dispatch, resolve or close
    offered = set(page.get_attribute(".actions", "data-allowed").split())
    assert offered == {"ACKNOWLEDGE", "REJECT", "MERGE"}
    for illegal in ("DISPATCH", "RESOLVE", "CLOSE"):
        assert page.locator(f"[data-action={illegal}]").count() == 0

    # when it is acknowledged (through the API), the police officer sees no dispatch button either
    ops.server.gql("mutation($i: AcknowledgeIncidentInput!) { acknowledgeIncident(input: $i) { errors { code } } }",
                   {"i": {"id": incident["id"]}}, token=ops.dispatcher.token)
    page.click("[data-sign-out]")
    sign_in(page, ops, police)
    page.click(f".queue-row[data-id='{incident['id']}']")
    page.wait_for_selector("[data-detail-state=ACKNOWLEDGED]")
    offered = set(page.get_attribute(".actions", "data-allowed").split())
    assert offered == {"REJECT", "RESOLVE", "MERGE"}


ALLOWED = "query($id: ID!) { incident(id: $id) { allowedActions assignments { id allowedStates } } }"
ATTACH_CALL = """mutation($input: LogHotlineCallInput!) { logHotlineCall(input: $input) { errors { code } } }"""
STEPS = """mutation($id: ID!, $units: [ID!]!) { acknowledgeIncident(input: {id: $id}) { errors { code } }
  dispatchIncident(input: {id: $id, unitIds: $units}) { errors { code } } }"""
RESOLVE_IT = """mutation($id: ID!) { resolveIncident(input: {id: $id, resolutionNote: "Đã xử lý"}) { errors { code } } }"""


def _shown(page: Any, ops: Ops, incident_id: str, state: str) -> tuple[set[str], set[str]]:
    """Opens an incident from the queue (filtered to its state); returns the action and step buttons shown."""
    page.select_option("select[name=state]", state)
    page.click(f".queue-row[data-id='{incident_id}']")
    page.wait_for_selector(f"[data-detail-state={state}]")
    page.wait_for_function("(id) => document.querySelector('ops-detail .actions') !== null", arg=incident_id)
    actions = page.eval_on_selector_all("ops-detail .actions [data-action]", "(els) => els.map((e) => e.dataset.action)")
    steps = page.eval_on_selector_all("ops-detail .assignments [data-step]", "(els) => els.map((e) => e.dataset.step)")
    return set(actions), set(steps)


def test_detail_buttons_are_exactly_what_the_api_allows(page: Any, ops: Ops) -> None:
    # given incidents in four states (the reported one with a second report, so it can be split), a police
    # officer and a responder of the unit sent to the dispatched one
    d = ops.dispatcher.token
    unit = _gid("ResponderUnit", ops.unit_ids[0])
    reported = ops.report("THEFT", {"lat": 10.0500, "lng": 104.0000})
    ops.server.gql(ATTACH_CALL, {"input": {"category": "THEFT", "callerName": "Lê Văn Gọi", "incidentId": reported["id"],
                                           "description": "Cùng vụ"}}, token=d)
    acked = ops.report("PUBLIC_ORDER", {"lat": 10.1000, "lng": 104.0000})
    ops.server.gql("mutation($id: ID!) { acknowledgeIncident(input: {id: $id}) { errors { code } } }", {"id": acked["id"]},
                   token=d)
    dispatched = ops.report("THEFT", {"lat": 10.1500, "lng": 104.0000})
    ops.server.gql(STEPS, {"id": dispatched["id"], "units": [unit]}, token=d)
    resolved = ops.report("THEFT", {"lat": 10.2000, "lng": 104.0000})
    ops.server.gql(STEPS, {"id": resolved["id"], "units": [unit]}, token=d)
    ops.server.gql(RESOLVE_IT, {"id": resolved["id"]}, token=d)
    cases = [(reported, "REPORTED"), (acked, "ACKNOWLEDGED"), (dispatched, "DISPATCHED"), (resolved, "RESOLVED")]
    police = ops.person("police")
    seen: dict[str, list[tuple[str, set[str]]]] = {}

    for person in (ops.dispatcher, police):
        # when each signs in and opens each incident
        sign_in(page, ops, person)
        for incident, state in cases:
            actions, steps = _shown(page, ops, incident["id"], state)
            allowed = ops.server.gql(ALLOWED, {"id": incident["id"]}, token=person.token)["incident"]

            # then the buttons are exactly the API's allowedActions, and a unit's steps its allowedStates
            assert actions == set(allowed["allowedActions"]), (person.roles, state)
            assert steps == {s for a in allowed["assignments"] for s in a["allowedStates"]}, (person.roles, state)
            seen.setdefault(state, []).append((person.roles[0], actions))
        page.click("[data-sign-out]")
        page.wait_for_selector("form.signin")

    # and what differs by role and state shows: dispatch and close for the dispatcher only, split where
    # there are two reports, nothing to do once resolved but close
    assert seen["REPORTED"] == [("dispatcher", {"ACKNOWLEDGE", "REJECT", "MERGE", "SPLIT"}),
                                ("police", {"ACKNOWLEDGE", "REJECT", "MERGE", "SPLIT"})]
    assert seen["ACKNOWLEDGED"] == [("dispatcher", {"REJECT", "DISPATCH", "RESOLVE", "MERGE"}),
                                    ("police", {"REJECT", "RESOLVE", "MERGE"})]
    assert seen["DISPATCHED"] == [("dispatcher", {"DISPATCH", "RESOLVE", "MERGE"}), ("police", {"RESOLVE", "MERGE"})]
    assert seen["RESOLVED"] == [("dispatcher", {"CLOSE"}), ("police", set())]


def test_split_off_a_report_from_the_detail(page: Any, ops: Ops) -> None:
    # given a theft with a hotline call attached that turns out to be about something else
    incident = ops.report("THEFT", {"lat": 10.0500, "lng": 104.0000})
    ops.server.gql(ATTACH_CALL, {"input": {"category": "THEFT", "callerName": "Lê Văn Gọi", "incidentId": incident["id"],
                                           "description": "Đánh nhau ở bến tàu"}}, token=ops.dispatcher.token)
    sign_in(page, ops)
    page.click(f".queue-row[data-id='{incident['id']}']")
    page.wait_for_selector("[data-detail-state=REPORTED]")

    # when the dispatcher splits the call off (the latest report is offered first)
    page.click("[data-action=SPLIT]")
    assert "Đánh nhau ở bến tàu" in page.inner_text("[data-form=SPLIT] select[name=report] option >> nth=0")
    page.click("[data-confirm=SPLIT]")

    # then the incident is back to one report, SPLIT is no longer offered, and the call is an incident of its own
    page.wait_for_function("() => !document.querySelector('ops-detail [data-action=SPLIT]')")
    total = ops.server.gql("{ incidents(first: 10) { totalCount } }", token=ops.dispatcher.token)
    stored = ops.server.gql(INCIDENT_STATE, {"id": incident["id"]}, token=ops.dispatcher.token)["incident"]
    assert total["incidents"]["totalCount"] == 2 and stored["reportCount"] == 1
    page.wait_for_selector(".queue-row >> nth=1")


def test_the_console_keeps_no_copy_of_the_state_machine(page: Any, ops: Ops) -> None:
    # when the console's rules module is loaded
    page.goto(ops.server.base_url + "/ops")
    exported = page.evaluate("() => import('/ops/static/js/rules.js').then((m) => Object.keys(m).sort())")

    # then it has display helpers only: who may do what comes from the API
    assert exported == ["compatibleCategories", "isOpen"]


def test_hotline_call_attaches_to_the_open_incident_nearby(page: Any, ops: Ops) -> None:
    # given an open theft reported from the night market
    incident = ops.report("THEFT", {"lat": 10.2145, "lng": 103.9590})
    sign_in(page, ops)
    page.click("[data-tab=hotline]")

    # when the operator takes a call: category by keyboard, location by a click on the map, then typed exactly
    page.focus("ops-hotline input[name=callbackNumber]")
    page.keyboard.press("Alt+2")
    assert page.is_checked("input[name=category][value=THEFT]")
    page.fill("input[name=callbackNumber]", "0912345678")
    page.fill("input[name=callerName]", "John Smith")
    page.select_option("select[name=language]", "en")
    page.keyboard.press("Alt+t")
    page.click(".view-hotline ops-map svg", position={"x": 300, "y": 300})
    assert "," in page.input_value("input[name=location]")
    page.fill("input[name=location]", "10.2146, 103.9591")
    page.press("input[name=location]", "Tab")
    page.fill("input[name=address]", "Chợ đêm Phú Quốc, Bạch Đằng")

    # then the open incident is listed nearby as likely the same, and Alt+A attaches to it
    nearby = page.wait_for_selector(f"[data-nearby='{incident['id']}'].likely")
    assert " m " in nearby.inner_text()
    page.keyboard.press("Alt+a")
    page.wait_for_selector(f"[data-attaching='{incident['id']}']")
    shot(page, "hotline-form.png")
    page.keyboard.press("Control+Enter")

    # then the call is attached, not duplicated
    page.wait_for_selector("[data-result=attached]")
    stored = ops.server.gql(INCIDENT_STATE, {"id": incident["id"]}, token=ops.dispatcher.token)["incident"]
    assert stored["reportCount"] == 2
    total = ops.server.gql("{ incidents(first: 10) { totalCount } }", token=ops.dispatcher.token)
    assert total["incidents"]["totalCount"] == 1


def test_a_call_whose_answer_was_lost_is_logged_once_when_sent_again(page: Any, ops: Ops) -> None:
    # given: the network drops the answer to the first "log call" (the server did log it)
    lost: list[str] = []

    def drop_first_answer(route: Any) -> None:
        body = route.request.post_data or ""
        if "logHotlineCall" in body and not lost:
            route.fetch()  # reaches the server
            lost.append(body)
            route.abort()  # the console never hears back
        else:
            route.continue_()

    sign_in(page, ops)
    page.route("**/graphql", drop_first_answer)
    page.click("[data-tab=hotline]")
    page.focus("ops-hotline input[name=callbackNumber]")
    page.keyboard.press("Alt+4")
    page.fill("input[name=callerName]", "Nguyễn Thị C")
    page.fill("input[name=location]", "10.3000, 103.9000")
    page.press("input[name=location]", "Tab")
    # when: the operator logs it, sees the error, and presses Ctrl+Enter again
    page.keyboard.press("Control+Enter")
    page.wait_for_selector("ops-hotline [role=alert]")
    page.focus("ops-hotline input[name=callerName]")
    page.keyboard.press("Control+Enter")
    page.wait_for_selector("[data-result=new]")
    # then: one incident, one call; the only console error is the dropped request itself
    assert lost
    total = ops.server.gql("{ incidents(first: 10) { totalCount } }", token=ops.dispatcher.token)
    assert total["incidents"]["totalCount"] == 1
    assert page.errors == ["Failed to load resource: net::ERR_FAILED"]
    page.errors.clear()


def test_deadline_countdown_turns_amber_then_red(page: Any, ops: Ops) -> None:
    # given a P1 fire (2 minutes to acknowledge) and a browser clock we can move
    page.clock.install()
    incident = ops.report("FIRE")
    sign_in(page, ops)
    due = f".queue-row[data-id='{incident['id']}'] .due"
    assert page.get_attribute(due, "data-level") == "ok"

    # when 70 s pass, then the last minute is amber; after 2 minutes it is red
    page.clock.fast_forward(70_000)
    page.wait_for_selector(f"{due}[data-level=amber]")
    page.clock.fast_forward(60_000)
    page.wait_for_selector(f"{due}[data-level=red]")


def test_access_token_is_refreshed_before_it_expires(page: Any, ops: Ops) -> None:
    # given a signed-in console (tokens live 120 s in these tests)
    page.clock.install()
    sign_in(page, ops)
    first = page.evaluate("sessionStorage.getItem('ops.refresh')")

    # when the clock passes the refresh point
    page.clock.fast_forward(100_000)

    # then the refresh token has been spent for a new pair, and the console still works
    page.wait_for_function("(first) => sessionStorage.getItem('ops.refresh') !== first", arg=first)
    incident = ops.report("THEFT")
    page.wait_for_selector(f".queue-row[data-id='{incident['id']}']")


def test_ws_client_refused_token_asks_for_a_fresh_one(page: Any, ops: Ops) -> None:
    # given the console's graphql-transport-ws client with a bad token
    page.goto(ops.server.base_url + "/ops")
    result = page.evaluate("""async () => {
      const { TransportWs } = await import('/ops/static/js/ws.js');
      let refused = 0;
      let token = 'not-a-token';
      const events = [];
      const ws = new TransportWs(`ws://${location.host}/graphql`, async () => ({ authorization: `Bearer ${token}` }),
        async () => { refused += 1; token = window.__good; });
      window.__ws = ws;
      window.__events = events;
      ws.subscribe('subscription { incidentEvents { kind incidentId } }', {}, { next: (p) => events.push(p) });
      return new Promise((resolve) => {
        ws.addEventListener('status', (e) => { if (e.detail.status === 'live') resolve({ refused }); });
      });
    }""".replace("window.__good", repr(ops.dispatcher.token)))

    # then it was refused once (4403), refreshed, connected, and receives events
    assert result == {"refused": 1}
    incident = ops.report("THEFT")
    page.wait_for_function("() => window.__events.length > 0")
    events = page.evaluate("() => window.__events")
    assert events[0]["data"]["incidentEvents"] == {"kind": "REPORTED", "incidentId": incident["id"]}
    page.evaluate("() => window.__ws.close()")


def test_wall_mode_renders_twelve_tiles(browser: Any, ops: Ops) -> None:
    # given a few incidents and a wall of 4 x 3 screens (rendered at half scale: 3840 x 1620)
    for category, location in (("FIRE", {"lat": 10.2200, "lng": 103.9650}), ("THEFT", None),
                               ("TRAFFIC_ACCIDENT", {"lat": 10.0330, "lng": 104.0090}),
                               ("MEDICAL", {"lat": 9.3010, "lng": 103.4700})):
        ops.report(category, location)
    first = ops.report("THEFT", {"lat": 10.0330, "lng": 104.0100})
    ops.server.gql("mutation($id: ID!, $unit: ID!) { acknowledgeIncident(input: {id: $id}) { errors { code } } "
                   "dispatchIncident(input: {id: $id, unitIds: [$unit]}) { errors { code } } }",
                   {"id": first["id"], "unit": _gid("ResponderUnit", ops.unit_ids[0])}, token=ops.dispatcher.token)
    context = browser.new_context(viewport={"width": 3840, "height": 1620})
    page = context.new_page()

    # when the wall opens with four tiles named in the URL
    sign_in(page, ops, path="/ops/wall?tiles=queue,map,chart,counters")
    page.wait_for_selector(".tile .queue-row")
    page.wait_for_selector(".tile .map-svg .incident")

    # then 12 tiles fill the screen, the first four as asked, the rest from the default scenario
    tiles = page.eval_on_selector_all(".tile", "(els) => els.map((e) => e.dataset.tilePanel)")
    assert len(tiles) == 12 and tiles[:4] == ["queue", "map", "chart", "counters"]
    boxes = page.eval_on_selector_all(".tile", "(els) => els.map((e) => e.getBoundingClientRect().width)")
    assert all(abs(w - 960) < 2 for w in boxes)
    page.wait_for_timeout(300)
    shot(page, "wall-mode.png")
    context.close()
