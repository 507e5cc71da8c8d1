"""Storage faults on a real ``muster serve``: what clients saw, and how long until it served again.

Each fault of issue 15, on the backends where it applies, made as the tests in
tests/robustness/test_storage_faults*.py and test_damaged_file.py make it, with their helpers:
the seed data, a server on a loopback port, a PostgreSQL server of the script's own. Run from the
repository, with the project installed in .venv (``.[postgres]``; strace for the killed loads):

    .venv/bin/python -m bench.faults

"back" is the time from the repair (SIGCONT, a restart, the file restored, the next load) to the
first 200 from a data endpoint. The table goes to stdout; the README's Robustness section quotes it.
"""

import argparse
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
from sqlalchemy import make_url

from tests.conftest import ARTICLE_BUNDLE, SEED_DATA
from tests.helpers import append_fact, fill, first_fact
from tests.robustness.server import (
    MUSTER,
    muster_serve,
    postgres_binaries,
    private_postgres_server,
)
from tests.robustness.test_damaged_file import garbled_after_the_header, truncated_to_half

DATA_PATHS = ["/v1/forces?limit=3", "/v1/facts", "/v1/search?q=guard", "/v1/waves"]
UNCACHED = {"cache-control": "no-cache"}


@dataclass
class Row:
    fault: str
    backend: str
    seen: str
    back: str


def _until(condition: Callable[[], bool], limit: float = 30) -> float:
    """Seconds until ``condition()`` holds, asked every 10 ms."""
    started = time.monotonic()
    while not condition():
        if time.monotonic() - started > limit:
            raise RuntimeError(f"not back within {limit} s")
        time.sleep(0.01)
    return time.monotonic() - started


def _serves(client: httpx.Client, path: str = "/v1/facts?limit=1") -> Callable[[], bool]:
    return lambda: client.get(path, headers=UNCACHED).status_code == 200


def _statuses(client: httpx.Client, paths: list[str]) -> str:
    return ", ".join(f"`{path}` {client.get(path).status_code}" for path in paths)


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms"


@contextmanager
def _sqlite_served(folder: Path) -> Iterator[tuple[Path, httpx.Client]]:
    database = folder / "muster.db"
    fill(f"sqlite:///{database}")
    with (
        muster_serve(f"sqlite:///{database}", folder) as served,
        httpx.Client(base_url=served.base_url, timeout=30) as client,
    ):
        assert client.get("/v1/facts").status_code == 200
        yield database, client


def frozen_postgresql(folder: Path) -> Row:
    with private_postgres_server() as postgres:
        fill(postgres.url)
        with (
            muster_serve(postgres.url, folder) as served,
            httpx.Client(base_url=served.base_url, timeout=30) as client,
        ):
            assert client.get("/v1/waves").status_code == 200

            def timed(path: str) -> tuple[int, float]:
                started = time.monotonic()
                status = client.get(path, headers=UNCACHED).status_code
                return status, time.monotonic() - started

            postgres.signal(signal.SIGSTOP)
            with ThreadPoolExecutor(64) as pool:
                answers = list(pool.map(timed, DATA_PATHS * 4))  # in flight as it froze
                answers += pool.map(timed, DATA_PATHS * 16)  # more than anyio's 40 threads
                healthz = timed("/healthz")
            postgres.signal(signal.SIGCONT)
            back = _until(_serves(client))
    statuses = Counter(status for status, _ in answers)
    seen = (
        f"{len(answers)} data requests: {dict(sorted(statuses.items()))}, the slowest in"
        f" {max(seconds for _, seconds in answers):.2f} s; `/healthz` {healthz[0]} in"
        f" {_ms(healthz[1])}"
    )
    return Row("PostgreSQL frozen (`kill -STOP`)", "PostgreSQL", seen, f"{_ms(back)} after SIGCONT")


def stopped_postgresql(folder: Path) -> Row:
    with private_postgres_server() as postgres:
        fill(postgres.url)
        port = str(make_url(postgres.url).port)
        with (
            muster_serve(postgres.url, folder) as served,
            httpx.Client(base_url=served.base_url, timeout=30) as client,
        ):
            assert client.get("/v1/facts").status_code == 200
            os.kill(postgres.processes()[0], signal.SIGQUIT)  # an immediate shutdown
            time.sleep(2)  # the poller sees it
            seen = _statuses(client, ["/readyz", "/v1/facts?limit=1"])
            body = client.get("/v1/facts?limit=2").text
            seen += "; names the place" if port in body or "127.0.0.1" in body else ""
            seen += f'; "{client.get("/readyz").json()["detail"]}"'
            restarted = time.monotonic()
            postgres.start()
            _until(_serves(client))
            back = time.monotonic() - restarted  # the start included
    return Row("PostgreSQL stopped, then started", "PostgreSQL", seen, f"{back:.2f} s after start")


def truncated_to_nothing(folder: Path) -> Row:
    with _sqlite_served(folder) as (database, client):
        good = database.read_bytes()
        database.write_bytes(b"")
        seen = _statuses(client, ["/readyz", "/v1/facts", "/healthz"])
        database.write_bytes(good)
        back = _until(_serves(client))
    return Row("file truncated to 0 bytes, restored in place", "SQLite", seen, _ms(back))


def damaged(damage: Callable[[Path], None], fault: str) -> Callable[[Path], Row]:
    def run(folder: Path) -> Row:
        with _sqlite_served(folder) as (database, client):
            good = database.read_bytes()
            damage(database)
            seen = _statuses(client, ["/readyz", "/healthz"])
            seen += f'; "{client.get("/readyz").json()["detail"]}"'
            database.write_bytes(good)
            back = _until(_serves(client, "/readyz"))
        return Row(fault, "SQLite", seen, _ms(back))

    return run


def moved_over(folder: Path) -> Row:
    shipped = folder.with_name(folder.name + "-shipped") / "muster.db"
    shipped.parent.mkdir()
    fill(f"sqlite:///{shipped}")
    with sqlite3.connect(shipped) as writer:
        writer.execute("UPDATE dataset_loads SET version = 'shipped'")
    with _sqlite_served(folder) as (database, client):
        shutil.move(shipped, database)
        moved = time.monotonic()
        _until(lambda: client.get("/readyz").json().get("data_version") == "shipped")
        back = time.monotonic() - moved
    return Row("a new file `mv`-ed over the served one", "SQLite", "the new data", _ms(back))


def deleted(folder: Path) -> Row:
    with _sqlite_served(folder) as (database, client):
        good = database.read_bytes()
        database.unlink()
        seen = _statuses(client, ["/readyz", "/v1/facts", "/healthz"])
        restored = database.with_name("restored.db")
        restored.write_bytes(good)
        shutil.move(restored, database)
        back = _until(_serves(client))
    return Row("file deleted, then a copy `mv`-ed back", "SQLite", seen, _ms(back))


def killed_load(killed_at: str) -> Callable[[Path], Row]:
    def run(folder: Path) -> Row:
        bundles = folder.with_name(folder.name + "-bundles")
        shutil.copytree(SEED_DATA, bundles)
        fact = first_fact(bundles / ARTICLE_BUNDLE)
        append_fact(bundles / ARTICLE_BUNDLE, fact | {"id": "fact-added-by-the-bench"})
        with _sqlite_served(folder) as (database, client):
            env = {**os.environ, "MUSTER_DATABASE_URL": f"sqlite:///{database}"}
            before = client.get("/readyz").json()["data_version"]
            syscall, when = killed_at.split(":")
            inject = f"inject={syscall}:signal=KILL:{when}"
            load = [str(MUSTER), "load", str(bundles)]
            strace = ["strace", "-f", "-o", "/dev/null", "-e", inject]
            killed = subprocess.run([*strace, *load], env=env, capture_output=True, check=False)
            assert killed.returncode == -signal.SIGKILL, killed.stderr
            same = client.get("/readyz").json()["data_version"] == before
            journal = database.with_name(database.name + "-journal").exists()
            seen = (
                f"{'the previous load' if same else 'ANOTHER VERSION'}, "
                f"{'a journal left' if journal else 'no journal'}"
            )
            started = time.monotonic()
            subprocess.run(load, env=env, check=True, capture_output=True)
            _until(_serves(client, "/v1/facts/fact-added-by-the-bench"))
            back = time.monotonic() - started
        return Row(
            f"`muster load` killed at {syscall}", "SQLite", seen, f"{back:.2f} s into the next load"
        )

    return run


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.parse_args()
    faults: list[Callable[[Path], Row]] = [
        truncated_to_nothing,
        damaged(truncated_to_half, "file truncated to half"),
        damaged(garbled_after_the_header, "file garbled past its header"),
        moved_over,
        deleted,
    ]
    if shutil.which("strace"):
        faults += [killed_load(at) for at in ["pwrite64:when=50", "fsync:when=1", "rename:when=1"]]
    else:
        print("no strace: the killed loads are left out", file=sys.stderr)
    if postgres_binaries():
        faults = [frozen_postgresql, stopped_postgresql, *faults]
    else:
        print("no PostgreSQL server binaries: its faults are left out", file=sys.stderr)
    rows = []
    with tempfile.TemporaryDirectory(prefix="muster-faults.") as scratch:
        for number, fault in enumerate(faults):
            folder = Path(scratch) / f"fault-{number}"
            folder.mkdir()
            rows.append(fault(folder))
            print(f"{rows[-1].fault}: done", file=sys.stderr)
    print("| fault | backend | what clients saw | back |")
    print("| --- | --- | --- | --- |")
    for row in rows:
        print(f"| {row.fault} | {row.backend} | {row.seen} | {row.back} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
