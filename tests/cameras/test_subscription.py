"""The live `cameraEvents` subscription receives what the flow records, filtered as asked."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

import pytest

from api.core.auth import Principal, Role
from api.core.errors import AccessDenied
from api.core.gql.context import Context
from api.core.state import AppState
from api.schema import build_schema
from tests.cameras.factories import make_camera, observed, record

CONTEXTS: list[Context] = []
SUBSCRIBE = """
subscription Live($filter: CameraEventSubscriptionFilter) {
  cameraEvents(filter: $filter) { rule kind state raisesIncident camera { code } violation { kind } }
}
"""


async def _subscribe(state: AppState, principal: Principal, variables: dict[str, Any] | None = None) -> Any:
    context = Context(state=state, request=None, principal=principal, request_id="test")
    CONTEXTS.append(context)
    return await build_schema(state.settings).subscribe(SUBSCRIBE, context_value=context,
                                                        variable_values=variables or {})


@pytest.fixture(autouse=True)
def _close_contexts(database: Any) -> Any:
    yield
    while CONTEXTS:
        CONTEXTS.pop().close()  # as the websocket handler does when the connection ends


async def test_a_recorded_event_reaches_the_subscription(state: AppState) -> None:
    # given
    await state.bus.start()
    camera = make_camera(state.db)
    police = Principal(roles=frozenset({Role.POLICE}), account_id=1)
    stream = await _subscribe(state, police, {"filter": {"violationsOnly": True}})
    first = asyncio.ensure_future(stream.__anext__())
    await asyncio.sleep(0.05)  # the generator is now waiting on the bus
    # when
    await asyncio.to_thread(record, state.db, camera.id,
                            observed("count_east", "tripwire", raises_incident=False), state.bus)
    await asyncio.to_thread(record, state.db, camera.id, observed(), state.bus)
    result = await asyncio.wait_for(first, 5)
    await stream.aclose()
    # then
    assert result.errors is None
    assert result.data["cameraEvents"] == {"rule": "red_east", "kind": "red_light", "state": "OPEN",
                                           "raisesIncident": True, "camera": {"code": "PQ-T90"},
                                           "violation": {"kind": "RED_LIGHT"}}


async def test_a_rolled_back_event_is_never_announced(state: AppState) -> None:
    # given
    await state.bus.start()
    camera = make_camera(state.db)
    stream = await _subscribe(state, Principal(roles=frozenset({Role.DISPATCHER}), account_id=1))
    first = asyncio.ensure_future(stream.__anext__())
    await asyncio.sleep(0.05)

    def rolled_back() -> None:
        from api.cameras import flows

        try:
            with state.db.transaction() as session:
                session.info["bus"] = state.bus
                flows.record_event(db_session=session, camera_id=camera.id, observed=observed())
                raise RuntimeError("worker crashed before commit")
        except RuntimeError:
            pass

    # when
    await asyncio.to_thread(rolled_back)
    await asyncio.sleep(0.2)
    # then
    assert not first.done()
    first.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await first
    await stream.aclose()


async def test_a_citizen_cannot_subscribe(state: AppState) -> None:
    # given
    citizen = Principal(roles=frozenset({Role.CITIZEN}), account_id=1)
    # when
    stream = await _subscribe(state, citizen)
    result = await asyncio.wait_for(stream.__anext__(), 2) if hasattr(stream, "__anext__") else stream
    # then
    assert isinstance(result.errors[0].original_error, AccessDenied)
