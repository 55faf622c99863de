"""schema.graphql is the public contract: committed, and current."""

from __future__ import annotations

from pathlib import Path

from api.config import load_settings
from api.schema import build_schema

ROOT = Path(__file__).resolve().parents[2]


def test_committed_schema_matches_the_code() -> None:
    # given
    committed = (ROOT / "schema.graphql").read_text(encoding="utf-8")
    # when
    current = build_schema(load_settings()).as_str() + "\n"
    # then
    assert committed == current, "schema.graphql is stale: run `nox -s export-schema` and commit it"


def test_public_contract_names_are_present() -> None:
    sdl = (ROOT / "schema.graphql").read_text(encoding="utf-8")
    for name in ("administrativeUnits(", "type AdministrativeUnit implements Node", "validFrom", "validTo",
                 "children(", "parent: AdministrativeUnit", "node(", "nodes(", "rateLimit"):
        assert name in sdl, name
