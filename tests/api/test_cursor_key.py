"""The key that signs pagination cursors is the database's own unless MUSTER_CURSOR_KEY says
otherwise: every process and replica serving one database, and every restart, take each other's
next links and give a paged list the same ETag, with no setting; a load keeps the key."""

import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event, text

from app.config import Settings
from app.db import make_engine
from app.ingest.check import InvalidBundlesError, read_dataset
from app.ingest.loader import load_dataset
from app.main import create_app
from tests.conftest import ARTICLE_BUNDLE
from tests.helpers import add_a_rare_word, append_fact, fill, first_fact
from tests.test_load import REFUSE_ONE_FACT

PAGED = ("/v1/facts?limit=5", "/v1/forces?limit=2")
"""Lists whose first page has a next link, signed with the key, in its body."""
UNCHANGED_BY_A_RARE_WORD = "/v1/forces?limit=2"
"""A paged list that a load adding a rare word to one fact leaves as it was."""


@pytest.fixture(autouse=True)
def _no_cursor_key_set(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MUSTER_CURSOR_KEY", raising=False)


def _app(url: str, **settings: Any) -> TestClient:
    # Polling every time, so that PostgreSQL notices a load at once, as SQLite always does.
    return TestClient(create_app(Settings(database_url=url, version_poll_seconds=0, **settings)))


def _first_pages(client: TestClient) -> dict[str, Any]:
    pages = {path: client.get(path) for path in PAGED}
    for path, page in pages.items():
        assert page.status_code == 200, (path, page.text)
        assert page.json()["next"], path
    return pages


def _follow(client: TestClient, next_url: str) -> Any:
    response = client.get(next_url)
    assert response.status_code == 200, response.text
    return response.json()


def test_two_servers_of_one_database_take_each_other_s_cursors_and_agree_on_etags(
    seeded_database_url: str,
) -> None:
    """As replicas behind a round-robin proxy, with no MUSTER_CURSOR_KEY."""
    with _app(seeded_database_url) as first, _app(seeded_database_url) as second:
        pages = _first_pages(first), _first_pages(second)
        for path in PAGED:
            mine, theirs = (served[path] for served in pages)
            assert mine.headers["etag"] == theirs.headers["etag"], path
            assert mine.json()["next"] == theirs.json()["next"], path
            next_url = mine.json()["next"]
            assert _follow(second, next_url) == _follow(first, next_url), path


def test_a_restart_keeps_each_paged_list_s_etag_and_its_cursors(seeded_database_url: str) -> None:
    with _app(seeded_database_url) as before_the_restart:
        before = _first_pages(before_the_restart)
    with _app(seeded_database_url) as restarted:
        for path, page in before.items():
            again = restarted.get(path, headers={"If-None-Match": page.headers["etag"]})
            assert again.status_code == 304, path
            _follow(restarted, page.json()["next"])


def test_muster_cursor_key_overrides_the_database_s_key(
    seeded_database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    with _app(seeded_database_url) as own, _app(seeded_database_url, cursor_key="given") as given:
        assert given.app.api.state.cursor_key == b"given"  # type: ignore[attr-defined]
        assert given.app.api.state.cursor_key != own.app.api.state.cursor_key  # type: ignore[attr-defined]
        for path in PAGED:
            assert given.get(path).headers["etag"] != own.get(path).headers["etag"], path
            refused = given.get(own.get(path).json()["next"])
            assert refused.status_code == 400, path
            assert refused.json()["type"].endswith("/invalid-cursor")
    monkeypatch.setenv("MUSTER_CURSOR_KEY", "from the environment")
    with _app(seeded_database_url) as configured:
        assert configured.app.api.state.cursor_key == b"from the environment"  # type: ignore[attr-defined]


def test_each_database_has_a_key_of_its_own(seeded_database_url: str, loaded_url: str) -> None:
    """A new database makes a new secret: one deployment's cursors are not another's."""
    with _app(seeded_database_url) as one, _app(loaded_url) as another:
        keys = [client.app.api.state.cursor_key for client in (one, another)]  # type: ignore[attr-defined]
    assert keys[0] != keys[1]
    assert all(len(bytes.fromhex(key.decode())) == 32 for key in keys)


@pytest.fixture
def key_reads(loaded_url: str) -> Iterator[tuple[TestClient, list[str]]]:
    """A server on ``loaded_url``, and each statement it sends that reads the key's table."""
    with _app(loaded_url) as client:
        seen: list[str] = []

        def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
            if "database_secrets" in statement:
                seen.append(statement)

        engine = client.app.api.state.store.engine  # type: ignore[attr-defined]
        event.listen(engine, "before_cursor_execute", record)
        yield client, seen


def test_a_load_keeps_the_key_so_cursors_and_etags_stay_as_they_were(
    loaded_url: str, seed_copy: Path, key_reads: tuple[TestClient, list[str]]
) -> None:
    """On SQLite the load swaps a new file in; the server that keeps reading (and never reads
    the key again) and a server started after the load both take the cursors issued before it."""
    served, key_queries = key_reads
    before = _first_pages(served)
    next_url = before[UNCHANGED_BY_A_RARE_WORD].json()["next"]
    following = _follow(served, next_url)
    add_a_rare_word(seed_copy / ARTICLE_BUNDLE)
    engine = make_engine(loaded_url)
    report = load_dataset(engine, read_dataset(seed_copy))
    engine.dispose()
    assert not report.unchanged
    with _app(loaded_url) as started_after:
        for client in (served, started_after):
            page = before[UNCHANGED_BY_A_RARE_WORD]
            again = client.get(
                UNCHANGED_BY_A_RARE_WORD, headers={"If-None-Match": page.headers["etag"]}
            )
            assert again.status_code == 304
            assert again.headers["x-data-version"] != page.headers["x-data-version"]
            assert _follow(client, next_url) == following
        for path in PAGED:
            assert started_after.get(path).json()["next"] == served.get(path).json()["next"]
    assert key_queries == []  # read once, when the server started


@pytest.mark.parametrize("refusal", ["invalid bundles", "the database refuses a row"])
def test_a_refused_load_keeps_the_key(
    loaded_url: str, seed_copy: Path, key_reads: tuple[TestClient, list[str]], refusal: str
) -> None:
    served, key_queries = key_reads
    before = _first_pages(served)
    bundle = seed_copy / ARTICLE_BUNDLE
    engine = make_engine(loaded_url)
    if refusal == "invalid bundles":
        append_fact(bundle, first_fact(bundle) | {"id": "fact-broken", "about": ["nowhere"]})
        with pytest.raises(InvalidBundlesError):
            load_dataset(engine, read_dataset(seed_copy))
    else:
        with engine.begin() as connection:
            for statement in REFUSE_ONE_FACT[connection.dialect.name]:
                connection.execute(text(statement))
        append_fact(bundle, first_fact(bundle) | {"id": "fact-refused"})
        # SQLAlchemy's error, or on PostgreSQL psycopg's own, from the COPY
        with pytest.raises(Exception, match="refused by test"):
            load_dataset(engine, read_dataset(seed_copy))
    engine.dispose()
    with _app(loaded_url) as started_after:
        for path, page in before.items():
            for client in (served, started_after):
                again = client.get(path, headers={"If-None-Match": page.headers["etag"]})
                assert again.status_code == 304, path
                _follow(client, page.json()["next"])
    assert key_queries == []


def test_a_server_on_a_database_not_yet_migrated_reads_the_key_once_it_is(
    empty_database_url: str,
) -> None:
    """A server started before `muster db upgrade && muster load` answers 503 meanwhile, reads
    the key in a thread once asked after, then signs with it like every other server of it."""
    if empty_database_url.startswith("sqlite"):
        Path(empty_database_url.removeprefix("sqlite:///")).touch()
    with _app(empty_database_url) as early:
        assert early.get(PAGED[0]).status_code == 503
        fill(empty_database_url)
        deadline = time.monotonic() + 10
        while early.get(PAGED[0]).status_code == 503 and time.monotonic() < deadline:
            time.sleep(0.05)  # the key is read in a thread, never on the event loop
        with _app(empty_database_url) as later:
            for path in PAGED:
                issued = early.get(path)
                assert issued.status_code == 200, issued.text
                assert issued.json()["next"] == later.get(path).json()["next"]
                assert issued.headers["etag"] == later.get(path).headers["etag"]


def test_a_key_read_late_never_holds_up_the_event_loop(tmp_path: Path) -> None:
    """The key of a database not yet migrated when the server started is read once asked for,
    in a thread: a writer holding the file locked then makes that read wait out SQLite's busy
    timeout (5 s), and the requests answer meanwhile, a list's with a 503."""
    database = tmp_path / "muster.db"
    database.touch()
    url = f"sqlite:///{database}"
    with _app(url) as early:
        fill(url)
        locker = sqlite3.connect(database, isolation_level=None)
        try:
            locker.execute("BEGIN EXCLUSIVE")
            asked = time.monotonic()
            assert early.get(PAGED[1]).status_code == 503
            assert early.get("/healthz").status_code == 200
            assert time.monotonic() - asked < 2.5
        finally:
            locker.execute("ROLLBACK")
            locker.close()
