"""The identity domain's place in the platform."""

from __future__ import annotations

from typing import Any

from api.core.plugin import DomainPlugin
from api.core.state import AppState
from api.identity import service
from api.identity.auth import authenticate
from api.identity.demo import seed_accounts
from api.identity.graphql.mutations import IdentityMutation
from api.identity.graphql.queries import IdentityQuery


def seed_reference(session: Any, settings: Any) -> list[str]:
    """Loads the administrative units (reference data, needed in production too)."""
    changed = service.sync_administrative_units(db_session=session)
    return [f"administrative units: {changed} loaded or updated"] if changed else []


def setup(state: AppState) -> None:
    """Registers the authenticator for access tokens and API keys."""
    if authenticate not in state.authenticators:
        state.authenticators.append(authenticate)


plugin = DomainPlugin(
    name="identity", query=IdentityQuery, mutation=IdentityMutation, setup=setup, seed=seed_accounts,
    extra={"reference": seed_reference},
)
