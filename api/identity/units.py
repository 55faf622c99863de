"""Administrative units as reference data: levels, validity dates, successors after the 2025 reform.

Read once from ``data/administrative_units.json`` on first use and cached; no database, no network.
"""

from __future__ import annotations

import datetime as dt
import enum
import functools
from collections.abc import Mapping
from dataclasses import dataclass

from api.identity.rules import _read_json


class UnitLevel(enum.StrEnum):
    """Tier of an administrative unit; DISTRICT exists only before 1 July 2025."""

    PROVINCE = "PROVINCE"
    DISTRICT = "DISTRICT"
    SPECIAL_ZONE = "SPECIAL_ZONE"
    WARD = "WARD"
    COMMUNE = "COMMUNE"


@dataclass(frozen=True)
class AdministrativeUnit:
    """A province, district, special zone, ward or commune over the dates it existed (both inclusive)."""

    # Unique in the table. The statistics office reused official codes in the 2025 reform (91 was Kiên
    # Giang and is now An Giang), so an ended unit whose code was taken over is keyed "<official>@<last day>".
    code: str
    official_code: str
    name: str
    name_en: str
    level: UnitLevel
    parent_code: str | None
    valid_from: dt.date | None
    valid_to: dt.date | None
    successor_codes: tuple[str, ...] = ()
    code_note: str | None = None
    note: str | None = None


def _date_or_none(value: str | None) -> dt.date | None:
    return dt.date.fromisoformat(value) if value else None


@functools.cache
def administrative_units() -> tuple[AdministrativeUnit, ...]:
    """The administrative units reference table, with validity dates."""
    return tuple(
        AdministrativeUnit(
            code=raw["code"],
            official_code=raw.get("official_code") or raw["code"],
            name=raw["name"],
            name_en=raw["name_en"],
            level=UnitLevel(raw["level"]),
            parent_code=raw.get("parent_code"),
            valid_from=_date_or_none(raw.get("valid_from")),
            valid_to=_date_or_none(raw.get("valid_to")),
            successor_codes=tuple(raw.get("successor_codes") or ()),
            code_note=raw.get("code_note"),
            note=raw.get("note"),
        )
        for raw in _read_json("administrative_units.json")["units"]
    )


@functools.cache
def _units_by_code() -> Mapping[str, AdministrativeUnit]:
    return {unit.code: unit for unit in administrative_units()}


def unit_valid_on(unit: AdministrativeUnit, day: dt.date) -> bool:
    """Whether the unit existed on that day."""
    return (unit.valid_from is None or unit.valid_from <= day) and (
        unit.valid_to is None or day <= unit.valid_to
    )


def unit_by_code(code: str) -> AdministrativeUnit | None:
    """The unit with this table code (which parent_code and successor_codes refer to)."""
    return _units_by_code().get(code)


def find_unit(official_code: str, *, on: dt.date) -> AdministrativeUnit | None:
    """The unit that carried this official statistics-office code on that day, if any."""
    return next(
        (u for u in administrative_units() if u.official_code == official_code and unit_valid_on(u, on)), None
    )


def parent_unit(unit: AdministrativeUnit) -> AdministrativeUnit | None:
    """The unit's parent on the unit's last valid day."""
    return unit_by_code(unit.parent_code) if unit.parent_code else None


def successor_units(unit: AdministrativeUnit) -> tuple[AdministrativeUnit, ...]:
    """The units that took over this one's territory."""
    found = (unit_by_code(code) for code in unit.successor_codes)
    return tuple(u for u in found if u is not None)
