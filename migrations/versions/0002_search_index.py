"""search index

The full-text index of every record (see app/services/search.py): an FTS5 virtual table on SQLite,
a table with a GIN-indexed tsvector on PostgreSQL. Neither is in SQLModel's metadata, so
autogenerate leaves it out (``include_in_autogenerate`` in migrations/env.py).

A database loaded before this revision gets its index on its next ``muster load``, even of
unchanged data.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27 18:40:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.create_table(
            "search_index",
            sa.Column("kind", sa.String(), nullable=False),
            sa.Column("record_id", sa.String(), nullable=False),
            sa.Column("words", postgresql.TSVECTOR(), nullable=False),
            sa.PrimaryKeyConstraint("kind", "record_id", name="pk_search_index"),
        )
        op.create_index("ix_search_index_words", "search_index", ["words"], postgresql_using="gin")
    else:
        # Words arrive already folded (app/services/search.py), so the tokenizer only splits
        # them at the spaces.
        op.execute(
            "CREATE VIRTUAL TABLE search_index USING fts5("
            "kind UNINDEXED, record_id UNINDEXED, words, "
            "tokenize = 'unicode61 remove_diacritics 0')"
        )


def downgrade() -> None:
    op.drop_table("search_index")
