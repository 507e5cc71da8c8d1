"""rendered documents

Each record's row gains what the API serves of it, rendered by ``muster load``: its JSON
documents and sort keys (app/services/render.py); the search index gains a column per rank (name,
aliases, other text) and a table of what a hit shows (``search_records``).

The rendered columns cannot be filled from the rows alone, so this revision empties the data, its
load history included: the database then holds no data until the next ``muster load`` (on the
embedded default database, ``muster serve`` loads the bundled seed data itself). A client that
asks for changes since an older version gets a 410 and resyncs, as after any pruned history.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01 20:43:47.454086
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


DATA_TABLES = (
    "record_digests",
    "wave_members",
    "waves",
    "citations",
    "fact_about",
    "facts",
    "activity_authorities",
    "activity_forces",
    "activities",
    "authorities",
    "agencies",
    "forces",
    "sources",
    "dataset_changes",
    "dataset_loads",
)


def upgrade() -> None:
    for table in DATA_TABLES:  # children first
        op.execute(f"DELETE FROM {table}")
    op.drop_table("search_index")
    if op.get_bind().dialect.name == "postgresql":
        op.create_table(
            "search_index",
            sa.Column("place", sa.Integer(), nullable=False),
            # name, aliases and other text weighted A, B and C: the three ranks of a hit
            sa.Column("words", postgresql.TSVECTOR(), nullable=False),
            sa.PrimaryKeyConstraint("place", name="pk_search_index"),
        )
        op.create_index("ix_search_index_words", "search_index", ["words"], postgresql_using="gin")
    else:
        # rowid is the record's place; words arrive folded (app/services/search.py), so the
        # tokenizer only splits them at the spaces.
        op.execute(
            "CREATE VIRTUAL TABLE search_index USING fts5("
            "name, aliases, other, tokenize = 'unicode61 remove_diacritics 0')"
        )
    op.create_table(
        "search_records",
        sa.Column("place", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(), nullable=False),
        sa.Column("record_id", sa.String(), nullable=False),
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("url", sa.String(), nullable=False),
        sa.Column("texts", sa.JSON(), nullable=False),
        sa.Column("names", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("place", name=op.f("pk_search_records")),
    )
    with op.batch_alter_table("search_records", schema=None) as batch_op:
        batch_op.create_index("ix_search_records_kind_place", ["kind", "place"], unique=False)

    with op.batch_alter_table("activities", schema=None) as batch_op:
        batch_op.add_column(sa.Column("sort_name", sa.String(), nullable=False))
        batch_op.add_column(sa.Column("listed", sa.Text(), nullable=False))
        batch_op.add_column(sa.Column("detailed", sa.Text(), nullable=False))
        batch_op.create_index("ix_activities_sort_name_id", ["sort_name", "id"], unique=False)

    with op.batch_alter_table("agencies", schema=None) as batch_op:
        batch_op.add_column(sa.Column("sort_name", sa.String(), nullable=False))
        batch_op.add_column(sa.Column("listed", sa.Text(), nullable=False))
        batch_op.add_column(sa.Column("detailed", sa.Text(), nullable=False))
        batch_op.create_index("ix_agencies_sort_name_id", ["sort_name", "id"], unique=False)

    with op.batch_alter_table("authorities", schema=None) as batch_op:
        batch_op.add_column(sa.Column("sort_name", sa.String(), nullable=False))
        batch_op.add_column(sa.Column("listed", sa.Text(), nullable=False))
        batch_op.add_column(sa.Column("detailed", sa.Text(), nullable=False))
        batch_op.create_index("ix_authorities_sort_name_id", ["sort_name", "id"], unique=False)

    with op.batch_alter_table("citations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_citations_source_id"))
        batch_op.create_index(
            "ix_citations_source_id_fact_id", ["source_id", "fact_id"], unique=False
        )

    with op.batch_alter_table("dataset_loads", schema=None) as batch_op:
        batch_op.add_column(sa.Column("render_version", sa.String(), nullable=False))

    with op.batch_alter_table("fact_about", schema=None) as batch_op:
        batch_op.add_column(sa.Column("told_at", sa.Integer(), nullable=False))
        batch_op.drop_index(batch_op.f("ix_fact_about_entity"))
        batch_op.create_index(
            "ix_fact_about_entity_told_at", ["entity_id", "told_at"], unique=False
        )

    with op.batch_alter_table("facts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("told_at", sa.Integer(), nullable=False))
        batch_op.add_column(sa.Column("date_key", sa.String(), nullable=False))
        batch_op.add_column(sa.Column("measure", sa.String(), nullable=True))
        batch_op.add_column(sa.Column("holds_from", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("holds_until", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("listed", sa.Text(), nullable=False))
        batch_op.add_column(sa.Column("event", sa.Text(), nullable=True))
        batch_op.create_index("ix_facts_date_key_id", ["date_key", "id"], unique=False)
        batch_op.create_index("ix_facts_date_key_told_at", ["date_key", "told_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_facts_measure"), ["measure"], unique=False)
        batch_op.create_index(batch_op.f("ix_facts_rank"), ["rank"], unique=False)
        batch_op.create_unique_constraint(batch_op.f("uq_facts_told_at"), ["told_at"])

    with op.batch_alter_table("forces", schema=None) as batch_op:
        batch_op.add_column(sa.Column("sort_name", sa.String(), nullable=False))
        batch_op.add_column(sa.Column("listed", sa.Text(), nullable=False))
        batch_op.add_column(sa.Column("detailed", sa.Text(), nullable=False))
        batch_op.create_index("ix_forces_sort_name_id", ["sort_name", "id"], unique=False)

    with op.batch_alter_table("sources", schema=None) as batch_op:
        batch_op.add_column(sa.Column("listed", sa.Text(), nullable=False))

    with op.batch_alter_table("waves", schema=None) as batch_op:
        batch_op.add_column(sa.Column("sort_name", sa.String(), nullable=False))
        batch_op.add_column(sa.Column("listed", sa.Text(), nullable=False))
        batch_op.add_column(sa.Column("detailed", sa.Text(), nullable=False))
        batch_op.create_index("ix_waves_sort_name_id", ["sort_name", "id"], unique=False)


def downgrade() -> None:
    for table in DATA_TABLES:
        op.execute(f"DELETE FROM {table}")
    with op.batch_alter_table("waves", schema=None) as batch_op:
        batch_op.drop_index("ix_waves_sort_name_id")
        batch_op.drop_column("detailed")
        batch_op.drop_column("listed")
        batch_op.drop_column("sort_name")

    with op.batch_alter_table("sources", schema=None) as batch_op:
        batch_op.drop_column("listed")

    with op.batch_alter_table("forces", schema=None) as batch_op:
        batch_op.drop_index("ix_forces_sort_name_id")
        batch_op.drop_column("detailed")
        batch_op.drop_column("listed")
        batch_op.drop_column("sort_name")

    with op.batch_alter_table("facts", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_facts_told_at"), type_="unique")
        batch_op.drop_index(batch_op.f("ix_facts_rank"))
        batch_op.drop_index(batch_op.f("ix_facts_measure"))
        batch_op.drop_index("ix_facts_date_key_told_at")
        batch_op.drop_index("ix_facts_date_key_id")
        batch_op.drop_column("event")
        batch_op.drop_column("listed")
        batch_op.drop_column("holds_until")
        batch_op.drop_column("holds_from")
        batch_op.drop_column("measure")
        batch_op.drop_column("date_key")
        batch_op.drop_column("told_at")

    with op.batch_alter_table("fact_about", schema=None) as batch_op:
        batch_op.drop_index("ix_fact_about_entity_told_at")
        batch_op.create_index(batch_op.f("ix_fact_about_entity"), ["entity_id"], unique=False)
        batch_op.drop_column("told_at")

    with op.batch_alter_table("dataset_loads", schema=None) as batch_op:
        batch_op.drop_column("render_version")

    with op.batch_alter_table("citations", schema=None) as batch_op:
        batch_op.drop_index("ix_citations_source_id_fact_id")
        batch_op.create_index(batch_op.f("ix_citations_source_id"), ["source_id"], unique=False)

    with op.batch_alter_table("authorities", schema=None) as batch_op:
        batch_op.drop_index("ix_authorities_sort_name_id")
        batch_op.drop_column("detailed")
        batch_op.drop_column("listed")
        batch_op.drop_column("sort_name")

    with op.batch_alter_table("agencies", schema=None) as batch_op:
        batch_op.drop_index("ix_agencies_sort_name_id")
        batch_op.drop_column("detailed")
        batch_op.drop_column("listed")
        batch_op.drop_column("sort_name")

    with op.batch_alter_table("activities", schema=None) as batch_op:
        batch_op.drop_index("ix_activities_sort_name_id")
        batch_op.drop_column("detailed")
        batch_op.drop_column("listed")
        batch_op.drop_column("sort_name")

    with op.batch_alter_table("search_records", schema=None) as batch_op:
        batch_op.drop_index("ix_search_records_kind_place")

    op.drop_table("search_records")
    op.drop_table("search_index")
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
        op.execute(
            "CREATE VIRTUAL TABLE search_index USING fts5("
            "kind UNINDEXED, record_id UNINDEXED, words, "
            "tokenize = 'unicode61 remove_diacritics 0')"
        )
