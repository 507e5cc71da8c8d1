"""forces by parent

A load empties the forces before it writes them again, and every force deleted is checked
against the forces that name it as their parent: without an index on ``parent_id`` each check
read every force, so emptying them took time in the square of their number (at 1000x, 6.9 s of
every reload; at 10000x, more than ten minutes).

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02 23:20:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_forces_parent_id", "forces", ["parent_id"])


def downgrade() -> None:
    op.drop_index("ix_forces_parent_id", table_name="forces")
