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
import statistics
import tempfile
from pathlib import Path

from bench.bench import MUSTER, free_port, serve
from bench.scale import MusterRun, run_muster
from bench.synthetic import write_bundles


def report(label: str, facts: int, run: MusterRun) -> None:
    print(
        f"{label:<24} {run.seconds:6.2f} s  {facts / run.seconds:8,.0f} facts/s  "
        f"(CPU {run.cpu_seconds:6.2f} s, {facts / run.cpu_seconds:8,.0f} facts/s)  "
        f"peak {run.peak_mb:6.0f} MB",
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
        report("muster check", facts, run_muster(sqlite_url, "check", bundles))
        run_muster(sqlite_url, "db", "upgrade")
        report("muster load, SQLite", facts, run_muster(sqlite_url, "load", bundles))
        if arguments.postgres:
            run_muster(arguments.postgres, "db", "upgrade")
            loaded = run_muster(arguments.postgres, "load", bundles)
            report("muster load, PostgreSQL", facts, loaded)
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
