"""FcmSender runs the real firebase-admin against the local fake FCM server; nothing leaves 127.0.0.1."""

from __future__ import annotations

import socket
import time
from email.utils import formatdate

import firebase_admin
import pytest
from firebase_admin import credentials, messaging

from tests.fakes.fcm_server import (
    PROJECT_ID,
    FakeFcmServer,
    Reply,
    service_account_info,
    write_service_account,
)
from workers.push import LogSender, Outcome, PushMessage, backoff_delay
from workers.push.fcm import GOOGLE_FCM_URL, FcmSender

# firebase-admin 7.7 deprecates Message.token for Message.fid (Firebase installation IDs); our devices
# register FCM registration tokens, which FCM v1 still accepts. See the note in workers/push/fcm.py.
pytestmark = pytest.mark.filterwarnings("ignore:Message.token is deprecated:DeprecationWarning")


@pytest.fixture(scope="module")
def server():
    with FakeFcmServer() as running:
        yield running


@pytest.fixture
def fake(server):
    server.fake.reset()
    return server.fake


@pytest.fixture
def sender(server, fake, tmp_path):
    path = write_service_account(tmp_path / "service-account.json", server.token_uri)
    with FcmSender(path, fcm_url=server.url) as built:
        yield built


def _message(key: str, token: str, **fields) -> PushMessage:
    return PushMessage(key=key, token=token, title=fields.pop("title", "Cảnh báo"), body="Nội dung", **fields)


def test_sends_title_body_data_collapse_key_and_ttl(sender, fake):
    # given
    message = PushMessage(
        key="41",
        token="device-1",
        title="Chất lượng không khí",
        body="AQI 152 at Dương Đông",
        data={"kind": "aqi", "station": "duong-dong"},
        collapse_key="aqi-duong-dong",
        ttl_seconds=3600,
        android_channel="environment",
    )

    # when
    [result] = sender.send([message])

    # then
    assert result.key == "41"
    assert result.outcome is Outcome.SENT
    assert result.provider_message_id.startswith(f"projects/{PROJECT_ID}/messages/")
    [received] = fake.received("device-1")
    sent = received.message
    assert sent["notification"] == {"title": "Chất lượng không khí", "body": "AQI 152 at Dương Đông"}
    assert sent["data"] == {"kind": "aqi", "station": "duong-dong"}
    assert sent["android"]["collapse_key"] == "aqi-duong-dong"
    assert sent["android"]["ttl"] == "3600s"
    assert sent["android"]["priority"] == "high"
    assert sent["android"]["notification"]["channel_id"] == "environment"
    assert sent["apns"]["headers"]["apns-collapse-id"] == "aqi-duong-dong"
    assert abs(int(sent["apns"]["headers"]["apns-expiration"]) - (time.time() + 3600)) < 60


def test_unregistered_token_is_token_invalid(sender, fake):
    [result] = sender.send([_message("1", "unregistered-phone")])

    assert result.outcome is Outcome.TOKEN_INVALID
    assert result.error_code == "UNREGISTERED"
    assert fake.count("unregistered-phone") == 1


def test_malformed_token_is_token_invalid(sender, fake):
    [result] = sender.send([_message("1", "bad-token")])

    assert result.outcome is Outcome.TOKEN_INVALID
    assert result.error_code == "INVALID_ARGUMENT"


def test_payload_rejected_by_fcm_is_fatal_and_keeps_the_token(sender, fake):
    # given: FCM blames a field of the message, not the token
    fake.script("device-2", Reply.bad_payload("message.android.ttl"))

    # when
    [result] = sender.send([_message("1", "device-2")])

    # then: deactivating the token over our own payload bug would unsubscribe the user
    assert result.outcome is Outcome.FATAL


def test_unavailable_with_retry_after_then_sent(sender, fake):
    # given
    fake.script("device-3", Reply.error(503, retry_after=1), Reply.ok())

    # when
    [first] = sender.send([_message("1", "device-3")])
    [second] = sender.send([_message("1", "device-3")])

    # then: no hidden retry inside firebase-admin; the outbox decides when to come back
    assert first.outcome is Outcome.RETRY
    assert first.retry_after == 1
    assert first.error_code == "UNAVAILABLE"
    assert second.outcome is Outcome.SENT
    assert fake.count("device-3") == 2


def test_retry_after_as_http_date(sender, fake):
    when = formatdate(time.time() + 30, usegmt=True)
    fake.script("device-4", Reply(429, Reply.error(429).body, {"Retry-After": when}))

    [result] = sender.send([_message("1", "device-4")])

    assert result.outcome is Outcome.RETRY
    assert result.error_code == "QUOTA_EXCEEDED"
    assert 25 <= result.retry_after <= 31


def test_internal_error_is_retry_every_time(sender, fake):
    outcomes = [sender.send([_message("1", "fail500-phone")])[0].outcome for _ in range(3)]

    # Parking after a limit is the outbox's job: the sender just keeps saying RETRY.
    assert outcomes == [Outcome.RETRY] * 3
    assert fake.count("fail500-phone") == 3


def test_sender_id_mismatch_is_fatal(sender):
    [result] = sender.send([_message("1", "mismatch-phone")])

    assert result.outcome is Outcome.FATAL
    assert result.error_code == "SENDER_ID_MISMATCH"


def test_unreachable_fcm_is_retry(server, fake):
    # given: tokens come from the fake, sends go to a port nobody listens on
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    with FcmSender(
        service_account_info(server.token_uri), fcm_url=f"http://127.0.0.1:{closed_port}"
    ) as sender:
        # when
        [result] = sender.send([_message("1", "device-5")])

    # then
    assert result.outcome is Outcome.RETRY
    assert result.error_code == "UNAVAILABLE"


def test_unreachable_token_endpoint_is_retry(server):
    with FcmSender(service_account_info("http://127.0.0.1:9/token"), fcm_url=server.url) as sender:
        results = sender.send([_message("1", "device-6"), _message("2", "device-7")])

    assert [r.outcome for r in results] == [Outcome.RETRY, Outcome.RETRY]
    assert {r.error_code for r in results} == {"TOKEN_REFRESH_FAILED"}


def test_message_firebase_admin_refuses_is_fatal_and_the_rest_are_sent(sender, fake):
    # given: a non-string data value, which firebase-admin rejects before sending anything
    messages = [_message(str(i), f"device-{i}") for i in range(6)]
    messages[4] = _message("4", "device-4", data={"count": 3})

    # when
    results = sender.send(messages)

    # then
    assert [r.outcome for r in results] == [Outcome.SENT] * 4 + [Outcome.FATAL, Outcome.SENT]
    assert results[4].error_code == "INVALID_MESSAGE"
    assert fake.count("device-4") == 0


def test_empty_token_is_token_invalid_without_a_request(sender, fake):
    [result] = sender.send([_message("1", "  ")])

    assert result.outcome is Outcome.TOKEN_INVALID
    assert fake.stats()["sends"] == 0


def test_1200_messages_go_in_chunks_of_at_most_500_with_results_in_order(sender, fake, monkeypatch):
    # given
    chunk_sizes = []
    real_send_each = messaging.send_each

    def spy(messages, *args, **kwargs):
        chunk_sizes.append(len(messages))
        return real_send_each(messages, *args, **kwargs)

    monkeypatch.setattr(messaging, "send_each", spy)
    tokens = [f"unregistered-{i}" if i % 97 == 0 else f"device-{i}" for i in range(1200)]
    messages = [_message(str(i), token) for i, token in enumerate(tokens)]

    # when
    results = sender.send(messages)

    # then
    assert chunk_sizes == [500, 500, 200]
    assert [r.key for r in results] == [str(i) for i in range(1200)]
    expected = [Outcome.TOKEN_INVALID if i % 97 == 0 else Outcome.SENT for i in range(1200)]
    assert [r.outcome for r in results] == expected
    assert fake.stats()["sends"] == 1200
    assert fake.stats()["duplicates"] == {}
    # One access token for the whole run, not one per thread of send_each.
    assert fake.token_requests == 1


def test_firebase_admin_private_fcm_url_attribute_is_still_there():
    # If this fails after a firebase-admin upgrade, fix _point_fcm_at in workers/push/fcm.py:
    # FcmSender points firebase-admin at the fake by patching this class attribute.
    assert messaging._MessagingService.FCM_URL == GOOGLE_FCM_URL
    assert callable(messaging._get_messaging_service)


def test_fcm_url_override_stays_with_its_own_app(sender):
    # given: FcmSender has set and restored the class attribute while building its service
    app = firebase_admin.initialize_app(
        credentials.Certificate(service_account_info("http://127.0.0.1:9/token")), name="plain-app"
    )
    try:
        # when
        service = messaging._get_messaging_service(app)

        # then: an app built afterwards still sends to Google
        assert messaging._MessagingService.FCM_URL == GOOGLE_FCM_URL
        assert service._fcm_url == GOOGLE_FCM_URL.format(PROJECT_ID)
        # _tune_session mounts its adapter on this private session.
        assert hasattr(service._client, "session")
    finally:
        firebase_admin.delete_app(app)


async def test_sender_closes_inside_an_event_loop(server):
    # firebase-admin's own close() calls asyncio.run(), which fails inside a running loop.
    sender = FcmSender(service_account_info(server.token_uri), fcm_url=server.url)

    sender.close()
    sender.close()

    assert not any(app.startswith("push-sender-") for app in firebase_admin._apps)


def test_log_sender_records_and_reports_sent(caplog):
    sender = LogSender()
    messages = [_message("1", "device-a-0123456789"), _message("2", "device-b-0123456789")]

    with caplog.at_level("INFO", logger="workers.push.sender"):
        results = sender.send(messages)

    assert [(r.key, r.outcome) for r in results] == [("1", Outcome.SENT), ("2", Outcome.SENT)]
    assert sender.sent == messages
    assert len(caplog.records) == 2
    assert "device-a-0123456789" not in caplog.text  # only a token prefix is logged


def test_backoff_delay_is_bounded_by_cap():
    assert all(backoff_delay(n, cap=60.0) <= 60.0 for n in range(1, 200))
    assert backoff_delay(10_000, cap=60.0, rng=lambda: 1.0) == 60.0


def test_backoff_delay_honours_retry_after_as_a_floor():
    assert backoff_delay(1, retry_after=7.0, rng=lambda: 0.0) == 7.0
    assert backoff_delay(1, retry_after=7.0, rng=lambda: 1.0) == 7.0  # ceiling of attempt 1 is 2 s
    assert backoff_delay(1, cap=5.0, retry_after=30.0) == 30.0  # the server's word beats our cap


def test_backoff_delay_grows_with_attempt():
    ceilings = [backoff_delay(n, rng=lambda: 1.0) for n in range(1, 8)]
    assert ceilings == [2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0]
    average = [sum(backoff_delay(n) for _ in range(2000)) / 2000 for n in (1, 4)]
    assert average[0] < average[1]


def test_backoff_delay_is_full_jitter():
    delays = {round(backoff_delay(5), 3) for _ in range(50)}
    assert len(delays) > 40
    assert all(0.0 <= d <= 32.0 for d in delays)
