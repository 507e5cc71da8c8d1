"""The server sees a new SQLite file, or a change to its file, on the next request.

A load replaces the file (app/ingest/loader.py), as an operator who ships a file to replicas
does; a migration or a repair changes it in place. Both must be seen at once, and a deleted file
must make the data unavailable rather than be served from what was read before.
"""

import os
import shutil
import sqlite3
from pathlib import Path

import pytest

from app.config import Settings
from app.main import create_store
from app.services.store import DataUnavailableError


def seeded_copy(tmp_path: Path, seed_url: str, name: str = "muster.db") -> Path:
    database = tmp_path / name
    shutil.copy(seed_url.removeprefix("sqlite:///"), database)
    return database


def test_a_commit_in_place_is_seen_at_once(tmp_path: Path, seed_url: str) -> None:
    database = seeded_copy(tmp_path, seed_url)
    store = create_store(Settings(database_url=f"sqlite:///{database}"))
    seeded = store.current()
    assert store.current() == seeded  # nothing changed: the same load
    with sqlite3.connect(database) as writer:
        writer.execute("UPDATE dataset_loads SET version = 'changed-by-the-test'")
    assert store.current().version == "changed-by-the-test"
    with store.reading() as reading:
        assert reading.state.version == "changed-by-the-test"


def test_a_file_renamed_over_the_served_one_is_served_next(tmp_path: Path, seed_url: str) -> None:
    database = seeded_copy(tmp_path, seed_url)
    store = create_store(Settings(database_url=f"sqlite:///{database}"))
    with store.reading() as reading:
        assert reading.state.version != "shipped"
    shipped = seeded_copy(tmp_path, seed_url, "shipped.db")
    with sqlite3.connect(shipped) as writer:
        writer.execute("UPDATE dataset_loads SET version = 'shipped'")
    os.utime(shipped, ns=(0, os.stat(database).st_mtime_ns))  # even with the same mtime
    os.replace(shipped, database)
    with store.reading() as reading:
        assert reading.state.version == "shipped"


def test_a_deleted_file_is_unavailable_data(tmp_path: Path, seed_url: str) -> None:
    database = seeded_copy(tmp_path, seed_url)
    store = create_store(Settings(database_url=f"sqlite:///{database}"))
    assert not store.current().is_empty
    database.unlink()
    with pytest.raises(DataUnavailableError, match="missing"):
        store.current()
