"""Devices and topics through GraphQL, and the admin's view of the push outbox."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select, update

from api.core.model import utcnow
from api.notifications import flows
from api.notifications.models import OutboxMessage
from tests.conftest import gql
from tests.factories import make_person
from tests.notifications.factories import device_row, outbox_row, outbox_states

REGISTER = """
mutation ($input: RegisterDeviceInput!) {
  registerDevice(input: $input) { device { id platform language active } errors { code field message } }
}"""
UNREGISTER = """
mutation ($token: String!) {
  unregisterDevice(input: {token: $token}) { device { active deactivatedReason } errors { code message } }
}"""
SUBSCRIBE = """
mutation ($topic: String!) { subscribeTopic(input: {topic: $topic}) { topics errors { code field message } } }"""
UNSUBSCRIBE = """
mutation ($topic: String!) { unsubscribeTopic(input: {topic: $topic}) { topics errors { code } } }"""
OUTBOX = """
{ pushOutbox { pending sending sent failed recentFailures(first: 5) { template attempts lastError failedAt } } }"""


async def test_a_signed_in_person_registers_a_device(client, database, settings):
    # given
    person = make_person(database, settings, "citizen")

    # when
    body = await gql(client, REGISTER, {"input": {"token": "fcm-token-1", "platform": "IOS", "language": "EN"}},
                     token=person.token)

    # then
    payload = body["data"]["registerDevice"]
    assert payload["errors"] == []
    assert payload["device"]["platform"] == "IOS" and payload["device"]["language"] == "EN"
    device = device_row(database, "fcm-token-1")
    assert (device.account_id, device.language, device.active) == (person.account_id, "en", True)


async def test_a_token_registered_by_another_account_moves_and_drops_what_was_queued(client, database, settings):
    # given
    first = make_person(database, settings, "citizen")
    second = make_person(database, settings, "dispatcher")
    await gql(client, REGISTER, {"input": {"token": "shared-phone", "platform": "ANDROID"}}, token=first.token)
    with database.transaction() as session:
        flows.notify_accounts(db_session=session, account_ids=[first.account_id], template="generic_alert",
                              params={"title_vi": "Riêng tư", "body_vi": "Chỉ cho người thứ nhất"})

    # when
    body = await gql(client, REGISTER, {"input": {"token": "shared-phone", "platform": "ANDROID"}},
                     token=second.token)

    # then
    assert body["data"]["registerDevice"]["errors"] == []
    assert device_row(database, "shared-phone").account_id == second.account_id
    row = outbox_row(database, "shared-phone")
    assert row.state == "FAILED" and row.last_error.startswith("DEVICE_MOVED")


async def test_an_invalid_token_is_refused_in_the_callers_language(client, database, settings):
    person = make_person(database, settings, "citizen")
    body = await gql(client, REGISTER, {"input": {"token": "has space", "platform": "WEB"}}, token=person.token)
    [error] = body["data"]["registerDevice"]["errors"]
    assert error["code"] == "TOKEN_INVALID" and error["field"] == "token"
    assert error["message"] == "Mã thiết bị không hợp lệ."


async def test_anonymous_callers_cannot_register(client):
    body = await gql(client, REGISTER, {"input": {"token": "t", "platform": "WEB"}})
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_unregister_stops_pushes_and_only_the_owner_can(client, database, settings):
    # given
    owner = make_person(database, settings, "citizen")
    stranger = make_person(database, settings, "citizen")
    await gql(client, REGISTER, {"input": {"token": "owner-phone", "platform": "ANDROID"}}, token=owner.token)

    # when
    refused = await gql(client, UNREGISTER, {"token": "owner-phone"}, token=stranger.token)
    done = await gql(client, UNREGISTER, {"token": "owner-phone"}, token=owner.token)

    # then
    assert refused["data"]["unregisterDevice"]["errors"][0]["code"] == "NOT_FOUND"
    assert done["data"]["unregisterDevice"] == {
        "device": {"active": False, "deactivatedReason": "UNREGISTERED_BY_USER"}, "errors": []}
    with database.transaction() as session:
        assert flows.notify_accounts(db_session=session, account_ids=[owner.account_id],
                                     template="generic_alert", params={"title_vi": "x", "body_vi": "y"}) == 0


async def test_subscribe_and_unsubscribe_topics(client, database, settings):
    # given
    person = make_person(database, settings, "citizen")

    # when
    await gql(client, SUBSCRIBE, {"topic": "area:31078"}, token=person.token)
    again = await gql(client, SUBSCRIBE, {"topic": "area:31078"}, token=person.token)
    both = await gql(client, SUBSCRIBE, {"topic": "category:FIRE"}, token=person.token)
    bad = await gql(client, SUBSCRIBE, {"topic": "role:admin"}, token=person.token)
    left = await gql(client, UNSUBSCRIBE, {"topic": "area:31078"}, token=person.token)

    # then
    assert again["data"]["subscribeTopic"]["topics"] == ["area:31078"]
    assert both["data"]["subscribeTopic"]["topics"] == ["area:31078", "category:FIRE"]
    assert bad["data"]["subscribeTopic"]["errors"][0]["code"] == "TOPIC_INVALID"
    assert left["data"]["unsubscribeTopic"] == {"topics": ["category:FIRE"], "errors": []}


async def test_admins_see_the_outbox_counts_and_the_latest_failures(client, database, settings):
    # given
    admin = make_person(database, settings, "admin")
    citizen = make_person(database, settings, "citizen")
    await gql(client, REGISTER, {"input": {"token": "a-phone", "platform": "ANDROID"}}, token=citizen.token)
    with database.transaction() as session:
        for _ in range(3):
            flows.notify_accounts(db_session=session, account_ids=[citizen.account_id], template="generic_alert",
                                  params={"title_vi": "x", "body_vi": "y"})
        first_id = session.execute(select(func.min(OutboxMessage.id))).scalar_one()
        session.execute(update(OutboxMessage).where(OutboxMessage.id == first_id).values(
            state="FAILED", attempts=8, last_error="gave up after 8 attempts: INTERNAL: boom", next_attempt_at=None,
            failed_at=utcnow() - dt.timedelta(minutes=1)))

    # when
    refused = await gql(client, OUTBOX, token=citizen.token)
    body = await gql(client, OUTBOX, token=admin.token)

    # then
    assert refused["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    outbox = body["data"]["pushOutbox"]
    assert (outbox["pending"], outbox["sending"], outbox["sent"], outbox["failed"]) == (2, 0, 0, 1)
    assert outbox["recentFailures"] == [{"template": "generic_alert", "attempts": 8,
                                         "lastError": "gave up after 8 attempts: INTERNAL: boom",
                                         "failedAt": outbox["recentFailures"][0]["failedAt"]}]
    assert outbox_states(database) == {"PENDING": 2, "FAILED": 1}


async def test_an_outbox_id_past_32_bits_is_stored_and_listed(client, database, settings):
    # given: a failure whose id needs 64 bits (GraphQL's Int is 32-bit: messageId is an ID, a string)
    admin = make_person(database, settings, "admin")
    citizen = make_person(database, settings, "citizen")
    await gql(client, REGISTER, {"input": {"token": "big-id-phone", "platform": "ANDROID"}}, token=citizen.token)
    with database.transaction() as session:
        flows.notify_accounts(db_session=session, account_ids=[citizen.account_id], template="generic_alert",
                              params={"title_vi": "x", "body_vi": "y"})
        session.execute(update(OutboxMessage).values(
            id=3_000_000_000, state="FAILED", last_error="FATAL: x", next_attempt_at=None, failed_at=utcnow()))

    # when
    body = await gql(client, "{ pushOutbox { recentFailures(first: 1) { messageId template } } }", token=admin.token)
    old_field = await gql(client, "{ pushOutbox { recentFailures(first: 1) { id } } }", token=admin.token)

    # then: the new field carries it; the deprecated 32-bit one says it cannot
    assert body["data"]["pushOutbox"]["recentFailures"] == [{"messageId": "3000000000", "template": "generic_alert"}]
    assert old_field["errors"] and "32-bit" in old_field["errors"][0]["message"]
