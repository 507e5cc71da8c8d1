"""events about a record

Each row of ``fact_about`` gains its fact's ``date_key``, indexed after the record, so that
``/v1/timeline?about=`` reads a record's events in date order from an index: at 1000x the events
about a hub force were found, then all sorted, for every page (33 ms). The rows already loaded get
it from their fact.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02 06:20:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEX = "ix_fact_about_entity_id_date_key_told_at"


def upgrade() -> None:
    # In place, as 0005: SQLite adds a NOT NULL column only with a default, filled next.
    op.add_column(
        "fact_about", sa.Column("date_key", sa.String(), nullable=False, server_default="")
    )
    op.execute(
        "UPDATE fact_about SET date_key = "
        "(SELECT facts.date_key FROM facts WHERE facts.id = fact_about.fact_id)"
    )
    _drop_the_filling_default("fact_about", "date_key")
    op.create_index(INDEX, "fact_about", ["entity_id", "date_key", "told_at"])


def _drop_the_filling_default(table: str, column: str) -> None:
    """The model has no default: the load writes every row's value. SQLite keeps the default
    (dropping it would copy the table, which 0005 shows fails); nothing relies on it."""
    if op.get_bind().dialect.name != "sqlite":
        op.alter_column(table, column, server_default=None)


def downgrade() -> None:
    op.drop_index(INDEX, table_name="fact_about")
    if op.get_bind().dialect.name == "sqlite":
        op.execute("ALTER TABLE fact_about DROP COLUMN date_key")  # SQLite 3.35 or later, as 0005
    else:
        op.drop_column("fact_about", "date_key")
