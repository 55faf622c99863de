"""Expected errors as data: per-domain error codes, and the exception flows raise to abort."""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

# Codes every domain shares; each domain's ErrorCode enum starts with these (see domain_error_codes).
COMMON_CODES = (
    "INVALID",
    "REQUIRED",
    "NOT_FOUND",
    "PERMISSION_DENIED",
    "INVALID_STATE",
    "IDEMPOTENCY_CONFLICT",
    "DUPLICATE",
    "RATE_LIMITED",
)


def domain_error_codes(name: str, extra: Iterable[str]) -> Any:
    """Builds a domain's ErrorCode enum: the common codes followed by the domain's own (typed Any: mypy
    cannot see members of an enum built at run time)."""
    members = list(COMMON_CODES) + [c for c in extra if c not in COMMON_CODES]
    return enum.StrEnum(name, {m: m for m in members})  # type: ignore[return-value]


@dataclass(frozen=True)
class FieldError:
    """One problem with what a user sent or asked for, shown next to the field it concerns."""

    code: str
    message: str
    field: str | None = None
    message_vi: str | None = None

    def localised(self, language: str) -> str:
        """The message in the caller's language (Vietnamese or English)."""
        return self.message_vi if language == "vi" and self.message_vi else self.message


class DomainError(Exception):
    """Raised by flows to abort the transaction with user-facing errors; never a bug."""

    def __init__(self, *errors: FieldError) -> None:
        super().__init__("; ".join(f"{e.field or '-'}: {e.code}: {e.message}" for e in errors))
        self.errors = list(errors)

    @property
    def extensions(self) -> dict[str, Any]:
        """What a top-level GraphQL error shows (graphql-core copies it from the original error)."""
        first = self.errors[0]
        return {"code": first.code, "field": first.field}

    @classmethod
    def single(
        cls, code: str | enum.Enum, message: str, *, field: str | None = None, message_vi: str | None = None
    ) -> DomainError:
        """One error."""
        value = code.value if isinstance(code, enum.Enum) else code
        return cls(FieldError(code=str(value), message=message, field=field, message_vi=message_vi))


class AccessDenied(Exception):
    """The caller may not use this entry point at all (a top-level GraphQL error)."""

    def __init__(self, message: str = "You do not have permission to do this.", *, code: str = "FORBIDDEN"):
        super().__init__(message)
        self.code = code
        # graphql-core copies these onto the GraphQL error, for queries and subscriptions alike.
        self.extensions = {"code": code}
