"""The process-wide services a request or job reaches through its context."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlmodel import Session

from api.config import Settings
from api.core.auth import ANONYMOUS, Principal
from api.core.budget import CostBudget, RedisCostBudget
from api.core.bus import EventBus
from api.db import Database

if TYPE_CHECKING:
    from api.core.gql.cache import ResultCache

# (state, authorization header, session) -> Principal, or None when the credential is not its kind.
Authenticator = Callable[["AppState", str, Session], Principal | None]


@dataclass
class AppState:
    """Settings, database, bus and the hooks domains register; one per process."""

    settings: Settings
    db: Database
    bus: EventBus
    budget: CostBudget | RedisCostBudget
    result_cache: ResultCache | None = None
    authenticators: list[Authenticator] = field(default_factory=list)
    extras: dict[str, Any] = field(default_factory=dict)

    def authenticate(self, authorization: str | None, session: Session) -> Principal:
        """The principal for an Authorization header (anonymous when absent)."""
        if not authorization:
            return ANONYMOUS
        for authenticate in self.authenticators:
            principal = authenticate(self, authorization, session)
            if principal is not None:
                return principal
        from api.core.errors import AccessDenied

        raise AccessDenied("The credential is not valid or has expired.", code="UNAUTHENTICATED")
