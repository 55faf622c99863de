"""notify_accounts / notify_topic write outbox rows in the caller's transaction, rendered per language."""

from __future__ import annotations

import pytest

from api.notifications import flows, templates
from tests.factories import make_person
from tests.notifications.factories import make_device, outbox_row, outbox_states


def test_rows_are_written_in_the_callers_transaction_and_a_rollback_leaves_none(database, settings):
    # given
    person = make_person(database, settings, "citizen")
    make_device(database, person.account_id, "device-vi")

    # when: the caller's change fails after queueing
    with pytest.raises(RuntimeError), database.transaction() as session:
        queued = flows.notify_accounts(db_session=session, account_ids=[person.account_id],
                                       template="incident_status_changed",
                                       params={"reference": "PQ-0001", "status": "RESOLVED"})
        assert queued == 1
        raise RuntimeError("the incident update failed")

    # then
    assert outbox_states(database) == {}


def test_each_device_gets_the_text_in_its_own_language(database, settings):
    # given
    person = make_person(database, settings, "citizen")
    make_device(database, person.account_id, "phone-vi", language="vi")
    make_device(database, person.account_id, "tablet-en", language="en")
    other = make_person(database, settings, "citizen")
    make_device(database, other.account_id, "someone-else")

    # when
    with database.transaction() as session:
        queued = flows.notify_accounts(db_session=session, account_ids=[person.account_id],
                                       template="incident_status_changed",
                                       params={"reference": "PQ-0042", "status": "RESOLVED"},
                                       data={"incident": 42}, collapse_key="incident-42", ttl_seconds=600)

    # then
    assert queued == 2
    vi, en = outbox_row(database, "phone-vi"), outbox_row(database, "tablet-en")
    assert (vi.title, vi.body) == ("Phản ánh PQ-0042: đã được xử lý xong", "Phản ánh PQ-0042 của bạn đã được xử lý xong.")
    assert (en.title, en.body) == ("Report PQ-0042: resolved", "Your report PQ-0042 has been resolved.")
    assert vi.data == {"incident": "42", "template": "incident_status_changed"}
    assert (vi.collapse_key, vi.ttl_seconds, vi.state) == ("incident-42", 600, "PENDING")


def test_a_topic_reaches_its_subscribers_active_devices_only(database, settings):
    # given
    follower = make_person(database, settings, "citizen")
    make_device(database, follower.account_id, "follower-phone")
    gone = make_device(database, follower.account_id, "follower-old-phone")
    bystander = make_person(database, settings, "citizen")
    make_device(database, bystander.account_id, "bystander-phone")
    with database.transaction() as session:
        flows.subscribe_topic(db_session=session, account_id=follower.account_id, topic="area:31078")
        flows.unregister_device(db_session=session, account_id=follower.account_id, token="follower-old-phone")

    # when
    with database.transaction() as session:
        queued = flows.notify_topic(db_session=session, topic="area:31078", template="generic_alert",
                                    params={"title_vi": "Ngập", "body_vi": "Dương Đông ngập 30 cm"})

    # then
    assert queued == 1 and gone
    assert outbox_states(database) == {"PENDING": 1}


def test_every_template_renders_in_both_languages():
    params = {"reference": "PQ-1", "status": "DISPATCHED", "unit": "CC-01", "category": "Cháy", "address": "An Thới",
              "step": "Điều động", "minutes": 5, "title_vi": "Tiêu đề", "body_vi": "Nội dung",
              "source": "PQ-0"}
    for name in templates.TEMPLATES:
        for language in ("vi", "en"):
            title, body = templates.render(name, params, language)
            assert title and body and "{" not in title + body


def test_a_missing_parameter_is_a_caller_bug_even_with_nobody_listening(database, settings):
    with pytest.raises(templates.TemplateError, match="needs status"), database.transaction() as session:
        flows.notify_accounts(db_session=session, account_ids=[], template="incident_status_changed",
                              params={"reference": "PQ-1"})
