"""posture keys

What the posture asks of every request, by index rather than by reading every row: its default
day, the newest report (``max(facts.reported_on)``), and its page of waves in status order, by a
``status_rank`` that the load renders (app/services/posture.py). At 1000x the two were a scan of
58,000 facts and a sort of 5,000 waves' documents for each uncached page.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02 06:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The statuses in the posture's order as of this revision (WaveStatus); the next load renders the
# rank from the code, so this only fills the rows already loaded.
STATUS_RANK = (
    "CASE status WHEN 'in_place' THEN 0 WHEN 'ordered' THEN 1 WHEN 'requested' THEN 2 "
    "WHEN 'possible' THEN 3 WHEN 'expected' THEN 4 END"
)


def upgrade() -> None:
    # In place, not in a batch: a batch copies the table, which fails once wave_members' rows
    # refer to it (0005). SQLite adds a NOT NULL column only with a default, filled next.
    op.add_column(
        "waves", sa.Column("status_rank", sa.Integer(), nullable=False, server_default="0")
    )
    op.execute(f"UPDATE waves SET status_rank = {STATUS_RANK}")
    _drop_the_filling_default("waves", "status_rank")
    op.create_index("ix_waves_status_rank_id", "waves", ["status_rank", "id"])
    op.create_index("ix_facts_reported_on", "facts", ["reported_on"])


def _drop_the_filling_default(table: str, column: str) -> None:
    """The model has no default: the load writes every row's value. SQLite keeps the default
    (dropping it would copy the table, which 0005 shows fails); nothing relies on it."""
    if op.get_bind().dialect.name != "sqlite":
        op.alter_column(table, column, server_default=None)


def downgrade() -> None:
    op.drop_index("ix_facts_reported_on", table_name="facts")
    op.drop_index("ix_waves_status_rank_id", table_name="waves")
    if op.get_bind().dialect.name == "sqlite":
        op.execute("ALTER TABLE waves DROP COLUMN status_rank")  # SQLite 3.35 or later, as 0005
    else:
        op.drop_column("waves", "status_rank")
