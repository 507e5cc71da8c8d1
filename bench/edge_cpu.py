"""CPU time of one cached read through the whole application, in-process, beside another commit.

    .venv/bin/python -m bench.edge_cpu                  # this tree beside main
    .venv/bin/python -m bench.edge_cpu --against HEAD~1

The application ``create_app`` builds is called as an ASGI app, with no server and no socket, for
``--requests`` cached ``GET /v1/forces`` (gzip accepted, the access log on and written nowhere),
and the process's CPU time is divided by their number. Each round runs this tree and the other
commit (``git archive`` into a temporary folder) one after the other in fresh processes, on one
seeded database, so a noisy neighbour slows both alike; the table gives the median of the rounds.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import logging
import os
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

from starlette.types import Message

REPO = Path(__file__).resolve().parent.parent
MUSTER = Path(sys.executable).with_name("muster")
PATH = "/v1/forces"


def child(database_url: str, requests: int) -> None:
    """One round in this process: print the CPU µs a cached request took."""
    import app.main
    from app.config import Settings
    from app.main import create_app

    assert Path(app.main.__file__).is_relative_to(Path.cwd()), (
        "the tree asked for is not the one run"
    )

    logging.getLogger("muster.access").addHandler(logging.NullHandler())
    logging.getLogger("muster.access").setLevel(logging.INFO)
    logging.getLogger("muster.access").propagate = False
    application = create_app(Settings(database_url=database_url))
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": PATH,
        "raw_path": PATH.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"localhost"), (b"accept-encoding", b"gzip")],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
    }
    statuses: list[int] = []

    async def receive() -> Message:
        await asyncio.Event().wait()  # a client that stays: no route reads a body
        raise AssertionError

    async def send(message: Message) -> None:
        if message["type"] == "http.response.start":
            statuses.append(message["status"])

    async def run() -> float:
        for _ in range(100):  # the first answer fills the cache; the rest warm up
            await application(dict(scope), receive, send)
        started = time.process_time()
        for number in range(requests):
            await application(dict(scope), receive, send)
            if number % 50 == 0:
                await asyncio.sleep(0)  # let the access log write its lines, as a server does
        return (time.process_time() - started) / requests * 1e6

    microseconds = asyncio.run(run())
    assert set(statuses) == {200}, set(statuses)
    print(f"{microseconds:.2f}")


def seeded_database(folder: Path) -> str:
    url = f"sqlite:///{folder / 'seed.db'}"
    env = {**os.environ, "MUSTER_DATABASE_URL": url}
    for command in (["db", "upgrade"], ["load", str(REPO / "app" / "seed_data")]):
        subprocess.run([str(MUSTER), *command], env=env, check=True, capture_output=True)
    return url


def extract(ref: str, folder: Path) -> Path:
    archive = subprocess.run(
        ["git", "-C", str(REPO), "archive", ref], check=True, capture_output=True
    ).stdout
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(folder, filter="data")
    return folder


def one_round(tree: Path, database_url: str, requests: int) -> float:
    env = {**os.environ, "PYTHONPATH": str(tree)}
    script = str(Path(__file__).resolve())
    done = subprocess.run(
        [sys.executable, script, "--child", database_url, "--requests", str(requests)],
        cwd=tree,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    return float(done.stdout.split()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--against", default="main", help="the commit to compare with")
    parser.add_argument("--requests", type=int, default=5000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--child", metavar="DATABASE_URL", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        sys.path.insert(0, os.getcwd())
        child(args.child, args.requests)
        return
    with tempfile.TemporaryDirectory(prefix="muster-edge-cpu-") as temporary:
        folder = Path(temporary)
        database_url = seeded_database(folder)
        other = extract(args.against, folder / "other")
        runs: dict[str, list[float]] = {args.against: [], "this tree": []}
        for _ in range(args.rounds):
            runs[args.against].append(one_round(other, database_url, args.requests))
            runs["this tree"].append(one_round(REPO, database_url, args.requests))
    medians = {name: statistics.median(values) for name, values in runs.items()}
    print(f"CPU per cached GET {PATH}, µs (median of {args.rounds} rounds of {args.requests})")
    for name, values in runs.items():
        print(f"  {name:12} {medians[name]:6.1f}   rounds: {', '.join(f'{v:.1f}' for v in values)}")
    ratio = medians["this tree"] / medians[args.against]
    print(f"  this tree / {args.against}: {ratio:.2f}")


if __name__ == "__main__":
    main()
