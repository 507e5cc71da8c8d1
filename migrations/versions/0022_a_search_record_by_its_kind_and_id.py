"""a search record found by its kind and id

A search cursor held the last hit's place in the search index, which a load numbers anew: a walk
across a load that added or removed a record told before it resumed early or late, showing a hit
twice or skipping one. It now holds the hit's kind and id, and the next page looks its place up
again, by this index.

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-08 04:00:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0022"
down_revision: str | None = "0021"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEX = "ix_search_records_kind_record_id"


def upgrade() -> None:
    op.create_index(INDEX, "search_records", ["kind", "record_id"], unique=True)


def downgrade() -> None:
    op.drop_index(INDEX, table_name="search_records")
