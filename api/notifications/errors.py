"""The notifications domain's error codes."""

from __future__ import annotations

from api.core.errors import domain_error_codes
from api.notifications.rules import NotificationsRuleCode

NotificationsErrorCode = domain_error_codes(
    "NotificationsErrorCode", [*(c.value for c in NotificationsRuleCode)]
)
