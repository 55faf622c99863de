"""Leases in the database, so several worker processes never run the same job at once."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import insert, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Field, Session, SQLModel

from api.core.model import UTCDateTime, utcnow


class JobLease(SQLModel, table=True):
    """Who runs a named job now, and until when the claim holds."""

    __tablename__ = "job_lease"

    name: str = Field(primary_key=True, max_length=100)
    holder: str = Field(max_length=100)
    expires_at: dt.datetime = Field(sa_type=UTCDateTime)
    runs: int = Field(default=0)


def acquire(session: Session, name: str, holder: str, ttl: dt.timedelta) -> bool:
    """Claims the lease if it is free or expired (or already ours); commits on its own connection."""
    now = utcnow()
    table = JobLease.__table__
    result = session.execute(
        update(table)
        .where(table.c.name == name)
        .where((table.c.expires_at < now) | (table.c.holder == holder))
        .values(holder=holder, expires_at=now + ttl, runs=table.c.runs + 1)
    )
    if result.rowcount == 1:
        session.commit()
        return True
    try:
        session.execute(insert(table).values(name=name, holder=holder, expires_at=now + ttl, runs=1))
        session.commit()
        return True
    except IntegrityError:
        session.rollback()
        return False


def release(session: Session, name: str, holder: str) -> None:
    """Frees the lease if we still hold it."""
    table = JobLease.__table__
    session.execute(
        update(table).where(table.c.name == name).where(table.c.holder == holder)
        .values(expires_at=utcnow() - dt.timedelta(seconds=1))
    )
    session.commit()
