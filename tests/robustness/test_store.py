"""The server sees a new SQLite file, or a change to its file, on the next request.

A load replaces the file (app/ingest/loader.py), as an operator who ships a file to replicas
does; a migration or a repair changes it in place. Both must be seen at once, and a deleted file
must make the data unavailable rather than be served from what was read before. Counts and cached
answers are kept for the load they were read from, known by its number, its data version and the
version of the code that rendered it.
"""

import os
import shutil
import sqlite3
import time
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event

from app.config import Settings
from app.main import create_app, create_store
from app.services.store import DataUnavailableError
from tests.data import LATER_FACT, add_later_report
from tests.helpers import SLOW_QUERY, fill, render_otherwise, replace_with_one_load_of


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


@pytest.mark.parametrize("response_cache", [True, False], ids=["cached", "uncached"])
def test_a_database_replaced_by_other_data_under_the_same_load_number_is_answered_anew(
    empty_database_url: str, tmp_path: Path, seed_copy: Path, response_cache: bool
) -> None:
    """A SQLite file renamed over the served one, or a PostgreSQL database restored from another,
    each holding one load: only the data version tells the two apart, not the load number."""
    fill(empty_database_url)
    add_later_report(seed_copy)
    settings = Settings(
        database_url=empty_database_url, response_cache=response_cache, version_poll_seconds=0
    )
    with TestClient(create_app(settings)) as client:
        served = client.get("/v1/facts", params={"limit": 1})
        assert client.get(f"/v1/facts/{LATER_FACT}").status_code == 404
        replace_with_one_load_of(empty_database_url, seed_copy, tmp_path)
        answer = client.get("/v1/facts", params={"limit": 1})
        assert answer.headers["X-Data-Version"] != served.headers["X-Data-Version"]
        assert answer.json()["total"] > served.json()["total"]
        assert client.get(f"/v1/facts/{LATER_FACT}").status_code == 200


def test_the_same_load_rendered_by_another_muster_is_answered_anew(
    empty_database_url: str,
) -> None:
    """The same load number and data version, its documents rendered by other rendering code: as
    a database replaced by one that another Muster loaded from the same bundles holds. Only the
    render version tells the two apart, and a cached answer must be the new documents'."""
    fill(empty_database_url)
    settings = Settings(database_url=empty_database_url, version_poll_seconds=0)
    with TestClient(create_app(settings)) as client:
        served = client.get("/v1/facts", params={"limit": 1})
        render_otherwise(empty_database_url, appended=" (rendered otherwise)")
        # As a client revalidating its copy asks: not a 304 for the old documents.
        answer = client.get(
            "/v1/facts", params={"limit": 1}, headers={"If-None-Match": served.headers["ETag"]}
        )
    assert answer.status_code == 200
    assert answer.headers["X-Data-Version"] == served.headers["X-Data-Version"]
    statement = served.json()["data"][0]["statement"]
    assert answer.json()["data"][0]["statement"] == statement + " (rendered otherwise)"


def test_a_deleted_file_is_unavailable_data(tmp_path: Path, seed_url: str) -> None:
    database = seeded_copy(tmp_path, seed_url)
    store = create_store(Settings(database_url=f"sqlite:///{database}"))
    assert not store.current().is_empty
    database.unlink()
    with pytest.raises(DataUnavailableError, match="missing"):
        store.current()


def test_a_sqlite_read_past_the_timeout_is_interrupted_and_frees_its_thread(
    seed_url: str,
) -> None:
    timeout = 0.5
    edge = create_app(
        Settings(database_url=seed_url, response_cache=False, query_timeout_seconds=timeout)
    )
    slow_once: list[bool] = []

    def slowed(*args: Any) -> tuple[str, Any]:
        _connection, _cursor, statement, parameters, _context, _many = args
        if slow_once and "dataset_loads" in statement:
            slow_once.clear()
            return SLOW_QUERY, ()
        return statement, parameters

    ended: list[float] = []
    event.listen(edge.api.state.store.engine, "before_cursor_execute", slowed, retval=True)
    event.listen(
        edge.api.state.store.engine, "handle_error", lambda _context: ended.append(time.monotonic())
    )
    edge.api.state.store.reads.total_tokens = (
        1  # one read at a time: a thread held by the slow read shows
    )
    with TestClient(edge) as client:
        assert client.get("/v1/forces").status_code == 200
        slow_once.append(True)  # the next read's first statement
        started = time.monotonic()
        slow = client.get("/v1/forces")
        assert slow.status_code == 503
        assert slow.json()["detail"] == "the database did not answer in time"
        after = client.get("/v1/forces")
        assert after.status_code == 200  # the one read thread was free again
        assert ended, "the slow statement is still running"
        assert ended[0] - started < timeout + 0.5


@pytest.mark.parametrize("poll_seconds", [0.0, 1.0])
def test_what_the_event_loop_asks_reads_no_database(
    seeded_database_url: str, poll_seconds: float
) -> None:
    """``known`` is asked on the event loop for every request: it runs no statement, whether the
    server polls in a thread (PostgreSQL, every poll_seconds) or each read asks (0), and before
    and after the first read."""
    store = create_store(
        Settings(database_url=seeded_database_url, version_poll_seconds=poll_seconds)
    )
    statements: list[str] = []
    event.listen(store.engine, "before_cursor_execute", lambda *args: statements.append(args[2]))
    try:
        store.known()
        assert statements == []
        with store.reading() as reading:
            assert reading.state.version is not None
        read = len(statements)
        store.known()
        assert len(statements) == read
    finally:
        store.close()
