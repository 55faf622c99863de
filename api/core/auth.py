"""Who is calling: the principal every resolver checks, and the roles of the platform."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field


class Role(enum.StrEnum):
    """Roles from shared/reference/graphql-api.md; 'anonymous' is the absence of a credential."""

    ANONYMOUS = "anonymous"
    CITIZEN = "citizen"
    ORGANISATION = "organisation"
    OFFICER = "officer"
    POLICE = "police"
    DISPATCHER = "dispatcher"
    RESPONDER = "responder"
    HOTEL_CLERK = "hotel_clerk"
    STATION = "station"
    THIRD_PARTY = "third_party"
    ADMIN = "admin"


# Roles of people (signed in with an account), as opposed to keys.
PEOPLE = (
    Role.CITIZEN, Role.ORGANISATION, Role.OFFICER, Role.POLICE, Role.DISPATCHER, Role.RESPONDER,
    Role.HOTEL_CLERK, Role.ADMIN,
)
STAFF_ROLES = frozenset({Role.OFFICER, Role.POLICE, Role.DISPATCHER, Role.RESPONDER, Role.HOTEL_CLERK, Role.ADMIN})


@dataclass(frozen=True)
class Principal:
    """The authenticated caller of one request or websocket connection."""

    roles: frozenset[Role] = frozenset({Role.ANONYMOUS})
    account_id: int | None = None
    api_key_id: int | None = None
    scopes: frozenset[str] = frozenset()
    display: str = "anonymous"
    # Where a staff member works: an agency's unit code, a responder unit id, a lodging facility id.
    attributes: dict[str, str | int | None] = field(default_factory=dict, hash=False, compare=False)

    @property
    def is_anonymous(self) -> bool:
        """Whether no credential was given."""
        return self.account_id is None and self.api_key_id is None

    @property
    def is_staff(self) -> bool:
        """Whether the caller holds any staff role."""
        return bool(self.roles & STAFF_ROLES)

    def has(self, *roles: Role) -> bool:
        """Whether the caller holds one of these roles."""
        return bool(self.roles.intersection(roles))

    @property
    def budget_key(self) -> str:
        """The key of this caller's query-cost budget."""
        if self.api_key_id is not None:
            return f"key:{self.api_key_id}"
        if self.account_id is not None:
            return f"account:{self.account_id}"
        return "anonymous"


ANONYMOUS = Principal()
