"""Soak: a real `muster serve` under wrk for five minutes; its resident memory must grow < 10%.

Memory is read from /proc after a warm-up run (the baseline: caches filled, allocator settled)
and after each later run. It passes when the last reading is less than 10% above the baseline
and not one request failed. Not part of CI: run it by hand on an otherwise idle machine.

    .venv/bin/python -m bench.soak [--minutes 5] [--connections 32]
"""

import argparse
import sys
import tempfile
from pathlib import Path

from bench.load import endpoint_paths, muster_server, run_wrk

RUN_SECONDS = 30
MAX_GROWTH = 0.10


def resident_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for process {pid}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=5)
    parser.add_argument("--connections", type=int, default=32)
    arguments = parser.parse_args()
    runs = max(1, round(arguments.minutes * 60 / RUN_SECONDS))
    requests = failed = 0
    with tempfile.TemporaryDirectory() as folder, muster_server(Path(folder)) as server:
        paths = endpoint_paths(server.base_url)
        pid = server.process.pid
        run_wrk(server.base_url, paths, seconds=RUN_SECONDS, connections=arguments.connections)
        baseline = resident_kib(pid)
        print(f"after warm-up: {baseline / 1024:.1f} MiB resident")
        for run in range(1, runs + 1):
            summary = run_wrk(
                server.base_url, paths, seconds=RUN_SECONDS, connections=arguments.connections
            )
            requests += summary["requests"]
            failed += summary["errors"]
            rss = resident_kib(pid)
            print(
                f"{run * RUN_SECONDS:4d} s: {rss / 1024:.1f} MiB resident "
                f"({(rss - baseline) / baseline:+.1%}), {requests} requests, {failed} errors"
            )
    growth = (rss - baseline) / baseline
    print(
        f"{requests} requests in {runs * RUN_SECONDS} s at {arguments.connections} connections, "
        f"{failed} errors; resident memory {baseline / 1024:.1f} -> {rss / 1024:.1f} MiB "
        f"({growth:+.1%})"
    )
    passed = growth < MAX_GROWTH and failed == 0
    print("PASS" if passed else f"FAIL: want growth under {MAX_GROWTH:.0%} and no error")
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
