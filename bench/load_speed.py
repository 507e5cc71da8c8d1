"""How fast ``muster check`` and ``muster load`` go, and how soon a server answers, at one scale.

    .venv/bin/python -m bench.load_speed 1000                 # SQLite, bundles made in a temp dir
    .venv/bin/python -m bench.load_speed 1000 --postgres URL  # and a load into that database

For the synthetic bundles at SCALE (bench/synthetic.py) it runs, each pinned to the server core as
bench/scale.py runs them: ``muster check``; ``muster load`` into a fresh SQLite database (after
``muster db upgrade``) and, with ``--postgres``, into that database; then ``muster serve`` on the
SQLite database until its first 200 on /v1/forces. It prints facts per second by the wall clock and
by CPU time (user and system, which a busy machine disturbs less), the peak resident memory and
the median start-up. ``--postgres`` replaces what that database holds.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

from bench.bench import MUSTER, SERVER_CORE, free_port, serve
from bench.synthetic import write_bundles


def timed(url: str, *arguments: str) -> tuple[float, float, float]:
    """Run ``muster ARGUMENTS``: wall seconds, CPU seconds and peak resident MB."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("MUSTER_")}
    started = time.perf_counter()
    process = subprocess.Popen(
        ["taskset", "-c", SERVER_CORE, str(MUSTER), *arguments],
        env={**env, "MUSTER_DATABASE_URL": url},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    assert process.stdout is not None
    output = process.stdout.read().decode()
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - started
    if os.waitstatus_to_exitcode(status):
        raise RuntimeError(f"muster {' '.join(arguments)} failed:\n{output[-2000:]}")
    return seconds, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024


def report(label: str, facts: int, figures: tuple[float, float, float]) -> None:
    seconds, cpu, rss = figures
    print(
        f"{label:<24} {seconds:6.2f} s  {facts / seconds:8,.0f} facts/s  "
        f"(CPU {cpu:6.2f} s, {facts / cpu:8,.0f} facts/s)  peak {rss:6.0f} MB",
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("scale", type=int)
    parser.add_argument("--postgres", help="an empty, migratable PostgreSQL database URL")
    parser.add_argument("--startups", type=int, default=3, help="server starts to take a median of")
    arguments = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="muster-load-speed-") as temporary:
        workdir = Path(temporary)
        generated = write_bundles(workdir / "bundles", arguments.scale)
        facts = generated.facts
        bundles = str(generated.root)
        sqlite_url = f"sqlite:///{workdir / 'muster.db'}"
        print(f"{arguments.scale}x: {facts:,} facts")
        report("muster check", facts, timed(sqlite_url, "check", bundles))
        timed(sqlite_url, "db", "upgrade")
        report("muster load, SQLite", facts, timed(sqlite_url, "load", bundles))
        if arguments.postgres:
            timed(arguments.postgres, "db", "upgrade")
            report("muster load, PostgreSQL", facts, timed(arguments.postgres, "load", bundles))
        startups = []
        for _ in range(arguments.startups):
            command = [str(MUSTER), "serve", "--port", str(port := free_port())]
            env = {"MUSTER_DATABASE_URL": sqlite_url}
            with serve(
                "startup", command, port, cwd=workdir, env=env, ready_path="/v1/forces"
            ) as up:
                startups.append(up.started_in)
        print(
            f"start-up to the first 200, SQLite: median {statistics.median(startups):.2f} s "
            f"of {', '.join(f'{s:.2f}' for s in startups)}"
        )


if __name__ == "__main__":
    main()
