"""Keyset pagination: cursors are the sort key plus the primary key, never OFFSET."""

from __future__ import annotations

import base64
import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import orjson
from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import InstrumentedAttribute
from sqlalchemy.sql import ColumnElement, Select
from sqlmodel import Session

from api.core.errors import DomainError

R = TypeVar("R")
MAX_PAGE = 100
COUNT_CAP = 10_000


@dataclass(frozen=True)
class SortKey:
    """One column of a keyset order; the last key must be unique (the primary key)."""

    column: InstrumentedAttribute[Any] | ColumnElement[Any]
    descending: bool = False


@dataclass
class Page(Generic[R]):
    """One page of rows with their cursors."""

    rows: list[R]
    cursors: list[str]
    has_next: bool
    has_previous: bool
    count: Callable[[], int] | None = None


def _encode_value(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return {"t": value.isoformat()}
    if isinstance(value, dt.date):
        return {"d": value.isoformat()}
    if hasattr(value, "value"):  # enums
        return value.value
    return value


def _decode_value(value: Any) -> Any:
    if isinstance(value, dict) and "t" in value:
        return dt.datetime.fromisoformat(value["t"])
    if isinstance(value, dict) and "d" in value:
        return dt.date.fromisoformat(value["d"])
    return value


def encode_cursor(values: Sequence[Any]) -> str:
    """An opaque cursor for a row's sort values."""
    return base64.urlsafe_b64encode(orjson.dumps([_encode_value(v) for v in values])).decode().rstrip("=")


def decode_cursor(cursor: str, width: int, field: str) -> list[Any]:
    """The sort values inside a cursor, or a clear error."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        values = orjson.loads(base64.urlsafe_b64decode(padded.encode()))
        if not isinstance(values, list) or len(values) != width:
            raise ValueError
        return [_decode_value(v) for v in values]
    except (ValueError, TypeError, orjson.JSONDecodeError):
        raise DomainError.single(
            "INVALID", "This cursor is not valid for this list.", field=field,
            message_vi="Con trỏ phân trang không hợp lệ cho danh sách này.",
        ) from None


def check_page_size(first: int | None, last: int | None) -> tuple[int, bool]:
    """The page size and direction (backwards for `last`), or a clear error."""
    if (first is None) == (last is None):
        raise DomainError.single(
            "REQUIRED", "Give exactly one of `first` or `last` (1 to 100).", field="first",
            message_vi="Cần đúng một trong `first` hoặc `last` (từ 1 đến 100).",
        )
    size = first if first is not None else last
    assert size is not None
    if not 1 <= size <= MAX_PAGE:
        name = "first" if first is not None else "last"
        raise DomainError.single(
            "INVALID", f"`{name}` must be between 1 and {MAX_PAGE}; got {size}.", field=name,
            message_vi=f"`{name}` phải từ 1 đến {MAX_PAGE}; nhận được {size}.",
        )
    return size, last is not None


def _after(keys: Sequence[SortKey], values: Sequence[Any], backwards: bool) -> Any:
    # Expanded row comparison (k1 > v1) OR (k1 = v1 AND k2 > v2) ...: works for mixed directions and
    # on both SQLite and PostgreSQL, and uses the composite index.
    clauses = []
    for i, key in enumerate(keys):
        equal = [keys[j].column == values[j] for j in range(i)]
        forward = key.descending == backwards
        step = key.column > values[i] if forward else key.column < values[i]
        clauses.append(and_(*equal, step))
    return or_(*clauses)


def paginate(
    session: Session,
    stmt: Select[Any],
    *,
    keys: Sequence[SortKey],
    first: int | None = None,
    after: str | None = None,
    last: int | None = None,
    before: str | None = None,
    counted: bool = True,
    rows: bool = False,
) -> Page[Any]:
    """Loads one page of `stmt` ordered by `keys`; `stmt` selects one entity (or, with `rows`, columns: the
    page holds plain rows)."""
    size, backwards = check_page_size(first, last)
    base = stmt
    cursor = before if backwards else after
    if cursor is not None:
        values = decode_cursor(cursor, len(keys), "before" if backwards else "after")
        stmt = stmt.where(_after(keys, values, backwards))
    order = []
    for key in keys:
        descending = key.descending != backwards
        order.append(key.column.desc() if descending else key.column.asc())
    ordered = stmt.order_by(*order).limit(size + 1)
    found = list(session.execute(ordered).all() if rows else session.scalars(ordered).unique())
    more = len(found) > size
    found = found[:size]
    if backwards:
        found.reverse()
    cursors = [encode_cursor([getattr(row, str(k.column.key)) for k in keys]) for row in found]

    def count() -> int:
        sub = base.order_by(None).limit(COUNT_CAP + 1).subquery()
        return min(session.scalar(select(func.count()).select_from(sub)) or 0, COUNT_CAP)

    return Page(
        rows=found,
        cursors=cursors,
        has_next=more if not backwards else before is not None,
        has_previous=more if backwards else after is not None,
        count=count if counted else None,
    )
