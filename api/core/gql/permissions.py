"""Permissions declared on every entry point; the authorisation matrix test reads these declarations."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from strawberry.extensions import FieldExtension

from api.core.auth import Principal, Role
from api.core.errors import AccessDenied


class Allow(FieldExtension):
    """Lets a field run only for the given roles (a third-party or station key also needs its scope)."""

    def __init__(self, roles: Iterable[Role], *, public: bool = False, scope: str | None = None) -> None:
        self.roles = frozenset(roles)
        self.public = public
        self.scope = scope

    def permits(self, principal: Principal) -> bool:
        """Whether this principal may use the field."""
        if self.public:
            return True
        allowed = principal.roles & self.roles
        if not allowed:
            return False
        if allowed <= {Role.THIRD_PARTY, Role.STATION} and self.scope is not None:
            return self.scope in principal.scopes
        return True

    def check(self, principal: Principal) -> None:
        """Raises AccessDenied when the principal may not use the field."""
        if self.permits(principal):
            return
        if principal.is_anonymous:
            raise AccessDenied("Sign in to do this.", code="UNAUTHENTICATED")
        raise AccessDenied()

    def resolve(self, next_: Any, source: Any, info: Any, **kwargs: Any) -> Any:
        self.check(info.context.principal)
        return next_(source, info, **kwargs)

    async def resolve_async(self, next_: Any, source: Any, info: Any, **kwargs: Any) -> Any:
        self.check(info.context.principal)
        result = next_(source, info, **kwargs)
        if hasattr(result, "__await__"):
            return await result
        return result


def allow(*roles: Role, scope: str | None = None) -> list[FieldExtension]:
    """Extensions for a field that these roles may use."""
    return [Allow(roles, scope=scope)]


def public() -> list[FieldExtension]:
    """Extensions for a field anyone may use, signed in or not."""
    return [Allow((), public=True)]


def declared_permission(field: Any) -> Allow | None:
    """The Allow declaration of a strawberry field, if it has one."""
    for extension in getattr(field, "extensions", None) or ():
        if isinstance(extension, Allow):
            return extension
    return None
