"""Turns an Authorization header into a principal: a person's access token or a station/third-party key."""

from __future__ import annotations

from sqlmodel import Session

from api.core.auth import Principal, Role
from api.core.errors import AccessDenied
from api.core.model import utcnow
from api.core.state import AppState
from api.identity import service, tokens
from api.identity.live import LiveSessions

LIVE_SESSIONS = "identity.live_sessions"


def authenticate(state: AppState, authorization: str, session: Session) -> Principal | None:
    """The principal for `Bearer <access token>` or `Bearer sk_...` / `ApiKey sk_...`."""
    scheme, _, credential = authorization.strip().partition(" ")
    credential = credential.strip()
    if scheme.lower() not in ("bearer", "apikey"):
        raise AccessDenied("Use `Authorization: Bearer <token>`.", code="UNAUTHENTICATED")
    if credential.startswith("sk_"):
        return _api_key(credential, session)
    if scheme.lower() == "apikey":
        raise AccessDenied("The API key is not valid.", code="UNAUTHENTICATED")
    return _access_token(state, credential, session)


def _access_token(state: AppState, token: str, session: Session) -> Principal:
    try:
        claims = tokens.read_access_token(state.settings.secret_key, token)
    except tokens.TokenInvalid as exc:
        raise AccessDenied(str(exc), code="UNAUTHENTICATED") from None
    # A signed-out or revoked session stops its access tokens at once: read by primary key, or known live
    # to this process (api/identity/live.py: revocations are heard, not waited out).
    live: LiveSessions | None = state.extras.get(LIVE_SESSIONS)
    account_id = live.get(claims.session_id) if live is not None else None
    if account_id is None:
        generation = live.generation() if live is not None else 0
        account_id = service.live_session_account(db_session=session, session_id=claims.session_id)
        if live is not None and account_id is not None:
            live.put(claims.session_id, account_id, generation)
    if account_id is None or account_id != claims.account_id:
        raise AccessDenied("This session has ended; sign in again.", code="UNAUTHENTICATED")
    attributes = dict(claims.attributes)
    attributes["session_id"] = claims.session_id
    return Principal(
        roles=frozenset(Role(r) for r in claims.roles if r in Role._value2member_map_),
        account_id=claims.account_id, display=f"account:{claims.account_id}", attributes=attributes,
    )


def _api_key(key: str, session: Session) -> Principal:
    invalid = AccessDenied("The API key is not valid, has expired or was revoked.", code="UNAUTHENTICATED")
    prefix = tokens.split_api_key(key)
    if prefix is None:
        raise invalid
    row = service.get_api_key_by_prefix(db_session=session, prefix=prefix)
    # Checked on every request, so a revoked key is refused immediately.
    if row is None or not tokens.same_hash(row.secret_hash, tokens.sha256(key)) or row.revoked_at is not None:
        raise invalid
    if row.expires_at is not None and row.expires_at <= utcnow():
        raise invalid
    role = Role.STATION if row.kind == "station" else Role.THIRD_PARTY
    return Principal(roles=frozenset({role}), api_key_id=row.id, scopes=frozenset(row.scopes),
                     display=f"api_key:{row.prefix}:{row.name}"[:200])
