"""Storage faults on a real ``muster serve``: a SQLite file truncated, restored, replaced or
deleted while serving, and a PostgreSQL server that is gone. Each is answered 503 problem+json
naming no place, and the same process serves again once the fault is repaired."""

import os
import shutil
import signal
import sqlite3
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from app import migrate
from app.api.errors import RETRY_AFTER_SECONDS
from tests.conftest import ARTICLE_BUNDLE
from tests.helpers import append_fact, fill, first_fact
from tests.robustness.server import MUSTER, muster_serve


def _seeded(folder: Path) -> Path:
    folder.mkdir()
    database = folder / "muster.db"
    fill(f"sqlite:///{database}")
    return database


def _unavailable(response: httpx.Response) -> None:
    assert response.status_code == 503
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["retry-after"] == str(RETRY_AFTER_SECONDS)  # what a retry honours


def test_a_file_truncated_to_nothing_then_restored_is_served_again(tmp_path: Path) -> None:
    database = _seeded(tmp_path / "data")
    good = database.read_bytes()
    with (
        muster_serve(f"sqlite:///{database}", tmp_path) as served,
        httpx.Client(base_url=served.base_url) as client,
    ):
        assert client.get("/v1/facts").status_code == 200
        database.write_bytes(b"")
        for path in ["/readyz", "/v1/facts", "/v1/forces"]:
            _unavailable(client.get(path))
        database.write_bytes(good)  # restored in place
        assert client.get("/v1/facts").status_code == 200
        database.write_bytes(b"")
        restored = database.with_name("restored.db")
        restored.write_bytes(good)
        shutil.move(restored, database)  # restored by cp + mv
        assert client.get("/readyz").status_code == 200
        assert client.get("/v1/facts").status_code == 200


def test_a_file_moved_over_the_served_one_is_served_next_and_a_deleted_one_is_503(
    tmp_path: Path,
) -> None:
    database = _seeded(tmp_path / "data")
    shipped = _seeded(tmp_path / "shipped")
    with (
        muster_serve(f"sqlite:///{database}", tmp_path) as served,
        httpx.Client(base_url=served.base_url) as client,
    ):
        first = client.get("/readyz").json()["data_version"]
        with sqlite3.connect(shipped) as writer:
            writer.execute("UPDATE dataset_loads SET version = 'shipped'")
        shutil.move(shipped, database)
        assert client.get("/readyz").json()["data_version"] == "shipped" != first
        database.unlink()
        _unavailable(client.get("/readyz"))
        _unavailable(client.get("/v1/facts"))
        assert client.get("/healthz").status_code == 200


@pytest.mark.skipif(shutil.which("strace") is None, reason="needs strace (apt-get install strace)")
@pytest.mark.parametrize("killed_at", ["fsync:when=1", "rename:when=1", "pwrite64:when=50"])
def test_a_load_killed_mid_way_leaves_the_served_file_serving_and_the_next_load_works(
    tmp_path: Path, seed_copy: Path, killed_at: str
) -> None:
    database = _seeded(tmp_path / "data")
    fact = first_fact(seed_copy / ARTICLE_BUNDLE)
    append_fact(seed_copy / ARTICLE_BUNDLE, fact | {"id": "fact-added-by-the-test"})
    url = f"sqlite:///{database}"
    env = {**os.environ, "MUSTER_DATABASE_URL": url}
    syscall, when = killed_at.split(":")
    load = [str(MUSTER), "load", str(seed_copy)]
    with (
        muster_serve(url, tmp_path) as served,
        httpx.Client(base_url=served.base_url) as client,
    ):
        before = client.get("/readyz").json()["data_version"]
        killed = subprocess.run(
            [
                "strace",
                "-f",
                "-o",
                "/dev/null",
                "-e",
                f"inject={syscall}:signal=KILL:{when}",
                *load,
            ],
            env=env,
            capture_output=True,
        )
        assert killed.returncode == -signal.SIGKILL, killed.stderr  # killed by strace
        assert client.get("/readyz").json()["data_version"] == before
        assert client.get("/v1/facts/fact-added-by-the-test").status_code == 404
        assert not database.with_name(database.name + "-journal").exists()
        subprocess.run(load, env=env, check=True, capture_output=True)
        assert client.get("/readyz").json()["data_version"] != before
        assert client.get("/v1/facts/fact-added-by-the-test").status_code == 200


def test_a_file_that_another_writer_holds_locked_leaves_the_server_answering(
    tmp_path: Path,
) -> None:
    """A writer in another process (an operator's sqlite3, a migration in place) changes the
    file, then holds it locked: finding out which load the changed file holds waits out
    SQLite's busy timeout, 5 s. That wait must not hold up the server: the liveness probe
    answers at once, and a read answers 503 by its deadline."""
    database = _seeded(tmp_path / "data")
    settings = {"MUSTER_QUERY_TIMEOUT_SECONDS": "1"}
    with (
        muster_serve(f"sqlite:///{database}", tmp_path, settings=settings) as served,
        httpx.Client(base_url=served.base_url, timeout=30) as client,
        httpx.Client(base_url=served.base_url, timeout=30) as prober,
        ThreadPoolExecutor(1) as reader,
    ):
        assert client.get("/v1/facts").status_code == 200
        writer = sqlite3.connect(database, isolation_level=None)
        try:
            writer.execute("PRAGMA user_version = 7")  # changed in place: its state is read again
            writer.execute("BEGIN EXCLUSIVE")
            asked = time.monotonic()
            facts = reader.submit(client.get, "/v1/facts")
            time.sleep(0.5)
            assert not facts.done()  # it waits on the lock, where it once held the event loop
            assert prober.get("/healthz").status_code == 200
            assert time.monotonic() - asked < 2.5
            _unavailable(facts.result())
            assert time.monotonic() - asked < 4
        finally:
            writer.execute("ROLLBACK")
            writer.close()
        assert client.get("/v1/facts").status_code == 200


def test_a_file_of_an_older_schema_moved_over_the_served_one_is_not_ready(
    tmp_path: Path,
) -> None:
    """A file shipped from, or restored to, an older schema than this Muster's is refused as
    ``muster serve`` refuses it at start: every read is 503 saying to upgrade it, where its
    tables that still answered were served beside 503s from those that changed."""
    database = _seeded(tmp_path / "data")
    older = _seeded(tmp_path / "older")
    migrate.downgrade(f"sqlite:///{older}", "0010")
    current = _seeded(tmp_path / "current")
    with (
        muster_serve(f"sqlite:///{database}", tmp_path) as served,
        httpx.Client(base_url=served.base_url) as client,
    ):
        assert client.get("/readyz").status_code == 200
        shutil.move(older, database)
        for path in ["/readyz", "/v1/facts", "/v1/forces", "/v1/posture"]:
            refused = client.get(path)
            _unavailable(refused)
            assert "revision 0010, older than this Muster's" in refused.json()["detail"], path
        shutil.move(current, database)
        assert client.get("/readyz").status_code == 200
        assert client.get("/v1/posture").status_code == 200
