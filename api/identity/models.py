"""Identity tables: administrative units (reference data with validity dates)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Column, Index
from sqlmodel import Field, SQLModel

import api.core.model  # noqa: F401  (naming convention before any table)
from api.identity.rules import UnitLevel

__all__ = ["AdministrativeUnit", "UnitLevel"]


class AdministrativeUnit(SQLModel, table=True):
    """A province, district, special zone, ward or commune, valid between two dates."""

    __tablename__ = "administrative_unit"
    __table_args__ = (Index("ix_administrative_unit_parent_code", "parent_id", "code"),)

    id: int | None = Field(default=None, primary_key=True)
    # `code` is unique for all time; the statistics office reused some official codes on 1 July 2025
    # (e.g. 91 was Kiên Giang, now An Giang), so ended units carry `<official>@<last day>`.
    code: str = Field(max_length=32, unique=True, description="unique key of the unit")
    official_code: str = Field(max_length=16, index=True, description="the statistics office's code")
    name: str = Field(max_length=200, description="Vietnamese name with diacritics")
    name_en: str = Field(max_length=200)
    level: str = Field(max_length=16, index=True)
    parent_id: int | None = Field(default=None, foreign_key="administrative_unit.id")
    valid_from: dt.date | None = Field(default=None)
    valid_to: dt.date | None = Field(default=None, description="last day it existed; null while current")
    successor_codes: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    source: str | None = Field(default=None, max_length=500)

    def valid_on(self, day: dt.date) -> bool:
        """Whether the unit existed on that day."""
        return (self.valid_from is None or self.valid_from <= day) and (
            self.valid_to is None or day <= self.valid_to
        )


def unit_row_values(unit: dict[str, Any]) -> dict[str, Any]:
    """Column values from one entry of the reference data file."""

    def day(value: str | None) -> dt.date | None:
        return dt.date.fromisoformat(value) if value else None

    return {
        "code": unit["code"],
        "official_code": unit.get("official_code") or unit["code"],
        "name": unit["name"],
        "name_en": unit.get("name_en") or unit["name"],
        "level": unit["level"],
        "valid_from": day(unit.get("valid_from")),
        "valid_to": day(unit.get("valid_to")),
        "successor_codes": list(unit.get("successor_codes") or []),
        "source": (unit.get("code_note") or None),
    }
