"""The identity domain's place in the platform."""

from __future__ import annotations

from typing import Any

from api.core.plugin import DomainPlugin
from api.identity import service
from api.identity.graphql.queries import IdentityQuery


def seed_reference(session: Any, settings: Any) -> list[str]:
    """Loads the administrative units (reference data, needed in production too)."""
    changed = service.sync_administrative_units(db_session=session)
    return [f"administrative units: {changed} loaded or updated"] if changed else []


plugin = DomainPlugin(name="identity", query=IdentityQuery, extra={"reference": seed_reference})
