"""hotline idempotency: a call logged once per operator and client key

Revision ID: 5c1e0a7d9b2f
Revises: 248d22c9e538
Create Date: 2026-11-25 13:00:00

The operations console sends a key with every call it logs, reused when it retries; a double submit or a
retried request returns the first result instead of opening a second incident. Additive: two nullable
columns and a unique index (existing calls have no key, and NULL keys never collide).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "5c1e0a7d9b2f"
down_revision: str | None = "248d22c9e538"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("hotline_call") as batch:
        batch.add_column(sa.Column("idempotency_key", sa.String(length=100), nullable=True))
        batch.add_column(sa.Column("request_hash", sa.String(length=64), nullable=True))
        batch.create_index("ux_hotline_call_operator_key", ["operator_account_id", "idempotency_key"], unique=True)


def downgrade() -> None:
    with op.batch_alter_table("hotline_call") as batch:
        batch.drop_index("ux_hotline_call_operator_key")
        batch.drop_column("request_hash")
        batch.drop_column("idempotency_key")
