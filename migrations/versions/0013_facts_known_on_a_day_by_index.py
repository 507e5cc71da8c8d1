"""facts known on a day, by index

Every index that finds facts in a list's order ends with ``reported_on``, and two more do the same
for the facts' own orders (their telling, their id): ``as_of`` is then checked on the index entry
that finds a fact, before its row and the documents in it are read. At 1000x, on a day before the
archive's first report, the first page of ``/v1/facts?as_of=`` read 56,000 facts' rows to find the
undated ones (106 ms against 4.5 ms), ``?kind=quantity&as_of=`` and its count 14 ms each against
0.9 and 0.7 ms, and the count of a hub force's facts on a day 18 ms against 2 ms (the statements
timed by hand on the file, before and after these indexes). Served, medians of five requests by
curl to an uncached server: ``/v1/facts?as_of=2025-01-21`` 39 ms against 6.8 ms, with
``sort=date`` 77 against 8.1 ms, with ``kind=quantity`` 16 against 2.8 ms, and a hub force's
facts on that day 20 against 9.6 ms.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-04 23:00:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

WIDENED = {  # each index as 0003 and 0007 made it: the same columns, then reported_on
    "ix_facts_date_key_id": ["date_key", "id"],
    "ix_facts_date_key_told_at": ["date_key", "told_at"],
    "ix_facts_kind_told_at": ["kind", "told_at"],
    "ix_facts_status_told_at": ["status", "told_at"],
    "ix_facts_rank_told_at": ["rank", "told_at"],
}
ADDED = {  # the default order's and the id's: their own indexes are their constraints'
    "ix_facts_told_at_reported_on": ["told_at", "reported_on"],
    "ix_facts_id_reported_on": ["id", "reported_on"],
}


def upgrade() -> None:
    for name, columns in WIDENED.items():
        op.drop_index(name, table_name="facts")
        op.create_index(f"{name}_reported_on", "facts", [*columns, "reported_on"])
    for name, columns in ADDED.items():
        op.create_index(name, "facts", columns)
    # The planner's figures for the new indexes, as a load leaves them (loader.py): without
    # them SQLite kept finding a fact by its id from the key's own index, and checked its day on
    # its row (16 ms against 9.6 ms a page of a hub force's facts on a day at 1000x). On SQLite
    # only, which keeps figures per index (sqlite_stat1): PostgreSQL keeps them per column, made
    # by the load's own ANALYZE, and analyzing a table not loaded yet only tells it the table is
    # empty, so that a first load checks each foreign key to it by a scan of the table (80 s
    # against 36 s a load at 1000x; tests/test_migrations.py).
    if op.get_bind().dialect.name == "sqlite":
        op.execute("ANALYZE facts")


def downgrade() -> None:
    for name in ADDED:
        op.drop_index(name, table_name="facts")
    for name, columns in WIDENED.items():
        op.drop_index(f"{name}_reported_on", table_name="facts")
        op.create_index(name, "facts", columns)
