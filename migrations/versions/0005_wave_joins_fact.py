"""wave joins fact

Each wave's row gains the id of the fact that ties it to the force it joins, so the posture's
totals can tell in SQL whether that tie was known on a day (app/services/posture.py), as they tell
it of the size fact by ``size_fact_id``. The rows already loaded get it from their rendered
document.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02 10:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JOINS_FACT_OF_DOCUMENT = {
    "sqlite": "json_extract(detailed, '$.joins_fact.id')",
    "postgresql": "CAST(detailed AS json) -> 'joins_fact' ->> 'id'",
}


FOREIGN_KEY = "fk_waves_joins_fact_id_facts"


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        # In place, not in a batch: a batch copies the table and drops the old one, which fails
        # once wave_members' rows refer to it; SQLite adds a nullable column and its reference.
        op.execute(
            "ALTER TABLE waves ADD COLUMN joins_fact_id VARCHAR "
            f"CONSTRAINT {FOREIGN_KEY} REFERENCES facts (id)"
        )
    else:
        op.add_column("waves", sa.Column("joins_fact_id", sa.String(), nullable=True))
        op.create_foreign_key(FOREIGN_KEY, "waves", "facts", ["joins_fact_id"], ["id"])
    op.execute(f"UPDATE waves SET joins_fact_id = {JOINS_FACT_OF_DOCUMENT[dialect]}")


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("ALTER TABLE waves DROP COLUMN joins_fact_id")  # its reference goes with it
    else:
        op.drop_constraint(FOREIGN_KEY, "waves", type_="foreignkey")
        op.drop_column("waves", "joins_fact_id")
