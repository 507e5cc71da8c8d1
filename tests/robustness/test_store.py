"""The server sees each commit to its SQLite database on the next request, in either journal mode.

In rollback-journal mode the store reads SQLite's file change counter from the file's header; in
WAL mode, which does not keep that counter, it asks SQLite. Both must notice a commit at once.
"""

import shutil
import sqlite3
from pathlib import Path

import pytest

from app.config import Settings
from app.main import create_store


@pytest.mark.parametrize("journal_mode", ["delete", "wal"])
def test_the_next_snapshot_after_a_commit_is_of_the_new_data(
    tmp_path: Path, seed_url: str, journal_mode: str
) -> None:
    database = tmp_path / "muster.db"
    shutil.copy(seed_url.removeprefix("sqlite:///"), database)
    writer = sqlite3.connect(database, isolation_level=None)
    assert writer.execute(f"PRAGMA journal_mode = {journal_mode}").fetchone()[0] == journal_mode
    store = create_store(Settings(database_url=f"sqlite:///{database}"))
    seeded = store.current()
    assert store.current() is seeded  # nothing committed: the same snapshot, not read again

    writer.execute("UPDATE dataset_loads SET version = 'changed-by-the-test'")

    assert store.current().version == "changed-by-the-test"
    writer.close()
