"""facts about a record on a day, by its index of them

Each row of ``fact_about`` gains its fact's ``reported_on``, and each of its indexes ends with it,
as 0013 did for the facts' own: a record's facts on a day are kept by that record's index of them,
and counted from it alone, where each fact was looked up to check its day. The rows already
loaded get it from their fact.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-04 23:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

WIDENED = {  # each index as 0003, 0008 and 0009 made it: the same columns, then reported_on
    "ix_fact_about_entity_told_at": ["entity_id", "told_at"],
    "ix_fact_about_entity_id_date_key_told_at": ["entity_id", "date_key", "told_at"],
    "ix_fact_about_entity_id_date_key_fact_id": ["entity_id", "date_key", "fact_id"],
    "ix_fact_about_entity_id_fact_id": ["entity_id", "fact_id"],
}


def upgrade() -> None:
    op.add_column("fact_about", sa.Column("reported_on", sa.Date(), nullable=True))
    op.execute(
        "UPDATE fact_about SET reported_on = "
        "(SELECT facts.reported_on FROM facts WHERE facts.id = fact_about.fact_id)"
    )
    for name, columns in WIDENED.items():
        op.drop_index(name, table_name="fact_about")
        op.create_index(f"{name}_reported_on", "fact_about", [*columns, "reported_on"])
    if op.get_bind().dialect.name == "sqlite":  # as 0013 says why
        op.execute("ANALYZE fact_about")


def downgrade() -> None:
    for name, columns in WIDENED.items():
        op.drop_index(f"{name}_reported_on", table_name="fact_about")
        op.create_index(name, "fact_about", columns)
    if op.get_bind().dialect.name == "sqlite":
        op.execute("ALTER TABLE fact_about DROP COLUMN reported_on")  # SQLite 3.35 or later
    else:
        op.drop_column("fact_about", "reported_on")
