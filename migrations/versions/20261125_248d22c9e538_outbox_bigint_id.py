"""outbox bigint id: outbox_message.id (and its sequence) 64-bit on PostgreSQL

Revision ID: 248d22c9e538
Revises: 06f21dbe9de5
Create Date: 2026-11-25 12:25:36.583094

A fan-out of 100,000 pushes uses 100,000 ids: a 32-bit sequence (2,147,483,647) lasts about a month at
a fan-out an hour. On PostgreSQL the column, its SERIAL sequence (created AS integer, so it would stop
at 2^31 - 1 even behind a BIGINT column) and any foreign-key column pointing at it become BIGINT.
`ALTER COLUMN ... TYPE` rewrites the table under an exclusive lock: quick on an outbox kept short by
`push.prune_outbox`, but run it while the workers are stopped. SQLite: nothing to do, INTEGER PRIMARY
KEY is already a 64-bit rowid. Downgrading fails (and changes nothing) once an id exceeds 2^31 - 1.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '248d22c9e538'
down_revision: str | None = '06f21dbe9de5'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Columns of other tables with a foreign key to outbox_message (none in the platform's own schema at
# this revision; a deployment's additions are converted with it).
_REFERRERS = sa.text(
    "SELECT c.conrelid::regclass::text, quote_ident(a.attname) FROM pg_constraint c"
    " JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = ANY (c.conkey)"
    " WHERE c.contype = 'f' AND c.confrelid = 'outbox_message'::regclass ORDER BY 1, 2"
)


def _set_type(type_name: str) -> None:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    sequence = bind.execute(sa.text("SELECT pg_get_serial_sequence('outbox_message', 'id')")).scalar()
    op.execute(f"ALTER TABLE outbox_message ALTER COLUMN id TYPE {type_name}")
    for table, column in bind.execute(_REFERRERS).all():
        op.execute(f"ALTER TABLE {table} ALTER COLUMN {column} TYPE {type_name}")
    if sequence:
        # AS changes the sequence's MAXVALUE with it when it was the old type's maximum.
        op.execute(f"ALTER SEQUENCE {sequence} AS {type_name}")


def upgrade() -> None:
    _set_type("BIGINT")


def downgrade() -> None:
    _set_type("INTEGER")
