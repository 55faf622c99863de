"""Demo data for a fresh clone: every domain's seed, idempotent."""

from __future__ import annotations

from api.config import Settings


def seed_demo(settings: Settings) -> list[str]:
    """Seeds every domain's demo data; returns lines telling a newcomer what to try."""
    from api.db import Database
    from api.schema import DOMAINS

    database = Database.from_settings(settings)
    lines: list[str] = []
    with database.transaction() as session:
        for domain in DOMAINS:
            if domain.seed is not None:
                lines.extend(domain.seed(session, settings) or [])
    database.dispose()
    lines.append("")
    lines.append("Try: { administrativeUnits(first: 5) { edges { node { id name level validFrom validTo } } } }")
    return lines
