"""Storing and loading identity records."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from sqlalchemy import and_, or_, select
from sqlalchemy.sql import Select
from sqlmodel import Session

from api.identity.models import AdministrativeUnit, unit_row_values

UNITS_FILE = Path(__file__).parent / "data" / "administrative_units.json"


def load_unit_file(path: Path = UNITS_FILE) -> list[dict[str, Any]]:
    """The administrative units of the reference data file, parents before children."""
    units = json.loads(path.read_text(encoding="utf-8"))["units"]
    by_code = {u["code"]: u for u in units}
    ordered: list[dict[str, Any]] = []
    seen: set[str] = set()

    def visit(unit: dict[str, Any]) -> None:
        if unit["code"] in seen:
            return
        parent = unit.get("parent_code")
        if parent and parent in by_code:
            visit(by_code[parent])
        seen.add(unit["code"])
        ordered.append(unit)

    for unit in units:
        visit(unit)
    return ordered


def sync_administrative_units(*, db_session: Session, path: Path = UNITS_FILE) -> int:
    """Inserts or updates units from the reference data file; returns how many changed."""
    existing = {u.code: u for u in db_session.scalars(select(AdministrativeUnit))}
    changed = 0
    for entry in load_unit_file(path):
        values = unit_row_values(entry)
        parent_code = entry.get("parent_code")
        values["parent_id"] = existing[parent_code].id if parent_code in existing else None
        row = existing.get(entry["code"])
        if row is None:
            row = AdministrativeUnit(**values)
            db_session.add(row)
            changed += 1
        elif any(getattr(row, k) != v for k, v in values.items()):
            for key, value in values.items():
                setattr(row, key, value)
            changed += 1
        db_session.flush()
        existing[row.code] = row
    return changed


def get_units(*, db_session: Session, unit_ids: Sequence[int]) -> list[AdministrativeUnit]:
    """Gets administrative units by their ids."""
    if not unit_ids:
        return []
    return list(db_session.scalars(select(AdministrativeUnit).where(AdministrativeUnit.id.in_(unit_ids))))


def get_unit_by_code(*, db_session: Session, code: str) -> AdministrativeUnit | None:
    """Gets an administrative unit by its code."""
    return db_session.scalars(select(AdministrativeUnit).where(AdministrativeUnit.code == code)).first()


def units_query(
    *,
    level: str | None = None,
    parent_id: int | None = None,
    valid_on: dt.date | None = None,
    name_contains: str | None = None,
    code: str | None = None,
) -> Select[Any]:
    """The statement selecting units that match a filter."""
    stmt = select(AdministrativeUnit)
    if level is not None:
        stmt = stmt.where(AdministrativeUnit.level == level)
    if parent_id is not None:
        stmt = stmt.where(AdministrativeUnit.parent_id == parent_id)
    if code is not None:
        stmt = stmt.where(or_(AdministrativeUnit.code == code, AdministrativeUnit.official_code == code))
    if valid_on is not None:
        stmt = stmt.where(
            and_(
                or_(AdministrativeUnit.valid_from.is_(None), AdministrativeUnit.valid_from <= valid_on),
                or_(AdministrativeUnit.valid_to.is_(None), AdministrativeUnit.valid_to >= valid_on),
            )
        )
    if name_contains:
        pattern = f"%{name_contains.strip().lower()}%"
        stmt = stmt.where(
            or_(AdministrativeUnit.name.ilike(pattern), AdministrativeUnit.name_en.ilike(pattern))
        )
    return stmt
