"""a fact's place in the search index is its told_at

Records of one kind hold adjacent places in the search index: the entities, then the sources,
then the facts. They were numbered from 0, so a fact's place was its ``told_at`` plus the number
of the other records; now the facts' places are their ``told_at``, from 0, and the other records'
are below 0, in the same order. A fact is then found from its place, and its place from the fact,
without the first fact's place: the words' facts join the facts by ``told_at``, one lookup each
instead of two, and a page of them in the order of telling carries the same key whether it was
read along the index or along the facts' own (app/services/records.py). The places already loaded
move down by the number of records that are not facts; the downgrade moves them back up.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-07 12:00:00.000000
"""

import re
from collections.abc import Sequence

from alembic import op

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    _move_places(-_records_not_facts())
    # What the served reads rely on; a database whose places a load did not number so fails.
    misplaced = (
        op.get_bind()
        .exec_driver_sql(
            "SELECT count(*) FROM search_records JOIN facts ON facts.id = search_records.record_id "
            "WHERE search_records.kind = 'facts' AND search_records.place != facts.told_at"
        )
        .scalar_one()
    )
    if misplaced:
        raise RuntimeError(f"{misplaced} facts are not at their told_at in search_records")


def downgrade() -> None:
    _move_places(_records_not_facts())


def _records_not_facts() -> int:
    count: int = (
        op.get_bind()
        .exec_driver_sql("SELECT count(*) FROM search_records WHERE kind != 'facts'")
        .scalar_one()
    )
    return count


def _move_places(shift: int) -> None:
    """Every place moved by ``shift``, in ``search_records`` and in the index."""
    if shift == 0:
        return
    span = (
        op.get_bind()
        .exec_driver_sql("SELECT max(place) - min(place) + 1 FROM search_records")
        .scalar_one()
    )
    on_sqlite = op.get_bind().dialect.name == "sqlite"
    if on_sqlite:
        _rebuild_the_index(shift)
    # In two steps, first clear of the places before and after, as a key is checked row by row:
    # moved at once, a place could land on another one not moved yet.
    clear = span + abs(shift)
    for table in ["search_records"] if on_sqlite else ["search_records", "search_index"]:
        op.execute(f"UPDATE {table} SET place = place + {clear}")
        op.execute(f"UPDATE {table} SET place = place - {clear} + {shift}")
    if not on_sqlite:
        # Each row was written twice: the planner's figures, of the rows as they now stand.
        op.execute("ANALYZE search_records, search_index")


def _rebuild_the_index(shift: int) -> None:
    """FTS5 moves a row as a delete and an insert (14 s a step at 1000x): the index is written
    again in a new table, in rowid order, with the options it was made with."""
    made_with = (
        op.get_bind()
        .exec_driver_sql("SELECT sql FROM sqlite_master WHERE name = 'search_index'")
        .scalar_one()
    )
    options = re.search(r"USING fts5\((.*)\)\s*$", made_with, re.DOTALL)
    assert options is not None, made_with
    op.execute(f"CREATE VIRTUAL TABLE search_index_moved USING fts5({options.group(1)})")
    op.execute(
        "INSERT INTO search_index_moved (rowid, name, aliases, other) "
        f"SELECT rowid + {shift}, name, aliases, other FROM search_index ORDER BY rowid"
    )
    op.execute("DROP TABLE search_index")
    op.execute("ALTER TABLE search_index_moved RENAME TO search_index")
