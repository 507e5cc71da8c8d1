"""no index of the facts' date

Since the days of ``from`` and ``to`` are asked of ``date_key`` (the column the date order's
indexes begin with), no statement reads ``ix_facts_date``: a load only wrote it.

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-07 12:20:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.drop_index("ix_facts_date", table_name="facts")


def downgrade() -> None:
    op.create_index("ix_facts_date", "facts", ["date"])
