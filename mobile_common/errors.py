"""What can go wrong talking to the platform, as types the apps can tell apart."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


class ClientError(Exception):
    """Anything the client could not get a usable answer for."""


class NetworkError(ClientError):
    """No answer, a timeout or a 5xx: worth retrying later with the same request."""


class AuthError(ClientError):
    """The session is gone (401 and the refresh failed): the person must sign in again."""


@dataclass
class GraphQLError(ClientError):
    """The server answered with top-level `errors` (a bug or a refused request), not worth retrying as is."""

    errors: list[dict[str, Any]] = field(default_factory=list)
    status: int = 200

    def __post_init__(self) -> None:
        super().__init__(self.message)

    @property
    def message(self) -> str:
        """The first error's message."""
        return str(self.errors[0].get("message", "")) if self.errors else f"HTTP {self.status}"

    @property
    def code(self) -> str | None:
        """The first error's `extensions.code`, if any."""
        if not self.errors:
            return None
        return (self.errors[0].get("extensions") or {}).get("code")
