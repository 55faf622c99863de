"""Personal-data fields: classified in the schema, refused to keys without the grant, every staff or key
read recorded in the audit log before the response leaves."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from strawberry.extensions import FieldExtension, SchemaExtension

from api.core.audit import AuditTrail
from api.core.auth import Role
from api.core.errors import AccessDenied

PERSONAL_DATA_SCOPE = "personal_data:read"
MARK = "[personal data] "


class PersonalData(FieldExtension):
    """Marks a field as personal data; the parent object gives `audit_subject() -> (type, id, owner)`."""

    def resolve(self, next_: Any, source: Any, info: Any, **kwargs: Any) -> Any:
        value = next_(source, info, **kwargs)
        if value is None:
            return None
        principal = info.context.principal
        subject_type, subject_id, owner = source.audit_subject()
        if principal.account_id is not None and principal.account_id == owner:
            return value  # your own data
        if principal.has(Role.THIRD_PARTY, Role.STATION) and PERSONAL_DATA_SCOPE not in principal.scopes:
            raise AccessDenied("This key is not granted personal data.")
        info.context.audit_trail().note(subject_type, subject_id, info.field_name)
        return value


def personal_data() -> list[FieldExtension]:
    """Extensions for a personal-data field."""
    return [PersonalData()]


class AuditFlush(SchemaExtension):
    """Writes the request's personal-data reads in their own transaction before the response is sent."""

    def on_operation(self) -> Iterator[None]:
        yield
        context = self.execution_context.context
        trail: AuditTrail | None = getattr(context, "_audit", None)
        if trail is None or not trail.reads:
            return
        with context.state.db.transaction() as session:
            trail.flush(session)
