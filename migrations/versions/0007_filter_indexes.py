"""filter indexes

Filtered lists by index: the link tables by the record they lead from (the activities of a force
or an authority, the waves of a force), and each filter of /v1/facts (kind, status, rank) together
with the default order, so that a filtered page is an index range, not a sort of every match. At
1000x, ``/v1/activities?force=jtf-north`` scanned every activity's links and
``/v1/facts?kind=quantity`` sorted 9,000 facts for each page.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02 06:10:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

LINKS = {
    "activity_forces": ("force_id", "activity_id"),
    "activity_authorities": ("authority_id", "activity_id"),
    "wave_members": ("force_id", "wave_id"),
}
FACT_FILTERS = ("kind", "status", "rank")


def upgrade() -> None:
    for table, columns in LINKS.items():
        op.create_index(f"ix_{table}_{'_'.join(columns)}", table, list(columns))
    for column in FACT_FILTERS:
        op.drop_index(f"ix_facts_{column}", table_name="facts")
        op.create_index(f"ix_facts_{column}_told_at", "facts", [column, "told_at"])


def downgrade() -> None:
    for column in FACT_FILTERS:
        op.drop_index(f"ix_facts_{column}_told_at", table_name="facts")
        op.create_index(f"ix_facts_{column}", "facts", [column])
    for table, columns in LINKS.items():
        op.drop_index(f"ix_{table}_{'_'.join(columns)}", table_name=table)
