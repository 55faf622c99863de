"""Relay connections with keyset cursors, generic over the node type."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Generic, TypeVar

import strawberry

from api.core.pagination import Page

T = TypeVar("T")


@strawberry.type(description="Where a page sits in its list.")
class PageInfo:
    has_next_page: bool
    has_previous_page: bool
    start_cursor: str | None
    end_cursor: str | None


@strawberry.type
class Edge(Generic[T]):
    cursor: str
    node: T


@strawberry.type(description="A page of a list: `first`/`last` (1..100) with `after`/`before` cursors.")
class Connection(Generic[T]):
    edges: list[Edge[T]]
    page_info: PageInfo
    _count: strawberry.Private[Callable[[], int] | None] = None

    @strawberry.field(description="The nodes of this page, without cursors.")
    def nodes(self) -> list[T]:
        return [edge.node for edge in self.edges]

    @strawberry.field(description="How many items match, capped at 10,000 (null where not offered).",
                      metadata={"cost": 1})
    def total_count(self) -> int | None:
        return self._count() if self._count is not None else None


def to_connection(page: Page[Any], convert: Callable[[Any], T]) -> Connection[T]:
    """Turns a page of rows into a connection of GraphQL nodes."""
    edges = [Edge(cursor=c, node=convert(r)) for r, c in zip(page.rows, page.cursors, strict=True)]
    return Connection(
        edges=edges,
        page_info=PageInfo(
            has_next_page=page.has_next,
            has_previous_page=page.has_previous,
            start_cursor=page.cursors[0] if page.cursors else None,
            end_cursor=page.cursors[-1] if page.cursors else None,
        ),
        _count=page.count,
    )
