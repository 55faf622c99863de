"""Pure rules for notifications: platforms, languages, outbox states, what a token and a topic look like."""

from __future__ import annotations

import enum
import re

MAX_TOKEN_LENGTH = 512  # FCM registration tokens are ~160 characters; APNs/web ones are shorter
TOPIC_KINDS = ("area", "category")  # "area:31078" (an administrative unit), "category:FIRE"
_TOPIC = re.compile(r"^([a-z]+):([A-Za-z0-9_.-]{1,64})$")


class Platform(enum.StrEnum):
    """Where a device token comes from."""

    ANDROID = "ANDROID"
    IOS = "IOS"
    WEB = "WEB"


class Language(enum.StrEnum):
    """The language a device shows notifications in."""

    VI = "vi"
    EN = "en"


class OutboxState(enum.StrEnum):
    """Where one outbox message is: waiting, claimed by a sender, delivered to FCM, or given up."""

    PENDING = "PENDING"
    SENDING = "SENDING"
    SENT = "SENT"
    FAILED = "FAILED"


class NotificationsRuleCode(enum.StrEnum):
    """Why a token or a topic is refused."""

    TOKEN_INVALID = "TOKEN_INVALID"
    TOPIC_INVALID = "TOPIC_INVALID"


def token_problem(token: str) -> NotificationsRuleCode | None:
    """Returns why a device token cannot be stored, or None when it can."""
    if not token or len(token) > MAX_TOKEN_LENGTH or any(c.isspace() for c in token):
        return NotificationsRuleCode.TOKEN_INVALID
    return None


def topic_problem(topic: str) -> NotificationsRuleCode | None:
    """Returns why a topic name is refused, or None for `<kind>:<value>` with a known kind."""
    match = _TOPIC.match(topic)
    if match is None or match.group(1) not in TOPIC_KINDS:
        return NotificationsRuleCode.TOPIC_INVALID
    return None
