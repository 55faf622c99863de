"""The identity domain's error codes."""

from __future__ import annotations

from api.core.errors import domain_error_codes
from api.identity.rules import IdentityRuleCode

IdentityErrorCode = domain_error_codes(
    "IdentityErrorCode",
    [
        *(c.value for c in IdentityRuleCode),
        "NATIONAL_ID_TAKEN",
        "PHONE_TAKEN",
        "TAX_CODE_TAKEN",
        "INVALID_CREDENTIALS",
        "TOO_MANY_ATTEMPTS",
        "ACCOUNT_DISABLED",
        "REFRESH_TOKEN_INVALID",
        "REFRESH_TOKEN_REUSED",
        "PASSWORD_INCORRECT",
        "ROLE_INVALID",
        "SCOPE_INVALID",
    ],
)
