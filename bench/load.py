"""Load: a real `muster serve` on loopback, driven by wrk at 32 connections across the endpoints.

It passes with 10,000 requests or more and not one error (no socket error, no status outside
2xx/3xx). Not part of CI: run it by hand on an otherwise idle machine.

    .venv/bin/python -m bench.load [--seconds 20] [--connections 32]

Needs Debian's `wrk` (`apt-get install wrk`) and Muster installed in the running Python.
"""

import argparse
import json
import subprocess
import sys
import tempfile
from contextlib import AbstractContextManager
from pathlib import Path

from bench.bench import MUSTER, Server, free_port, get, serve

BENCH = Path(__file__).resolve().parent
WRK_SCRIPT = BENCH / "mix.lua"  # the paths in turn; prints requests and errors as JSON
MIN_REQUESTS = 10_000


def muster_server(folder: Path) -> AbstractContextManager[Server]:
    """`muster serve` on the embedded database in ``folder`` (created and filled on first start),
    logging as in production (JSON access lines) to a file there. Not pinned to a core: under
    load the server has the machine, as in production."""
    port = free_port()
    command = [str(MUSTER), "serve", "--port", str(port)]
    return serve("muster", command, port, cwd=folder, ready_path="/readyz", pinned=False)


def listed_ids(url: str) -> list[str]:
    return [item["id"] for item in json.loads(get(url)[2])["data"]]


def endpoint_paths(base_url: str) -> list[str]:
    """Paths across every endpoint, all answered 200: lists, filters, details, search, CSV."""
    paths = ["/", "/healthz", "/readyz", "/v1/timeline", "/v1/posture"]
    paths += ["/v1/search?q=marine", "/v1/search?q=lone%20star", "/v1/facts?q=troops&limit=5"]
    for name in ("sources", "forces", "agencies", "waves", "authorities", "activities", "facts"):
        paths += [f"/v1/{name}", f"/v1/{name}?limit=5&format=csv"]
        paths += [f"/v1/{name}/{id_}" for id_ in listed_ids(f"{base_url}/v1/{name}?limit=3")]
    return paths


def run_wrk(base_url: str, paths: list[str], *, seconds: int, connections: int) -> dict[str, int]:
    """One wrk run across ``paths``: how many requests were answered, and how many failed (a
    socket error, a timeout, or a status outside 2xx/3xx)."""
    command = ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "-s", str(WRK_SCRIPT)]
    command += [base_url, "--", *paths]
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    summary: dict[str, int] = json.loads(output.strip().splitlines()[-1])
    return summary


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=20)
    parser.add_argument("--connections", type=int, default=32)
    arguments = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder, muster_server(Path(folder)) as server:
        paths = endpoint_paths(server.base_url)
        run_wrk(server.base_url, paths, seconds=2, connections=arguments.connections)  # warm up
        summary = run_wrk(
            server.base_url, paths, seconds=arguments.seconds, connections=arguments.connections
        )
    print(
        f"{summary['requests']} requests over {len(paths)} paths at {arguments.connections} "
        f"connections in {arguments.seconds} s "
        f"({summary['requests'] / arguments.seconds:.0f} requests/s): {summary['errors']} errors"
    )
    passed = summary["requests"] >= MIN_REQUESTS and summary["errors"] == 0
    print("PASS" if passed else f"FAIL: want {MIN_REQUESTS}+ requests and no error")
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
