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


def upgrade() -> None:
    with op.batch_alter_table("waves", schema=None) as batch_op:
        batch_op.add_column(sa.Column("joins_fact_id", sa.String(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_waves_joins_fact_id_facts"), "facts", ["joins_fact_id"], ["id"]
        )
    of_document = JOINS_FACT_OF_DOCUMENT[op.get_bind().dialect.name]
    op.execute(f"UPDATE waves SET joins_fact_id = {of_document}")


def downgrade() -> None:
    with op.batch_alter_table("waves", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_waves_joins_fact_id_facts"), type_="foreignkey")
        batch_op.drop_column("joins_fact_id")
