"""Faults, each met with a clear answer: a missing, corrupt or read-only database, a full disk
during a load, a load killed while its worker processes read, and SIGTERM while a request is in
flight."""

import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine, event, make_url
from typer.testing import CliRunner

from app.cli import cli
from app.config import get_settings
from bench.synthetic import write_bundles
from tests.conftest import ARTICLE_BUNDLE, SEED_DATA
from tests.helpers import append_fact, fill, first_fact, snapshot
from tests.robustness.server import muster_serve

runner = CliRunner()
SQLITE_ONLY = pytest.mark.parametrize("empty_database_url", ["sqlite"], indirect=True)


def test_serve_refuses_to_start_on_a_missing_database_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    missing = tmp_path / "nowhere" / "muster.db"
    monkeypatch.setenv("MUSTER_DATABASE_URL", f"sqlite:///{missing}")
    get_settings.cache_clear()
    try:
        result = runner.invoke(cli, ["serve"])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 1
    assert f"the database file {missing} does not exist" in result.output
    assert "muster db upgrade && muster load PATH" in result.output
    assert not missing.parent.exists()


@pytest.fixture
def served_copy(tmp_path: Path) -> Path:
    """A SQLite database of the seed data in a folder of its own, which a test may break."""
    database = tmp_path / "data" / "muster.db"
    database.parent.mkdir()
    fill(f"sqlite:///{database}")
    return database


def test_a_database_corrupted_while_serving_gives_503s_and_the_process_stays_up(
    tmp_path: Path, served_copy: Path
) -> None:
    good = served_copy.read_bytes()
    with (
        muster_serve(f"sqlite:///{served_copy}", tmp_path) as served,
        httpx.Client(base_url=served.base_url) as client,
    ):
        assert client.get("/v1/forces").status_code == 200
        served_copy.write_bytes(os.urandom(len(good)))  # in place, as a failing disk would
        for path in ["/readyz", "/", "/v1/forces", "/v1/facts/any", "/v1/search?q=guard"]:
            response = client.get(path)
            assert response.status_code == 503, path
            assert response.headers["content-type"] == "application/problem+json"
            assert "cannot be read" in response.json()["detail"]
            assert response.headers["x-content-type-options"] == "nosniff"
        assert client.get("/healthz").status_code == 200
        assert served.process.poll() is None
        served_copy.write_bytes(good)  # repaired: the same process serves again
        assert client.get("/readyz").status_code == 200
        assert client.get("/v1/forces").status_code == 200


@pytest.mark.skipif(os.geteuid() != 0, reason="a read-only bind mount needs root (CI runs as root)")
def test_reads_work_from_a_database_on_a_read_only_file_system(
    tmp_path: Path, served_copy: Path
) -> None:
    # In a mount namespace of its own, the folder of the database is bind-mounted read-only over
    # itself (root could write through a mere chmod). The shell proves it cannot write there, then
    # becomes the server.
    read_only = (
        'mount --bind "$0" "$0" && mount -o remount,bind,ro "$0" '
        '&& ! touch "$0/probe" 2>/dev/null && exec "$@"'
    )
    wrapper = ["unshare", "--mount", "--propagation", "private", "sh", "-c", read_only]
    wrapper.append(str(served_copy.parent))
    url = f"sqlite:///{served_copy}"
    with (
        muster_serve(url, tmp_path, wrapper=wrapper) as served,
        httpx.Client(base_url=served.base_url) as client,
    ):
        for path in ["/readyz", "/v1/forces", "/v1/facts?limit=200", "/v1/search?q=marines"]:
            assert client.get(path).status_code == 200, path
    assert not (served_copy.parent / "probe").exists()


def _bigger_bundles(seed_copy: Path) -> Path:
    """The seed bundles with many more facts, which take more pages than the seed data."""
    bundle = seed_copy / ARTICLE_BUNDLE
    fact = first_fact(bundle)
    for number in range(300):
        statement = f"{fact['statement']} Restated for the test, time {number}. " * 5
        append_fact(bundle, fact | {"id": f"fact-restated-{number}", "statement": statement})
    return seed_copy


@SQLITE_ONLY
def test_a_disk_full_during_a_load_fails_clearly_and_keeps_the_old_data(
    database_url: str, seed_copy: Path
) -> None:
    assert runner.invoke(cli, ["load", str(SEED_DATA)]).exit_code == 0
    before = snapshot(database_url)
    bigger = _bigger_bundles(seed_copy)

    def disk_full_at_current_size(dbapi_connection: Any, _record: Any) -> None:
        # The file may not grow past the pages it has: a disk with no space left.
        pages = dbapi_connection.execute("PRAGMA page_count").fetchone()[0]
        dbapi_connection.execute(f"PRAGMA max_page_count = {pages}")

    event.listen(Engine, "connect", disk_full_at_current_size)
    try:
        result = runner.invoke(cli, ["load", str(bigger)])
    finally:
        event.remove(Engine, "connect", disk_full_at_current_size)
    assert result.exit_code == 1
    assert "database or disk is full" in result.output
    assert "nothing was loaded" in result.output
    assert snapshot(database_url) == before
    assert runner.invoke(cli, ["load", str(bigger)]).exit_code == 0  # with room, it loads


@SQLITE_ONLY
def test_a_database_folder_the_load_cannot_write_in_fails_in_one_line(database_url: str) -> None:
    """The load's lock file beside the database cannot be made (a directory there stands for a
    read-only folder, which root could write in anyway): one line naming the file, not a
    traceback."""
    assert runner.invoke(cli, ["load", str(SEED_DATA)]).exit_code == 0
    before = snapshot(database_url)
    database = Path(make_url(database_url).database or "")
    lock = database.with_name(f".{database.name}.load-lock")
    lock.unlink()
    lock.mkdir()
    result = runner.invoke(cli, ["load", str(SEED_DATA)])
    assert result.exit_code == 1
    assert result.output == f"error: {lock}: is a directory; nothing was loaded\n"
    assert snapshot(database_url) == before


@SQLITE_ONLY
def test_a_disk_full_as_the_load_copies_the_schema_fails_in_one_line(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The staging file, made by sqlite3 itself, not SQLAlchemy, has no room: one line naming
    the database, not a traceback."""
    assert runner.invoke(cli, ["load", str(SEED_DATA)]).exit_code == 0
    before = snapshot(database_url)

    def disk_full(*_args: Any, **_kwargs: Any) -> sqlite3.Connection:
        raise sqlite3.OperationalError("database or disk is full")

    with monkeypatch.context() as full:
        full.setattr(sqlite3, "connect", disk_full)
        result = runner.invoke(cli, ["load", str(SEED_DATA)])
    database = make_url(database_url).database
    assert result.exit_code == 1
    assert result.output == f"error: {database}: database or disk is full; nothing was loaded\n"
    assert snapshot(database_url) == before


ROOT = Path(__file__).resolve().parent.parent

LOAD_WITH_SLOW_WORKERS = """
import os, sys, time
from pathlib import Path
import pytest
from app.cli import main
from app.ingest import check
from tests.helpers import read_in_workers

read_in_workers(pytest.MonkeyPatch())
loading, read_records, started = os.getpid(), check._read_records, Path(sys.argv[2])

def slow_in_a_worker(model, file_name, *rest):
    if os.getpid() != loading and file_name != "facts.yaml":  # the load's reading, not the check's
        started.touch()
        time.sleep(60)
    return read_records(model, file_name, *rest)

check._read_records = slow_in_a_worker
sys.argv[1:] = ["load", sys.argv[1]]
main()
"""


def _children(parent: int) -> list[int]:
    children = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rpartition(")")[2].split()
        except OSError:
            continue  # it ended
        if int(fields[1]) == parent:
            children.append(int(stat.parent.name))
    return children


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0]
    except OSError:
        return False
    return state != "Z"


def test_a_load_killed_while_its_workers_read_takes_them_along_and_the_next_load_runs(
    database_url: str, tmp_path: Path
) -> None:
    """Killed, however hard, a load's worker processes end with it: none lives on holding its
    lock file or its database connection, and the next load runs."""
    bundles = write_bundles(tmp_path / "bundles", 3).root
    started = tmp_path / "workers-started"
    env = {**os.environ, "MUSTER_DATABASE_URL": database_url}
    command = [sys.executable, "-c", LOAD_WITH_SLOW_WORKERS, str(bundles), str(started)]
    load = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL)
    workers: list[int] = []
    try:
        deadline = time.monotonic() + 60
        while not started.exists() and time.monotonic() < deadline and load.poll() is None:
            time.sleep(0.05)
        assert started.exists(), "the load's workers never started"
        workers = _children(load.pid)
        assert len(workers) == 2
        load.kill()
        load.wait()
        deadline = time.monotonic() + 5
        while any(map(_alive, workers)) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not any(map(_alive, workers)), "the workers outlived the load"
        again = [sys.executable, "-c", "from app.cli import main; main()", "load", str(bundles)]
        done = subprocess.run(again, cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, done.stderr
        assert done.stdout.startswith("loaded data version")
    finally:
        load.kill()
        for worker in filter(_alive, workers):
            os.kill(worker, signal.SIGKILL)


def test_sigterm_lets_the_request_in_flight_finish_then_exits_cleanly(
    tmp_path: Path, served_copy: Path
) -> None:
    with muster_serve(f"sqlite:///{served_copy}", tmp_path) as served:
        body = b"0123456789"
        head = (
            b"GET /v1/forces HTTP/1.1\r\nHost: muster\r\nX-Request-ID: in-flight\r\n"
            b"Content-Length: %d\r\n\r\n" % len(body)
        )
        with socket.create_connection(("127.0.0.1", served.port)) as connection:
            # The request is in flight once the server waits for the rest of its body.
            connection.sendall(head + body[:5])
            time.sleep(0.2)
            served.process.send_signal(signal.SIGTERM)
            _wait_until_refused(served.port)  # it stopped taking connections
            assert served.process.poll() is None
            connection.sendall(body[5:])
            response = _read_response(connection)
        assert response.startswith(b"HTTP/1.1 200 ")
        assert served.process.wait(timeout=10) == 0
    # Every line logged is one JSON object; the request's own names it, its path and status.
    lines = [json.loads(line) for line in served.log_lines()]
    access = [line for line in lines if line["logger"] == "muster.access"]
    assert {
        "request_id": "in-flight",
        "method": "GET",
        "path": "/v1/forces",
        "status": 200,
    }.items() <= access[-1].items()


def _wait_until_refused(port: int) -> None:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
        except ConnectionRefusedError:
            return
        time.sleep(0.02)
    raise AssertionError("the server still accepts connections after SIGTERM")


def _read_response(connection: socket.socket) -> bytes:
    connection.settimeout(10)
    received = b""
    while b"\r\n\r\n" not in received:
        chunk = connection.recv(65536)
        if not chunk:
            break
        received += chunk
    return received
