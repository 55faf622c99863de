"""Passwords (argon2id), access tokens (JWT), refresh tokens and API key secrets."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
from collections import OrderedDict
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

# argon2id at OWASP's first recommended setting (19 MiB, 2 passes, 1 lane): about 18 ms per verify on
# this 2-core machine (bench/bench_identity.py), slow enough for offline guessing, fast enough that a
# sign-in burst does not starve the event loop.
ARGON2_TIME_COST = 2
ARGON2_MEMORY_KIB = 19 * 1024
ARGON2_PARALLELISM = 1
JWT_ALGORITHM = "HS256"
ISSUER = "smartcity"


@lru_cache(maxsize=1)
def hasher() -> PasswordHasher:
    """The process's argon2id hasher."""
    return PasswordHasher(time_cost=ARGON2_TIME_COST, memory_cost=ARGON2_MEMORY_KIB, parallelism=ARGON2_PARALLELISM)


def hash_password(password: str) -> str:
    """An argon2id hash of a password."""
    return hasher().hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    """Whether the password matches the hash (constant-time inside argon2)."""
    try:
        return hasher().verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


@lru_cache(maxsize=1)
def dummy_hash() -> str:
    """A hash to verify against when no account matches, so timing does not reveal whether one exists."""
    return hash_password(secrets.token_urlsafe(16))


@dataclass(frozen=True)
class AccessClaims:
    """What an access token says about its bearer."""

    account_id: int
    session_id: str
    roles: tuple[str, ...]
    attributes: dict[str, Any]
    expires_at: dt.datetime


def issue_access_token(
    secret: str, *, account_id: int, session_id: str, roles: list[str], attributes: dict[str, Any],
    ttl_seconds: int, now: dt.datetime,
) -> tuple[str, dt.datetime]:
    """A signed, short-lived access token and its expiry."""
    expires = now + dt.timedelta(seconds=ttl_seconds)
    claims = {
        "iss": ISSUER, "sub": str(account_id), "sid": session_id, "roles": roles, "attr": attributes,
        "iat": int(now.timestamp()), "exp": int(expires.timestamp()), "typ": "access",
    }
    return jwt.encode(claims, secret, algorithm=JWT_ALGORITHM), expires


class TokenInvalid(Exception):
    """The token is expired, tampered with, or not an access token."""


_VERIFIED: OrderedDict[tuple[str, str], AccessClaims] = OrderedDict()
_VERIFIED_KEPT = 10_000


def read_access_token(secret: str, token: str) -> AccessClaims:
    """Verifies an access token's signature and expiry and returns its claims.

    A token is immutable, so its signature is checked once per process and the claims remembered (a phone
    sends the same token for up to 15 minutes); the expiry is checked on every use, and whether its session
    still stands is the caller's check, on every request."""
    known = _VERIFIED.get((secret, token))
    if known is not None:
        if known.expires_at <= dt.datetime.now(dt.UTC):
            del _VERIFIED[(secret, token)]
            raise TokenInvalid("The access token has expired; refresh it.")
        return known
    claims = _verify(secret, token)
    _VERIFIED[(secret, token)] = claims
    if len(_VERIFIED) > _VERIFIED_KEPT:
        _VERIFIED.popitem(last=False)
    return claims


def _verify(secret: str, token: str) -> AccessClaims:
    try:
        claims = jwt.decode(
            token, secret, algorithms=[JWT_ALGORITHM], issuer=ISSUER,
            options={"require": ["exp", "iat", "sub", "sid"]},
        )
    except jwt.ExpiredSignatureError:
        raise TokenInvalid("The access token has expired; refresh it.") from None
    except jwt.PyJWTError:
        raise TokenInvalid("The access token is not valid.") from None
    if claims.get("typ") != "access":
        raise TokenInvalid("The access token is not valid.")
    return AccessClaims(
        account_id=int(claims["sub"]), session_id=str(claims["sid"]), roles=tuple(claims.get("roles", ())),
        attributes=dict(claims.get("attr") or {}), expires_at=dt.datetime.fromtimestamp(claims["exp"], dt.UTC),
    )


def new_refresh_token() -> tuple[str, str]:
    """A refresh token for the client and the hash we keep."""
    token = "rt_" + secrets.token_urlsafe(32)
    return token, sha256(token)


def new_api_key() -> tuple[str, str, str]:
    """An API key (`sk_<prefix>_<secret>`), its public prefix, and the hash we keep."""
    prefix = secrets.token_hex(6)
    key = f"sk_{prefix}_{secrets.token_urlsafe(32)}"
    return key, prefix, sha256(key)


def split_api_key(key: str) -> str | None:
    """The prefix of a well-formed API key, else None."""
    parts = key.split("_", 2)
    if len(parts) != 3 or parts[0] != "sk" or len(parts[1]) != 12:
        return None
    return parts[1]


def sha256(value: str) -> str:
    """Hex SHA-256; enough for high-entropy secrets, which need no slow hash."""
    return hashlib.sha256(value.encode()).hexdigest()


def same_hash(a: str, b: str) -> bool:
    """Constant-time comparison."""
    return hmac.compare_digest(a, b)


def new_session_id() -> str:
    """An id for a signed-in session."""
    return secrets.token_hex(16)
