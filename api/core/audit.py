"""Audit of personal-data reads: who read which fields of which record, when, and why."""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import JSON, Column, Index, insert
from sqlmodel import Field, Session, SQLModel

from api.core.auth import Principal
from api.core.model import UTCDateTime, utcnow

log = logging.getLogger(__name__)


class AuditRecord(SQLModel, table=True):
    """One read (or change) of personal data by staff or an API key."""

    __tablename__ = "audit_record"
    __table_args__ = (
        Index("ix_audit_record_subject", "subject_type", "subject_id"),
        Index("ix_audit_record_actor", "actor_account_id", "at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)
    actor_account_id: int | None = Field(default=None)
    actor_api_key_id: int | None = Field(default=None)
    actor: str = Field(max_length=200, description="who, as shown to the auditor")
    action: str = Field(default="read", max_length=20)
    subject_type: str = Field(max_length=40)
    subject_id: str = Field(max_length=64)
    fields: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    purpose: str = Field(max_length=200, description="why: the caller's stated purpose or the operation")
    request_id: str | None = Field(default=None, max_length=64)


@dataclass
class AuditTrail:
    """Personal-data reads noted during one request, written together before the response leaves."""

    principal: Principal
    request_id: str
    purpose: str = ""
    reads: dict[tuple[str, str], set[str]] = field(default_factory=dict)

    def note(self, subject_type: str, subject_id: object, field_name: str) -> None:
        """Notes that a personal-data field of a record was read."""
        self.reads.setdefault((subject_type, str(subject_id)), set()).add(field_name)

    def flush(self, session: Session) -> int:
        """Writes the noted reads in one statement; the caller commits."""
        # Plain dicts for the INSERT: building (and validating, then dumping) one AuditRecord model per row
        # cost more than the statement itself on a 50-row page of personal data.
        at = utcnow()
        principal = self.principal
        purpose = self.purpose[:200] or "unspecified"
        rows = [
            {"at": at, "actor_account_id": principal.account_id, "actor_api_key_id": principal.api_key_id,
             "actor": principal.display, "action": "read", "subject_type": subject_type, "subject_id": subject_id,
             "fields": sorted(fields), "purpose": purpose, "request_id": self.request_id}
            for (subject_type, subject_id), fields in sorted(self.reads.items())
        ]
        if rows:
            if session.get_bind().dialect.name == "postgresql":
                _copy(session, rows)
            else:
                # One executemany, not one INSERT per record read.
                session.execute(insert(AuditRecord.__table__), rows)  # type: ignore[attr-defined]
        self.reads.clear()
        return len(rows)


_COLUMNS = ("at", "actor_account_id", "actor_api_key_id", "actor", "action", "subject_type", "subject_id", "fields",
            "purpose", "request_id")


def _copy(session: Session, rows: list[dict[str, Any]]) -> None:
    """PostgreSQL COPY: a page of 50 personal-data reads costs a third of the CPU of an executemany (measured
    0.40 against 1.1 ms with its transaction), and audited pages are the most read pages of the console."""
    from psycopg.types.json import Json

    raw: Any = session.connection().connection.driver_connection
    with raw.cursor() as cursor, cursor.copy(f"COPY audit_record ({', '.join(_COLUMNS)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row([Json(row[c]) if c == "fields" else row[c] for c in _COLUMNS])
