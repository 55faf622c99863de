"""The outbox: written before sending, FIFO, retried with back-off and jitter, exactly once by key, refused
items kept for the person, photos resent whole after an interruption, and surviving a restart."""

from __future__ import annotations

import random
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from mobile_common.graphql import GraphQLClient
from mobile_common.outbox import Backoff, ItemState, Outbox, OutboxSender
from mobile_safecity.backend import SafeCityBackend
from tests.mobile_common.fake_api import FakeReportApi
from tests.mobile_common.live_server import LiveServer


class FakeClock:
    """Time that moves only when told."""

    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def fake() -> FakeReportApi:
    """The scripted API."""
    return FakeReportApi()


@pytest.fixture
def fake_server(fake: FakeReportApi) -> Iterator[LiveServer]:
    """The scripted API on loopback."""
    server = LiveServer(fake.app).start()
    yield server
    server.stop()


def backend_for(server: LiveServer, data_dir: Path, clock: FakeClock | None = None) -> SafeCityBackend:
    """The app's backend with a controllable clock (no background thread: the test drives the sender)."""
    backend = SafeCityBackend(data_dir, server=server.url)
    if clock is not None:
        backend.sender.clock = clock
    backend.sender.rng = random.Random(7)
    return backend


def photo(tmp_path: Path, name: str = "a.jpg") -> Path:
    """A small file standing in for a photo in the gallery."""
    path = tmp_path / name
    path.write_bytes(b"\xff\xd8\xff\xe0" + b"x" * 2048)
    return path


def test_a_report_is_on_disk_with_its_key_and_photo_copies_before_any_send(tmp_path: Path) -> None:
    # given
    original = photo(tmp_path)
    outbox = Outbox(tmp_path / "app")
    # when: written, then the gallery file disappears and the app is killed (a new Outbox on the same dir)
    item = outbox.add("reportIncident", {"input": {"category": "THEFT"}}, [original])
    original.unlink()
    reopened = Outbox(tmp_path / "app")
    # then
    [stored] = reopened.items()
    assert stored.state is ItemState.PENDING and stored.attempts == 0
    assert stored.variables["input"]["idempotencyKey"] == item.idempotency_key
    assert len(item.idempotency_key) == 36
    assert stored.photos[0].read_bytes().startswith(b"\xff\xd8") and stored.photos[0].is_relative_to(tmp_path / "app")


def test_items_go_oldest_first_and_a_failure_holds_the_queue_until_its_back_off_ends(
    fake: FakeReportApi, fake_server: LiveServer, tmp_path: Path
) -> None:
    # given: three reports; the server is busy for the first try
    clock = FakeClock()
    backend = backend_for(fake_server, tmp_path / "app", clock)
    items = [backend.outbox.add("reportIncident", {"input": {"category": c, "location": {"lat": 10.2, "lng": 104.0}}})
             for c in ("FIRE", "THEFT", "OTHER")]
    fake.script = ["503"]
    # when
    settled = backend.sender.drain()
    # then: nothing overtook the first item; it waits between half and all of the base delay
    assert settled == 0
    first = backend.outbox.get(items[0].id)
    assert first is not None and first.attempts == 1 and first.last_error == "HTTP 503"
    assert 1.0 <= first.next_attempt_at - clock.now <= 2.0
    assert [r["category"] for r in fake.requests] == ["FIRE"]
    assert backend.sender.drain() == 0  # not due yet: no request
    assert len(fake.requests) == 1
    # when: the back-off has passed
    clock.now += 2.0
    assert backend.sender.drain() == 3
    # then: in order, each with its own key, each marked with the server's id
    assert [r["category"] for r in fake.requests] == ["FIRE", "FIRE", "THEFT", "OTHER"]
    assert [r["key"] for r in fake.requests[1:]] == [i.idempotency_key for i in items]
    assert [i.state for i in backend.outbox.items()] == [ItemState.SENT] * 3
    assert [i.server_id for i in backend.outbox.items()] == list(fake.incidents.values())


def test_back_off_doubles_up_to_a_cap_with_jitter() -> None:
    backoff, rng = Backoff(base=2.0, cap=60.0), random.Random(1)
    for attempts, ceiling in [(1, 2.0), (2, 4.0), (3, 8.0), (5, 32.0), (6, 60.0), (30, 60.0)]:
        delays = {backoff.delay(attempts, rng) for _ in range(20)}
        assert all(ceiling / 2 <= d <= ceiling for d in delays)
        assert len(delays) > 1  # jittered: phones that lost the network together do not retry together


def test_an_answer_lost_after_the_upload_is_retried_whole_with_the_same_key_and_counts_once(
    fake: FakeReportApi, fake_server: LiveServer, tmp_path: Path
) -> None:
    # given: a report with two photos; the server does the work but the answer is lost
    clock = FakeClock()
    backend = backend_for(fake_server, tmp_path / "app", clock)
    item = backend.file_report(category="FIRE", description="Cháy quán", location=(10.2, 104.0),
                               photos=[photo(tmp_path, "1.jpg"), photo(tmp_path, "2.png")])
    fake.script = ["lost"]
    # when
    backend.sender.drain()
    clock.now += 10
    backend.sender.drain()
    # then: both attempts carried both photos and the same key; one incident
    assert [(r["key"], r["files"]) for r in fake.requests] == [(item.idempotency_key, 2)] * 2
    assert len(fake.incidents) == 1
    sent = backend.outbox.get(item.id)
    assert sent is not None and sent.state is ItemState.SENT and sent.attempts == 2
    assert not (tmp_path / "app" / "outbox" / item.idempotency_key).exists()  # copies cleaned up once sent


def test_a_validation_error_marks_the_item_failed_with_the_message_and_it_is_not_retried(
    fake: FakeReportApi, fake_server: LiveServer, tmp_path: Path
) -> None:
    # given
    clock = FakeClock()
    backend = backend_for(fake_server, tmp_path / "app", clock)
    refused = backend.file_report(category="THEFT", description="", location=None)
    later = backend.file_report(category="OTHER", description="", location=(10.2, 104.0))
    fake.script = ["invalid"]
    # when
    assert backend.sender.drain() == 2
    clock.now += 3600
    backend.sender.kick()
    backend.sender.drain()
    # then: the refused one keeps the server's message for the person; the queue moved on
    failed = backend.outbox.get(refused.id)
    assert failed is not None and failed.state is ItemState.FAILED
    assert failed.errors == ({"field": "location", "code": "LOCATION_REQUIRED",
                              "message": "Cần vị trí, hoặc ảnh có thông tin GPS."},)
    assert [r["key"] for r in fake.requests] == [refused.idempotency_key, later.idempotency_key]
    assert backend.outbox.get(later.id).state is ItemState.SENT  # type: ignore[union-attr]


def test_with_the_server_down_items_wait_and_go_when_it_returns(fake: FakeReportApi, tmp_path: Path) -> None:
    # given: nothing listens
    server = LiveServer(fake.app)
    clock = FakeClock()
    backend = backend_for(server, tmp_path / "app", clock)
    item = backend.file_report(category="MEDICAL", description="Ngất xỉu", location=(10.2, 104.0))
    # when
    backend.sender.drain()
    # then
    waiting = backend.outbox.get(item.id)
    assert waiting is not None and waiting.state is ItemState.PENDING and "ConnectError" in (waiting.last_error or "")
    # when: the network returns and the app is told (kick makes every pending item due)
    server.start()
    try:
        backend.sender.kick()
        assert backend.sender.drain() == 1
    finally:
        server.stop()
    assert backend.outbox.get(item.id).state is ItemState.SENT  # type: ignore[union-attr]
    assert len(fake.requests) == 1


def test_the_background_sender_delivers_without_being_driven(fake: FakeReportApi, fake_server: LiveServer,
                                                             tmp_path: Path) -> None:
    # given
    outbox = Outbox(tmp_path / "app")
    client = GraphQLClient(fake_server.url)
    seen = []

    def deliver(item):  # the app's own deliver, minus the session
        backend = SafeCityBackend.__new__(SafeCityBackend)
        backend.client = client
        return SafeCityBackend.deliver_report(backend, item)

    sender = OutboxSender(outbox, deliver, on_change=seen.append)
    sender.start()
    try:
        # when
        item = outbox.add("reportIncident", {"input": {"category": "OTHER"}})
        sender.kick()
        # then
        deadline = time.monotonic() + 10
        while outbox.get(item.id).state is not ItemState.SENT and time.monotonic() < deadline:  # type: ignore[union-attr]
            time.sleep(0.02)
    finally:
        sender.stop()
    assert outbox.get(item.id).state is ItemState.SENT  # type: ignore[union-attr]
    assert [i.state for i in seen][-1] is ItemState.SENT
