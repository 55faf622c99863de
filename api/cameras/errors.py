"""The cameras domain's error codes."""

from __future__ import annotations

from api.cameras.rules import CameraRuleCode
from api.core.errors import domain_error_codes

CameraErrorCode = domain_error_codes(
    "CameraErrorCode",
    [*(c.value for c in CameraRuleCode), "CODE_TAKEN", "UNIT_UNKNOWN"],
)
