"""How a domain plugs into the platform: its GraphQL roots, its demo seed, its jobs, its start-up hook."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class DomainPlugin:
    """One domain's contribution; listed in api/schema.py."""

    name: str
    query: type | None = None
    mutation: type | None = None
    subscription: type | None = None
    types: tuple[type, ...] = ()
    # (session, settings) -> None: demo data, idempotent.
    seed: Callable[..., Any] | None = None
    # (JobRegistry) -> None: registers scheduled jobs for `smartcity worker`.
    jobs: Callable[..., Any] | None = None
    # (AppState) -> None: e.g. register an authenticator.
    setup: Callable[..., Any] | None = None
    # (AppState) -> coroutine run as a task for the life of each API process (e.g. following bus events).
    background: Callable[..., Any] | None = None
    # Starlette routes the domain serves (media, console).
    routes: Callable[..., list[Any]] | None = None
    # Root query fields (GraphQL names) whose answers may be cached, with the data topics each reads, and
    # the bus channels whose events mean a topic changed (see api/core/gql/cache.py).
    cached_fields: dict[str, tuple[str, ...]] = field(default_factory=dict)
    change_channels: dict[str, str] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)
