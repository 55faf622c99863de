"""The outbox drain with the real firebase-admin (FcmSender) against the fake FCM server, on both databases."""

from __future__ import annotations

import datetime as dt
import logging

import pytest

from api.core.model import utcnow
from tests.factories import make_person
from tests.fakes.fcm_server import FakeFcmServer, Reply, write_service_account
from tests.notifications.factories import device_row, outbox_row, outbox_states, queue_to_tokens
from workers.push import LogSender
from workers.push.drain import claim, drain, drain_once, make_sender, new_owner, record, send
from workers.push.fcm import FcmSender

pytestmark = pytest.mark.filterwarnings("ignore:Message.token is deprecated:DeprecationWarning")


@pytest.fixture(scope="module")
def server():
    with FakeFcmServer() as running:
        yield running


@pytest.fixture(scope="module")
def sender(server, tmp_path_factory):
    path = write_service_account(tmp_path_factory.mktemp("fcm") / "service-account.json", server.token_uri)
    with FcmSender(path, fcm_url=server.url) as built:
        yield built


@pytest.fixture
def fake(server):
    server.fake.reset()
    return server.fake


@pytest.fixture
def push_settings(settings):
    return settings.model_copy(update={"push_max_attempts": 3, "push_lease_seconds": 30.0})


@pytest.fixture
def account(database, settings):
    return make_person(database, settings, "citizen").account_id


def test_a_queued_message_is_sent_once_and_recorded_sent(database, sender, fake, push_settings, account):
    # given
    queue_to_tokens(database, account, ["device-ok-1", "device-ok-2"])

    # when
    report = drain(database, sender, push_settings)

    # then
    assert (report.claimed, report.sent, report.failed) == (2, 2, 0)
    assert outbox_states(database) == {"SENT": 2}
    row = outbox_row(database, "device-ok-1")
    assert row.attempts == 1 and row.sent_at is not None and row.next_attempt_at is None
    assert row.provider_message_id.startswith("projects/smartcity-test/messages/")
    [received] = fake.received("device-ok-1")
    assert received.message["notification"] == {"title": "Cảnh báo", "body": "m device-ok-1"}
    assert received.message["android"]["notification"]["channel_id"] == "alerts"
    assert received.message["data"] == {"n": "device-ok-1"}
    assert drain(database, sender, push_settings).claimed == 0  # nothing is sent twice


def test_an_unregistered_token_deactivates_the_device(database, sender, fake, push_settings, account):
    # given: two messages for the same dead token; the second is still queued when the first fails
    queue_to_tokens(database, account, ["unregistered-1"])
    push_settings = push_settings.model_copy(update={"push_batch_size": 1})

    # when
    drain_once(database, sender, push_settings)

    # then
    row = outbox_row(database, "unregistered-1")
    assert row.state == "FAILED" and "UNREGISTERED" in row.last_error
    device = device_row(database, "unregistered-1")
    assert device.active is False and "UNREGISTERED" in device.deactivated_reason
    assert fake.count("unregistered-1") == 1


def test_a_malformed_token_deactivates_the_device(database, sender, fake, push_settings, account):
    # given
    queue_to_tokens(database, account, ["bad-token-x"])

    # when
    drain(database, sender, push_settings)

    # then
    row = outbox_row(database, "bad-token-x")
    assert row.state == "FAILED" and row.last_error.startswith("INVALID_ARGUMENT")
    assert device_row(database, "bad-token-x").active is False


def test_503_with_retry_after_is_retried_no_earlier_than_asked_then_sent(
    database, sender, fake, push_settings, account
):
    # given
    fake.script("device-busy", Reply.error(503, retry_after=20))
    queue_to_tokens(database, account, ["device-busy"])
    now = utcnow()

    # when
    first = drain_once(database, sender, push_settings, now=now)
    too_early = drain_once(database, sender, push_settings, now=now + dt.timedelta(seconds=19))
    later = drain_once(database, sender, push_settings, now=now + dt.timedelta(seconds=21))

    # then
    assert (first.retried, too_early.claimed, later.sent) == (1, 0, 1)
    row = outbox_row(database, "device-busy")
    assert row.state == "SENT" and row.attempts == 2
    assert row.last_error.startswith("UNAVAILABLE")  # the history of the failed attempt is kept
    assert fake.count("device-busy") == 2


def test_500_every_time_fails_after_the_attempt_limit_with_the_reason(
    database, sender, fake, push_settings, account
):
    # given
    queue_to_tokens(database, account, ["fail500-a"])
    now = utcnow()

    # when: back-off is capped at 300 s, so ten minutes apart every retry is due
    for step in range(5):
        drain_once(database, sender, push_settings, now=now + dt.timedelta(minutes=10 * step))

    # then
    row = outbox_row(database, "fail500-a")
    assert row.state == "FAILED" and row.attempts == 3
    assert row.last_error.startswith("gave up after 3 attempts: INTERNAL")
    assert fake.count("fail500-a") == 3
    assert device_row(database, "fail500-a").active is True


def test_a_configuration_error_fails_at_once_and_is_logged_at_error(
    database, sender, fake, push_settings, account, caplog
):
    # given
    queue_to_tokens(database, account, ["mismatch-1"])

    # when
    with caplog.at_level(logging.ERROR, logger="workers.push.drain"):
        drain(database, sender, push_settings)

    # then
    row = outbox_row(database, "mismatch-1")
    assert row.state == "FAILED" and row.attempts == 1 and "SENDER_ID_MISMATCH" in row.last_error
    assert device_row(database, "mismatch-1").active is True
    assert any("FAILED for good" in r.getMessage() for r in caplog.records)


def test_a_lease_that_ran_out_is_claimed_again_and_the_late_owner_cannot_overwrite(
    database, sender, fake, push_settings, account
):
    # given: a sender claimed the row and then stalled (or died) past its lease
    queue_to_tokens(database, account, ["device-stalled"])
    now = utcnow()
    stalled = new_owner()
    claimed = claim(database, owner=stalled, limit=10, lease_seconds=30, now=now)
    assert drain_once(database, sender, push_settings, now=now + dt.timedelta(seconds=10)).claimed == 0

    # when
    retaken = drain_once(database, sender, push_settings, now=now + dt.timedelta(seconds=31))
    late = record(database, claimed, send(LogSender(), claimed), owner=stalled, max_attempts=3, now=utcnow())

    # then
    assert retaken.sent == 1 and late.sent == 1  # the stalled sender believes it sent; its record is ignored
    row = outbox_row(database, "device-stalled")
    assert row.state == "SENT" and row.attempts == 1 and row.lease_owner != stalled
    assert row.provider_message_id.startswith("projects/")  # FCM's id, not the log sender's


def test_the_sender_is_fcm_with_credentials_and_the_log_sender_without(settings, server, tmp_path):
    # given
    path = write_service_account(tmp_path / "sa.json", server.token_uri)

    # when
    default = make_sender(settings)
    configured = make_sender(settings.model_copy(update={"fcm_credentials_file": path, "fcm_url": server.url}))

    # then
    assert isinstance(default, LogSender)
    assert isinstance(configured, FcmSender)
    configured.close()
