"""How fast ``muster check`` and ``muster load`` go, and how soon a server answers, at one scale.

    .venv/bin/python -m bench.load_speed 1000                 # SQLite, bundles made in a temp dir
    .venv/bin/python -m bench.load_speed 1000 --postgres URL  # and a load into that database
    .venv/bin/python -m bench.load_speed 1000 --against main --rounds 3  # beside main's code
    .venv/bin/python -m bench.load_speed 1000 --beside-cores 0 --rounds 3  # beside one core
    .venv/bin/python -m bench.load_speed 1000 --check-only --against main --rounds 5

For the synthetic bundles at SCALE (bench/synthetic.py) it runs, each pinned to ``--cores`` (by
default every core this process may use, as ``muster check`` reads bundles on each of them):
``muster check``; ``muster load`` into a fresh SQLite database (after ``muster db upgrade``)
and, with ``--postgres``, into that database, emptied first and after each load by the code that
loaded it (``muster db downgrade base``); then
``muster serve`` on the SQLite database until its first 200 on /v1/forces. It prints facts per
second by the wall clock and by CPU time (user and system, of muster and its worker processes,
which a busy machine disturbs less), and the peak resident memory of the largest process.

With ``--against REF`` each round runs every step with this checkout's code and then with REF's
(a temporary worktree, on this checkout's packages), one after the other, so that both see the
same machine; it prints each step's medians over ``--rounds`` side by side, and their ratio.
``--beside-cores LIST`` does the same with this checkout's code pinned to LIST: on one core,
muster reads and renders in its own process, not in worker processes.
``--postgres`` empties that database, migrated by this code or at a revision it knows, and
leaves it empty.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import tempfile
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path

from bench.bench import MUSTER, free_port, serve
from bench.scale import MusterRun, run_muster
from bench.synthetic import write_bundles

REPOSITORY = Path(__file__).resolve().parent.parent


def report(label: str, facts: int, runs: list[MusterRun]) -> None:
    seconds = statistics.median(run.seconds for run in runs)
    cpu_seconds = statistics.median(run.cpu_seconds for run in runs)
    peak_mb = statistics.median(run.peak_mb for run in runs)
    print(
        f"{label:<36} {seconds:6.2f} s  {facts / seconds:8,.0f} facts/s  "
        f"(CPU {cpu_seconds:6.2f} s, {facts / cpu_seconds:8,.0f} facts/s)  "
        f"peak {peak_mb:6.0f} MB",
        flush=True,
    )


@contextmanager
def checkout(ref: str) -> Iterator[Path]:
    """A temporary worktree of ``ref``, removed afterwards."""
    with tempfile.TemporaryDirectory(prefix="muster-load-speed-ref-") as temporary:
        tree = Path(temporary) / "tree"
        git = ["git", "-C", str(REPOSITORY), "worktree"]
        subprocess.run([*git, "add", "--detach", str(tree), ref], check=True, capture_output=True)
        try:
            yield tree
        finally:
            subprocess.run([*git, "remove", "--force", str(tree)], check=True)


def one_round(
    runs: dict[str, list[MusterRun]],
    label: str,
    tree: Path | None,
    cores: str,
    workdir: Path,
    bundles: str,
    arguments: argparse.Namespace,
) -> None:
    def muster(url: str, *words: str) -> MusterRun:
        return run_muster(url, *words, core=cores, tree=tree)

    database = workdir / "muster.db"
    database.unlink(missing_ok=True)
    sqlite_url = f"sqlite:///{database}"
    runs[f"muster check{label}"].append(muster(sqlite_url, "check", bundles))
    if arguments.check_only:
        return
    muster(sqlite_url, "db", "upgrade")
    runs[f"muster load, SQLite{label}"].append(muster(sqlite_url, "load", bundles))
    if arguments.postgres:
        muster(arguments.postgres, "db", "upgrade")
        runs[f"muster load, PostgreSQL{label}"].append(muster(arguments.postgres, "load", bundles))
        # Emptied by the code that migrated it: the next round's may not know its revision.
        muster(arguments.postgres, "db", "downgrade", "base")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("scale", type=int)
    # A check alone loads nothing, so there is no database to name with it.
    what_is_timed = parser.add_mutually_exclusive_group()
    what_is_timed.add_argument("--postgres", help="a migratable PostgreSQL database URL, emptied")
    parser.add_argument("--startups", type=int, default=3, help="server starts to take a median of")
    parser.add_argument("--against", metavar="REF", help="a commit to measure beside this code")
    parser.add_argument("--rounds", type=int, default=1, help="runs of each step to take medians")
    parser.add_argument(
        "--beside-cores", metavar="LIST", help="cores to measure this code on beside --cores"
    )
    what_is_timed.add_argument(
        "--check-only", action="store_true", help="time muster check alone: no load, no start-up"
    )
    parser.add_argument(
        "--cores",
        default=",".join(str(core) for core in sorted(os.sched_getaffinity(0))),
        help='taskset\'s list of cores for muster, e.g. "0" (default: all of them)',
    )
    arguments = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="muster-load-speed-") as temporary:
        workdir = Path(temporary)
        generated = write_bundles(workdir / "bundles", arguments.scale)
        facts = generated.facts
        bundles = str(generated.root)
        print(f"{arguments.scale}x: {facts:,} facts, on cores {arguments.cores}")
        runs: dict[str, list[MusterRun]] = defaultdict(list)
        if arguments.postgres:  # emptied by this code, which knows the revisions up to its own
            run_muster(arguments.postgres, "db", "downgrade", "base", core=arguments.cores)
        with checkout(arguments.against) if arguments.against else nullcontext() as other:
            # Each beside this code on --cores: (what its labels end with, its tree, its cores).
            besides: list[tuple[str, Path | None, str]] = []
            if other is not None:
                besides.append((f" ({arguments.against})", other, arguments.cores))
            if arguments.beside_cores:
                cores = arguments.beside_cores
                besides.append((f" (cores {cores})", None, cores))
            for _ in range(arguments.rounds):
                one_round(runs, "", None, arguments.cores, workdir, bundles, arguments)
                for suffix, tree, cores in besides:
                    one_round(runs, suffix, tree, cores, workdir, bundles, arguments)
        for label, measured in runs.items():
            report(label, facts, measured)
        for suffix, _, _ in besides:
            for label in [label for label in runs if not label.endswith(")")]:
                ours = statistics.median(run.seconds for run in runs[label])
                theirs = statistics.median(run.seconds for run in runs[f"{label}{suffix}"])
                print(f"{label}: {theirs / ours:.2f}x the speed of {suffix.strip(' ()')}")
        if arguments.check_only:
            return
        startups = []
        sqlite_url = f"sqlite:///{workdir / 'muster.db'}"
        if arguments.against:  # the database holds REF's schema and load: serve this code's
            run_muster(sqlite_url, "db", "upgrade", core=arguments.cores)
            run_muster(sqlite_url, "load", bundles, core=arguments.cores)
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
