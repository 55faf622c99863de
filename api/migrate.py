"""Running Alembic from the CLI and tests, on the engine the platform uses."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine

ROOT = Path(__file__).resolve().parent.parent
# Tables owned by libraries (APScheduler's job store) are not ours to migrate.
FOREIGN_TABLES = {"apscheduler_jobs"}


def include_object(obj, name, type_, reflected, compare_to):  # noqa: ANN001, ANN201
    """Leaves library-owned tables out of autogenerate and its comparisons."""
    return not (type_ == "table" and name in FOREIGN_TABLES)


def alembic_config(engine: Engine | None = None) -> Config:
    """An Alembic config pointing at migrations/, optionally bound to an engine's connection."""
    config = Config(str(ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(ROOT / "migrations"))
    config.attributes["engine"] = engine
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Upgrades the database to a revision."""
    with engine.begin() as connection:
        config = alembic_config(engine)
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


def downgrade(engine: Engine, revision: str = "base") -> None:
    """Downgrades the database to a revision."""
    with engine.begin() as connection:
        config = alembic_config(engine)
        config.attributes["connection"] = connection
        command.downgrade(config, revision)
