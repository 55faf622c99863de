"""The push-notification interface: what a sender is given, what it answers, and a log-only sender."""

from __future__ import annotations

import logging
import math
import random
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Protocol

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class PushMessage:
    """One notification to one device token."""

    key: str  # the outbox row id, used to match results to rows
    token: str
    title: str
    body: str
    data: dict[str, str] = field(default_factory=dict)
    collapse_key: str | None = None  # a newer message with the same key supersedes an older one
    ttl_seconds: int | None = None  # drop instead of delivering late (e.g. a stale flood alert)
    android_channel: str | None = None
    priority: str = "high"  # "high" | "normal"


class Outcome(StrEnum):
    """What the outbox should do with a message after a send."""

    SENT = "sent"
    TOKEN_INVALID = "token_invalid"  # unregistered or malformed token: deactivate it
    RETRY = "retry"  # quota, unavailable, internal, network: try again after a back-off
    FATAL = "fatal"  # configuration error, or a message FCM rejects for a reason retrying won't fix


@dataclass(frozen=True)
class SendResult:
    """The outcome of sending one PushMessage."""

    key: str
    outcome: Outcome
    provider_message_id: str | None = None
    retry_after: float | None = None  # seconds the provider asked us to wait, if it said
    error_code: str | None = None
    detail: str = ""


class PushSender(Protocol):
    """Sends notifications; one result per message, in the same order."""

    max_batch: int

    def send(self, messages: Sequence[PushMessage]) -> list[SendResult]:
        """Sends the messages and returns one result per message, in order."""
        ...


class LogSender:
    """Records and logs what would be sent; the sender when no push credentials are configured."""

    max_batch = 500

    def __init__(self) -> None:
        self._lock = threading.Lock()  # workers may share one sender across threads
        self.sent: list[PushMessage] = []

    def send(self, messages: Sequence[PushMessage]) -> list[SendResult]:
        """Logs one line per message, keeps it in `sent`, and reports it SENT."""
        results = []
        for message in messages:
            # Only a token prefix: a full token is a credential for pushing to someone's phone.
            logger.info(
                "push (log only) key=%s token=%s... title=%r collapse_key=%s",
                message.key,
                message.token[:8],
                message.title,
                message.collapse_key,
            )
            with self._lock:
                self.sent.append(message)
                number = len(self.sent)
            results.append(SendResult(message.key, Outcome.SENT, provider_message_id=f"log/{number}"))
        return results


def backoff_delay(
    attempt: int,
    *,
    base: float = 2.0,
    cap: float = 300.0,
    retry_after: float | None = None,
    rng: Callable[[], float] = random.random,
) -> float:
    """Returns seconds to wait before retry number `attempt` (1-based): full-jitter exponential."""
    # Full jitter (uniform in [0, ceiling]) spreads a burst of failures out, so thousands of messages
    # that failed together during an FCM outage do not all come back in the same second.
    exponent = min(max(attempt - 1, 0), 60)  # 2**60 is far past any cap; avoids float overflow
    ceiling = min(cap, base * math.ldexp(1.0, exponent))
    delay = rng() * ceiling
    if retry_after is not None:
        # The server's Retry-After is a floor, and wins over our cap: coming back earlier than it
        # asked only earns another refusal (and, for quota errors, a longer penalty).
        delay = max(delay, retry_after)
    return delay
