"""Running a mutation's work as one transaction, expected errors turned into payload errors."""

from __future__ import annotations

import enum
from collections.abc import Callable
from typing import Any, TypeVar

from sqlmodel import Session

from api.core.errors import DomainError
from api.core.gql.context import Context
from api.core.gql.errors import to_user_errors

T = TypeVar("T")


def run_in_transaction(
    ctx: Context, work: Callable[[Session], T], error_type: type, codes: type[enum.Enum]
) -> tuple[T | None, list[Any]]:
    """Runs `work` in a write transaction; returns its result, or None and the user errors."""
    try:
        with ctx.write() as session:
            return work(session), []
    except DomainError as exc:
        return None, to_user_errors(error_type, codes, exc.errors, ctx.language)


def user_errors(ctx: Context, exc: DomainError, error_type: type, codes: type[enum.Enum]) -> list[Any]:
    """Payload errors for a DomainError."""
    return to_user_errors(error_type, codes, exc.errors, ctx.language)
