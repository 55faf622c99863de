"""Incident categories as the app shows them: icon glyph, colour, and the emergency number to offer."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class CategoryLook:
    """How a category appears on the report screen."""

    code: str
    icon: str  # a glyph of DejaVu Sans (shipped with Kivy), so no image files are needed
    colour: tuple[float, float, float, float]
    call: tuple[str, ...] = ()  # emergency numbers, most relevant first


RED = (0.80, 0.16, 0.16, 1)
ORANGE = (0.90, 0.45, 0.10, 1)
BLUE = (0.13, 0.40, 0.75, 1)
GREEN = (0.18, 0.55, 0.30, 1)
GREY = (0.40, 0.42, 0.46, 1)

CATEGORIES: tuple[CategoryLook, ...] = (
    CategoryLook("TRAFFIC_ACCIDENT", "⚠", ORANGE, ("115", "113")),
    CategoryLook("FIRE", "♨", RED, ("114",)),
    CategoryLook("MEDICAL", "✚", RED, ("115",)),
    CategoryLook("THEFT", "⚷", BLUE, ("113",)),
    CategoryLook("PUBLIC_ORDER", "⚖", BLUE, ("113",)),
    CategoryLook("TOURIST_COMPLAINT", "✈", GREEN),
    CategoryLook("ENVIRONMENT", "♻", GREEN),
    CategoryLook("INFRASTRUCTURE", "⚒", GREY),
    CategoryLook("OTHER", "⚑", GREY),
)
BY_CODE = {c.code: c for c in CATEGORIES}


def look(code: str) -> CategoryLook:
    """The look of a category (OTHER's for an unknown code)."""
    return BY_CODE.get(code, BY_CODE["OTHER"])


def emergency_numbers(code: str | None) -> tuple[str, ...]:
    """113 police, 114 fire, 115 ambulance: which to offer for this category (none when not urgent)."""
    return look(code).call if code else ()
