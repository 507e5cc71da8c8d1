"""facts about a record by date and by id

``/v1/facts?about=`` sorted by date or by id reads the record's facts from ``fact_about`` in that
order, as it does in the sources' order: at 1000x the facts about a hub force were found, then
all sorted, for every page (24 ms).

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02 06:40:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEXES = {
    "ix_fact_about_entity_id_date_key_fact_id": ["entity_id", "date_key", "fact_id"],
    "ix_fact_about_entity_id_fact_id": ["entity_id", "fact_id"],
}


def upgrade() -> None:
    for name, columns in INDEXES.items():
        op.create_index(name, "fact_about", columns)


def downgrade() -> None:
    for name in INDEXES:
        op.drop_index(name, table_name="fact_about")
