"""The identity domain's place in the platform."""

from __future__ import annotations

from typing import Any

from api.core.plugin import DomainPlugin
from api.core.state import AppState
from api.identity import service
from api.identity.auth import LIVE_SESSIONS, authenticate
from api.identity.demo import seed_accounts
from api.identity.graphql.mutations import IdentityMutation
from api.identity.graphql.queries import IdentityQuery
from api.identity.live import LiveSessions


def seed_reference(session: Any, settings: Any) -> list[str]:
    """Loads the administrative units (reference data, needed in production too)."""
    changed = service.sync_administrative_units(db_session=session)
    return [f"administrative units: {changed} loaded or updated"] if changed else []


def setup(state: AppState) -> None:
    """Registers the authenticator for access tokens and API keys, with the process's live-session cache."""
    if authenticate not in state.authenticators:
        state.authenticators.append(authenticate)
    if LIVE_SESSIONS not in state.extras:
        state.extras[LIVE_SESSIONS] = LiveSessions(state.settings.session_check_cache_seconds, bus=state.bus)


async def follow_revocations(state: AppState) -> None:
    """Keeps the live-session cache in step with revocations made by other processes."""
    live = state.extras.get(LIVE_SESSIONS)
    if live is not None and live.ttl > 0:
        await live.follow(state.bus)


plugin = DomainPlugin(
    name="identity", query=IdentityQuery, mutation=IdentityMutation, setup=setup, seed=seed_accounts,
    background=follow_revocations, extra={"reference": seed_reference},
)
