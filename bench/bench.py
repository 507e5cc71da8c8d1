"""Muster's read throughput beside a constant FastAPI route and Datasette; start-up, load, memory.

Run from the repository, with the project installed in .venv:

    .venv/bin/python bench/bench.py            # the full run, about 10 minutes
    .venv/bin/python bench/bench.py --quick    # about 2 minutes, for a first look

Needs Linux with at least two cores, ``taskset`` and ``wrk`` (``apt-get install -y wrk``; the
script installs it when it is missing and runs as root). Datasette is installed on first use into
bench/.venv-datasette, never into Muster's environment.

Every server runs alone on core 0 and wrk on core 1 (one thread, 32 connections). Each endpoint is
warmed up, then measured in several rounds; the rounds visit every endpoint in turn, so a noisy
neighbour slows all of them alike. The table gives medians over the rounds and ratios of medians:
to the constant route ``return {"ok": True}`` of a separate FastAPI app under the same uvicorn
settings, and Muster's to Datasette's. The table goes to stdout and, with the machine it ran on, to
bench/results-seed.md; progress goes to stderr.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import AbstractContextManager, ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

from anyio import CapacityLimiter, to_thread

# At module level, not in constant_app: FastAPI reads the routes' annotations from the module
# (they are strings here, under ``from __future__ import annotations``).
from fastapi import FastAPI, Query
from starlette.responses import Response

from app.api.routes.facts import FactQuery
from app.main import READS_AT_ONCE
from bench.synthetic import SEED_DATA

BENCH_DIR = Path(__file__).resolve().parent
REPO = BENCH_DIR.parent
MUSTER = Path(sys.executable).with_name("muster")
DATASETTE_VENV = BENCH_DIR / ".venv-datasette"
SERVER_CORE, CLIENT_CORE = "0", "1"
# Both servers get uvicorn's defaults (uvloop and httptools when installed, as with
# uvicorn[standard]) and neither writes uvicorn's access log; Muster writes its own.
UVICORN_OPTIONS = ["--no-access-log", "--no-server-header", "--log-level", "warning"]
SEARCH_WORD = "Marines"
MEMORY_REQUESTS = 100_000
MEMORY_SAMPLE_SECONDS = 2
MEMORY_GROWTH_LIMIT_MB = 2.0  # growth over the second half of the memory run counted as "flat"


QUERY_MODEL_FLOOR = "/query-model?limit=50"
READ_FLOOR = "/first-page?limit=50"
READ_FLOOR_DATABASE = "BENCH_READ_FLOOR_DATABASE"
"""The environment variable naming the loaded Muster SQLite file that ``READ_FLOOR`` reads."""


def constant_app() -> Any:
    """The reference: the least a FastAPI route can do. Served by ``uvicorn --factory``.

    Beside it, ``QUERY_MODEL_FLOOR``: a route that takes the facts list's query model, as
    FastAPI parses it, and answers a constant. It reads no data, so it is the most an uncached
    list of Muster's can reach on this framework.

    And ``READ_FLOOR``, when the environment names a loaded Muster database: the same route that
    also reads the first page of facts (their stored documents, in the default order) in a read
    transaction, in worker threads as many as Muster's reads, and joins them into a body. It has
    none of the rest of Muster's read: no SQLAlchemy, no look at which load it reads, no cursor,
    total, headers, log, timeout or watch for clients that leave. So it is the most an uncached
    first page of Muster's can reach on this framework and database."""
    app = FastAPI()

    @app.get("/")
    async def constant() -> dict[str, bool]:
        return {"ok": True}

    @app.get("/query-model")
    async def query_model(query: Annotated[FactQuery, Query()]) -> Response:  # noqa: ARG001 (parsed: what is measured)
        return Response(b"{}", media_type="application/json")

    database = os.environ.get(READ_FLOOR_DATABASE)
    if database is not None:
        _add_first_page(app, Path(database))
    return app


def _add_first_page(app: FastAPI, database: Path) -> None:
    """``READ_FLOOR`` on ``app``, reading ``database`` (see ``constant_app``)."""
    connections = threading.local()
    reads = CapacityLimiter(READS_AT_ONCE)

    def read_first_page(limit: int) -> bytes:
        connection = getattr(connections, "sqlite", None)
        if connection is None:
            connection = sqlite3.connect(f"file:{database}?mode=ro", uri=True, isolation_level=None)
            connections.sqlite = connection
        connection.execute("BEGIN")
        try:
            rows = connection.execute(
                "SELECT listed FROM facts ORDER BY told_at LIMIT ?", (limit,)
            ).fetchall()
        finally:
            connection.execute("COMMIT")
        return b'{"data":[' + ",".join(listed for (listed,) in rows).encode() + b"]}"

    @app.get("/first-page")
    async def first_page(query: Annotated[FactQuery, Query()]) -> Response:
        if isinstance(query.limit, str):  # all: Muster streams it, as CSV or JSON Lines only
            return Response(b"{}", status_code=400, media_type="application/json")
        body = await to_thread.run_sync(read_first_page, query.limit, limiter=reads)
        return Response(body, media_type="application/json")


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# Servers


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def get(url: str, headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


@dataclass
class Server:
    name: str
    base_url: str
    process: subprocess.Popen[bytes]
    started_in: float  # seconds from launch to the first 200


@contextmanager
def serve(
    name: str,
    command: list[str],
    port: int,
    *,
    cwd: Path,
    env: dict[str, str] | None = None,
    ready_path: str = "/",
    timeout: float = 60.0,
    pinned: bool = True,
) -> Iterator[Server]:
    """Start ``command`` (pinned to the server core unless ``pinned`` is false), wait for a 200
    on ``ready_path``, stop it. Muster's settings come from ``env`` alone, never from the
    environment the benchmark was started in."""
    base_url = f"http://127.0.0.1:{port}"
    log_file = (cwd / f"{name}-{port}.log").open("wb")
    launched = time.perf_counter()
    inherited = {key: value for key, value in os.environ.items() if not key.startswith("MUSTER_")}
    process = subprocess.Popen(
        [*(["taskset", "-c", SERVER_CORE] if pinned else []), *command],
        cwd=cwd,
        env={**inherited, **(env or {})},
        stdout=log_file,
        stderr=subprocess.STDOUT,
    )
    try:
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"{name} exited with {process.returncode}: see {log_file.name}")
            if time.perf_counter() - launched > timeout:
                raise RuntimeError(f"{name} did not answer 200 on {ready_path} in {timeout} s")
            try:
                if get(base_url + ready_path)[0] == 200:
                    break
            except OSError:
                pass
            time.sleep(0.005)
        yield Server(name, base_url, process, time.perf_counter() - launched)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log_file.close()


def muster_program(tree: Path | None) -> list[str]:
    """The ``muster`` command with the code of ``tree`` (a checkout of this repository, run on
    this one's packages), or of this checkout when None."""
    # Run from the checkout, Python finds its ``app`` before the installed one.
    return [sys.executable, "-c", "from app.cli import main; main()"] if tree else [str(MUSTER)]


def muster_server(
    name: str,
    workdir: Path,
    *,
    cache: bool = True,
    access_log: bool = True,
    ready_path: str = "/v1/forces",
) -> AbstractContextManager[Server]:
    port = free_port()
    env = {"MUSTER_RESPONSE_CACHE": "1" if cache else "0"}
    if not access_log:  # the access log's lines are written at info
        env["MUSTER_LOG_LEVEL"] = "warning"
    command = [str(MUSTER), "serve", "--port", str(port)]
    return serve(name, command, port, cwd=workdir, env=env, ready_path=ready_path)


def constant_server(
    workdir: Path, read_floor_database: Path | None = None
) -> AbstractContextManager[Server]:
    """The constant app; with ``read_floor_database``, its ``READ_FLOOR`` reads that file."""
    port = free_port()
    env = (
        {READ_FLOOR_DATABASE: str(read_floor_database)} if read_floor_database is not None else None
    )
    command = [
        *(sys.executable, "-m", "uvicorn", "--factory", "bench.bench:constant_app"),
        *("--app-dir", str(REPO), "--port", str(port), *UVICORN_OPTIONS),
    ]
    return serve("constant", command, port, cwd=workdir, env=env)


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for process {pid}")


# wrk


@dataclass
class Run:
    requests_per_second: float
    p50_ms: float
    p99_ms: float


def wrk(
    url: str,
    seconds: float,
    connections: int,
    headers: dict[str, str] | None = None,
) -> Run:
    command = [
        *("taskset", "-c", CLIENT_CORE, "wrk", "-t1", f"-c{connections}", f"-d{seconds}s"),
        *("--timeout", "10s", "-s", str(BENCH_DIR / "report.lua")),
    ]
    for name, value in (headers or {}).items():
        command += ["-H", f"{name}: {value}"]
    output = subprocess.run([*command, url], capture_output=True, text=True, check=True).stdout
    figures = json.loads(output.strip().splitlines()[-1])
    if figures["socket_errors"] or figures["status_errors"] or not figures["requests"]:
        raise RuntimeError(f"wrk saw errors on {url}: {figures}")
    return Run(
        requests_per_second=figures["requests"] / (figures["duration_us"] / 1e6),
        p50_ms=figures["p50_us"] / 1000,
        p99_ms=figures["p99_us"] / 1000,
    )


def wrk_mix(base_url: str, paths: list[str], seconds: float) -> int:
    """Requests cycling through ``paths`` for ``seconds``; returns how many were answered.

    (wrk runs for a duration: a script cannot end it after a number of requests.)"""
    command = [
        *("taskset", "-c", CLIENT_CORE, "wrk", "-t1", "-c32", f"-d{seconds}s", "--timeout", "10s"),
        *("-s", str(BENCH_DIR / "mix.lua"), base_url, "--", *paths),
    ]
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    figures = json.loads(output.strip().splitlines()[-1])
    if figures["errors"]:
        raise RuntimeError(f"wrk saw {figures['errors']} errors in the memory run")
    requests: int = figures["requests"]
    return requests


# What is measured


@dataclass
class Target:
    """One URL measured: what it is, what it is compared with and what it must reach."""

    label: str
    server: str
    path: str
    headers: dict[str, str] = field(default_factory=dict)
    expected_status: int = 200
    minimum_ratio: float | None = None  # to the constant route
    maximum_p99_ms: float | None = None
    runs: list[Run] = field(default_factory=list)

    @property
    def requests_per_second(self) -> float:
        return statistics.median(run.requests_per_second for run in self.runs)

    @property
    def p50_ms(self) -> float:
        return statistics.median(run.p50_ms for run in self.runs)

    @property
    def p99_ms(self) -> float:
        return statistics.median(run.p99_ms for run in self.runs)


@dataclass
class Comparison:
    """Muster's endpoint beside Datasette's equivalent."""

    label: str
    muster: Target
    datasette: Target
    minimum_ratio: float | None


def muster_targets(base_url: str, fact_id: str) -> list[Target]:
    """Every read endpoint, cache on ("muster") and off ("muster-uncached"), and a 304.

    Search and timeline are measured when the server has them."""
    reads = [
        ("list", "/v1/facts?limit=50"),
        ("list", "/v1/forces"),
        ("detail", "/v1/forces/jtf-north"),
        ("detail", f"/v1/facts/{fact_id}"),
        ("search", f"/v1/search?q={SEARCH_WORD}"),
        ("timeline", "/v1/timeline"),
    ]
    cache_off_minimum = {"list": 0.3, "detail": 0.3, "search": 0.25, "timeline": None}
    served = []
    for kind, path in reads:
        if get(base_url + path)[0] == 200:
            served.append((kind, path))
        else:
            log(f"skipped {path}: not served by this version of Muster")
    warm = [
        Target(f"{kind}, cache warm", "muster", path, minimum_ratio=1.3, maximum_p99_ms=5.0)
        for kind, path in served
    ]
    etag = get(base_url + "/v1/forces/jtf-north")[1]["etag"]
    revalidation = Target(
        "304 revalidation",
        "muster",
        "/v1/forces/jtf-north",
        headers={"If-None-Match": etag},
        expected_status=304,
        minimum_ratio=1.2,
    )
    cold = [
        Target(f"{kind}, cache off", "muster-uncached", path, minimum_ratio=cache_off_minimum[kind])
        for kind, path in served
    ]
    # wrk asks for no compression, but browsers, curl --compressed, httpx and requests do: an
    # answer that is not kept is then compressed for each request (app/api/response_cache.py).
    compressed = Target(
        "list, cache off, gzip accepted",
        "muster-uncached",
        "/v1/facts?limit=50",
        headers={"Accept-Encoding": "gzip"},
    )
    # What the access log costs: an operator behind nginx, which writes its own, may turn it off.
    unlogged = [
        Target(f"{kind}, cache warm, no access log", "muster-unlogged", path)
        for kind, path in served
        if kind == "list"
    ]
    return [*warm, revalidation, *cold, compressed, *unlogged]


def datasette_targets(fact_id: str) -> list[Target]:
    return [
        Target("50-row table page", "datasette", "/muster/facts.json?_size=50"),
        Target("one row", "datasette", f"/muster/facts/{fact_id}.json"),
        Target("full-text search", "datasette", f"/muster/facts.json?_search={SEARCH_WORD}"),
    ]


def comparisons(targets: list[Target], fact_id: str) -> list[Comparison]:
    by_key = {(target.server, target.path): target for target in targets}
    pairs = [
        ("50-row list", "/v1/facts?limit=50", "/muster/facts.json?_size=50", 20.0),
        ("one record", f"/v1/facts/{fact_id}", f"/muster/facts/{fact_id}.json", None),
        (
            "full-text search",
            f"/v1/search?q={SEARCH_WORD}",
            f"/muster/facts.json?_search={SEARCH_WORD}",
            20.0,
        ),
    ]
    return [
        Comparison(label, by_key[("muster", ours)], by_key[("datasette", theirs)], minimum)
        for label, ours, theirs, minimum in pairs
        if ("muster", ours) in by_key and ("datasette", theirs) in by_key
    ]


# Datasette


def datasette_executable() -> Path:
    executable = DATASETTE_VENV / "bin" / "datasette"
    if not executable.exists():
        log(f"installing Datasette into {DATASETTE_VENV} (once)")
        subprocess.run([sys.executable, "-m", "venv", str(DATASETTE_VENV)], check=True)
        pip = DATASETTE_VENV / "bin" / "pip"
        # uvicorn[standard]: the same HTTP parser and event loop as Muster's server
        subprocess.run([str(pip), "install", "-q", "datasette", "uvicorn[standard]"], check=True)
    return executable


def export_for_datasette(muster_db: Path, folder: Path) -> tuple[Path, Path]:
    """A copy of Muster's tables for Datasette, with an FTS5 index of each fact's statement and
    quotes (what Muster's search reads of a fact), and the metadata that tells Datasette of it."""
    folder.mkdir()
    database = folder / "muster.db"
    with sqlite3.connect(muster_db) as source, sqlite3.connect(database) as copy:
        source.backup(copy)
        copy.executescript(
            """
            CREATE VIRTUAL TABLE facts_fts USING fts5(statement, quotes);
            INSERT INTO facts_fts (rowid, statement, quotes)
                SELECT facts.rowid, facts.statement, group_concat(citations.quote, ' ')
                FROM facts JOIN citations ON citations.fact_id = facts.id
                GROUP BY facts.rowid;
            """
        )
    metadata = folder / "metadata.json"
    tables = {"facts": {"fts_table": "facts_fts", "fts_pk": "rowid"}}
    metadata.write_text(json.dumps({"databases": {"muster": {"tables": tables}}}))
    return database, metadata


def datasette_server(database: Path, metadata: Path) -> AbstractContextManager[Server]:
    port = free_port()
    command = [
        *(str(datasette_executable()), "serve", "-i", str(database), "--port", str(port)),
        *("--metadata", str(metadata), "--setting", "default_page_size", "50"),
        # Suggesting facets, which Muster does not offer, took Datasette 1.5 s of a 1.55 s page
        # of facts at 1000x: off, as an API deployment of Datasette would have it.
        *("--setting", "suggest_facets", "off"),
    ]
    return serve("datasette", command, port, cwd=database.parent, ready_path="/muster.json")


# Start-up, load and memory


def first_run_seconds(workdir: Path, runs: int) -> tuple[float, Path]:
    """From ``muster serve`` in an empty folder (create, migrate, load, serve) to the first 200.
    Returns the median and a folder holding the database made."""
    times = []
    for run in range(runs):
        folder = workdir / f"first-run-{run}"
        folder.mkdir()
        with muster_server("first-run", folder) as server:
            times.append(server.started_in)
    return statistics.median(times), folder


def startup_seconds(folder: Path, runs: int) -> float:
    """From ``muster serve`` on an existing database to the first 200."""
    times = []
    for _ in range(runs):
        with muster_server("startup", folder) as server:
            times.append(server.started_in)
    return statistics.median(times)


def load_seconds(workdir: Path, runs: int) -> float:
    """``muster load`` of the seed data into an empty, migrated database, as a user runs it."""
    empty = workdir / "empty.db"
    url = {"MUSTER_DATABASE_URL": f"sqlite:///{empty}"}
    subprocess.run(
        [str(MUSTER), "db", "upgrade"], env={**os.environ, **url}, check=True, capture_output=True
    )
    times = []
    for run in range(runs):
        database = workdir / f"load-{run}.db"
        shutil.copy(empty, database)
        env = {**os.environ, "MUSTER_DATABASE_URL": f"sqlite:///{database}"}
        started = time.perf_counter()
        subprocess.run(
            ["taskset", "-c", SERVER_CORE, str(MUSTER), "load", str(SEED_DATA)],
            env=env,
            check=True,
            capture_output=True,
        )
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def memory_samples(folder: Path, paths: list[str]) -> list[tuple[int, float]]:
    """Resident memory of a fresh server, sampled every ``MEMORY_SAMPLE_SECONDS`` of requests
    until it has answered ``MEMORY_REQUESTS``."""
    with muster_server("memory", folder) as server:
        answered = 0
        samples = [(answered, rss_mb(server.process.pid))]
        while answered < MEMORY_REQUESTS:
            answered += wrk_mix(server.base_url, paths, MEMORY_SAMPLE_SECONDS)
            samples.append((answered, rss_mb(server.process.pid)))
    return samples


def memory_paths(base_url: str, fact_id: str) -> list[str]:
    """Every record's detail, every list at several page sizes, search and timeline: a mix that
    fills the response cache with a few hundred entries."""
    facts = json.loads(get(base_url + "/v1/facts?limit=200")[2])["data"]
    forces = json.loads(get(base_url + "/v1/forces?limit=200")[2])["data"]
    paths = [f"/v1/facts/{fact['id']}" for fact in facts]
    paths += [f"/v1/forces/{force['id']}" for force in forces]
    kinds = ["facts", "forces", "agencies", "waves", "authorities", "activities", "sources"]
    paths += [f"/v1/{kind}?limit={limit}" for kind in kinds for limit in (10, 50, 200)]
    paths += [f"/v1/search?q={SEARCH_WORD}", "/v1/timeline", f"/v1/facts/{fact_id}"]
    return [path for path in paths if get(base_url + path)[0] == 200]


# Report


def accelerators(pid: int) -> str:
    """Which of uvloop and httptools the process runs on: what uvicorn chose for "auto"."""
    maps = Path(f"/proc/{pid}/maps").read_text()
    loaded = [name for name in ("uvloop", "httptools") if f"/{name}/" in maps]
    return " and ".join(loaded) or "neither uvloop nor httptools"


def machine(muster_runs_on: str) -> list[str]:
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        "unknown",
    )
    commit = subprocess.run(
        ["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"], capture_output=True, text=True
    ).stdout.strip()
    dirty = subprocess.run(
        ["git", "-C", str(REPO), "status", "--porcelain", "--", "app"],
        capture_output=True,
        text=True,
    ).stdout.strip()
    wrk_version = subprocess.run(["wrk", "-v"], capture_output=True, text=True).stdout.split()[1]
    versions = ", ".join(
        f"{package} {version(package)}" for package in ("fastapi", "uvicorn", "uvloop", "httptools")
    )
    return [
        f"- CPU: {cpu}, {os.cpu_count()} cores (nproc {len(os.sched_getaffinity(0))})",
        f"- Linux {platform.release()}, Python {platform.python_version()}",
        f"- {versions}, wrk {wrk_version}",
        f"- Muster at commit {commit}{' with uncommitted changes under app/' if dirty else ''}; "
        f"`muster serve` runs on {muster_runs_on}",
    ]


def version(package: str) -> str:
    from importlib.metadata import PackageNotFoundError
    from importlib.metadata import version as installed

    try:
        return installed(package)
    except PackageNotFoundError:
        return "not installed"


def verdict(met: bool | None) -> str:
    return "" if met is None else ("met" if met else "**missed**")


def throughput_table(targets: list[Target], reference: Target) -> list[str]:
    lines = [
        "| endpoint | path | req/s | p50 ms | p99 ms | x constant | target | |",
        "| --- | --- | ---: | ---: | ---: | ---: | --- | --- |",
    ]
    for target in targets:
        ratio = target.requests_per_second / reference.requests_per_second
        goals = []
        met = None
        if target.minimum_ratio is not None:
            goals.append(f">= {target.minimum_ratio}x")
            met = ratio >= target.minimum_ratio
        if target.maximum_p99_ms is not None:
            goals.append(f"p99 <= {target.maximum_p99_ms:g} ms")
            met = bool(met) and target.p99_ms <= target.maximum_p99_ms
        label = "FastAPI constant route" if target is reference else target.label
        lines.append(
            f"| {label} | `{target.path}` | {target.requests_per_second:,.0f} "
            f"| {target.p50_ms:.2f} | {target.p99_ms:.2f} | {ratio:.2f}x "
            f"| {', '.join(goals)} | {verdict(met)} |"
        )
    return lines


def datasette_table(pairs: list[Comparison]) -> list[str]:
    lines = [
        "| what | Datasette path | Datasette req/s | p99 ms | Muster req/s | Muster ÷ Datasette "
        "| target | |",
        "| --- | --- | ---: | ---: | ---: | ---: | --- | --- |",
    ]
    for pair in pairs:
        ratio = pair.muster.requests_per_second / pair.datasette.requests_per_second
        minimum = pair.minimum_ratio
        lines.append(
            f"| {pair.label} | `{pair.datasette.path}` | {pair.datasette.requests_per_second:,.0f} "
            f"| {pair.datasette.p99_ms:.2f} | {pair.muster.requests_per_second:,.0f} "
            f"| {ratio:.1f}x | {f'>= {minimum:g}x' if minimum else ''} "
            f"| {verdict(None if minimum is None else ratio >= minimum)} |"
        )
    return lines


def lifecycle_table(
    first_run: float, startup: float, load: float, samples: list[tuple[int, float]]
) -> list[str]:
    answered, final = samples[-1]
    halfway_answered, halfway = next(sample for sample in samples if sample[0] >= answered / 2)
    growth = final - halfway
    trace = ", ".join(f"{requests:,}: {rss:.1f}" for requests, rss in samples)
    rows = [
        (
            "start-up to the first 200, existing database",
            f"{startup:.2f} s",
            "<= 1 s",
            startup <= 1.0,
        ),
        (
            "first run: create, migrate, load, first 200",
            f"{first_run:.2f} s",
            "<= 3 s",
            first_run <= 3.0,
        ),
        ("`muster load` of the seed data (whole command)", f"{load:.2f} s", "<= 1 s", load <= 1.0),
        (
            f"resident memory after {answered:,} requests",
            f"{final:.1f} MB",
            "<= 120 MB",
            final <= 120.0,
        ),
        (
            f"its growth over the last {answered - halfway_answered:,} requests",
            f"{growth:+.1f} MB",
            f"<= {MEMORY_GROWTH_LIMIT_MB:g} MB",
            growth <= MEMORY_GROWTH_LIMIT_MB,
        ),
    ]
    lines = ["| what | median | target | |", "| --- | ---: | --- | --- |"]
    lines += [f"| {what} | {value} | {goal} | {verdict(met)} |" for what, value, goal, met in rows]
    lines.append("")
    lines.append(f"Resident memory in MB after so many requests: {trace}.")
    return lines


# The run


def ensure_prerequisites() -> None:
    if len(os.sched_getaffinity(0)) < 2:
        sys.exit("the benchmark needs two cores: one for the server, one for wrk")
    if shutil.which("taskset") is None:
        sys.exit("taskset is missing: apt-get install -y util-linux")
    if shutil.which("wrk") is None:
        if os.geteuid() != 0 or shutil.which("apt-get") is None:
            sys.exit("wrk is missing: apt-get install -y wrk")
        log("installing wrk with apt-get")
        subprocess.run(["apt-get", "update", "-qq"], check=True)
        subprocess.run(["apt-get", "install", "-y", "-qq", "wrk"], check=True)
    if not MUSTER.exists():
        sys.exit(f"{MUSTER} is missing: install Muster into this environment first")


def measure(targets: list[Target], servers: dict[str, str], args: argparse.Namespace) -> None:
    for target in targets:
        url = servers[target.server] + target.path
        status = get(url, target.headers)[0]
        if status != target.expected_status:
            raise RuntimeError(f"{url} answered {status}, not {target.expected_status}")
        wrk(url, args.warmup, args.connections, target.headers)
    for round_number in range(1, args.runs + 1):
        log(f"round {round_number} of {args.runs}")
        for target in targets:
            run = wrk(
                servers[target.server] + target.path,
                args.duration,
                args.connections,
                target.headers,
            )
            target.runs.append(run)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5, help="measured rounds per endpoint")
    parser.add_argument("--duration", type=float, default=5, help="seconds of each wrk run")
    parser.add_argument("--warmup", type=float, default=2, help="seconds of warm-up per endpoint")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--quick", action="store_true", help="2 rounds of 2 s: about 2 minutes")
    parser.add_argument("--no-datasette", action="store_true", help="leave Datasette out")
    parser.add_argument("--output", type=Path, default=BENCH_DIR / "results-seed.md")
    args = parser.parse_args()
    if args.quick:
        args.runs, args.duration, args.warmup = 2, 2, 1
    ensure_prerequisites()
    interpreter = Path(sys.executable)
    python = interpreter.relative_to(REPO) if interpreter.is_relative_to(REPO) else "python"
    command = f"{python} bench/bench.py {' '.join(sys.argv[1:])}".strip()
    started = time.perf_counter()
    lifecycle_runs = 3 if args.quick else 5

    with tempfile.TemporaryDirectory(prefix="muster-bench-") as temporary, ExitStack() as stack:
        workdir = Path(temporary)
        log("first runs: create, migrate, load, serve")
        first_run, folder = first_run_seconds(workdir, 2 if args.quick else 3)
        log("start-up on an existing database")
        startup = startup_seconds(folder, lifecycle_runs)
        log("muster load")
        load = load_seconds(workdir, lifecycle_runs)

        constant = stack.enter_context(constant_server(workdir))
        cached = stack.enter_context(muster_server("muster", folder))
        uncached = stack.enter_context(muster_server("muster-uncached", folder, cache=False))
        unlogged = stack.enter_context(muster_server("muster-unlogged", folder, access_log=False))
        servers = {
            "constant": constant.base_url,
            "muster": cached.base_url,
            "muster-uncached": uncached.base_url,
            "muster-unlogged": unlogged.base_url,
        }
        fact_id = json.loads(get(cached.base_url + "/v1/facts?limit=1")[2])["data"][0]["id"]
        muster_runs_on = accelerators(cached.process.pid)
        reference = Target("constant", "constant", "/")
        floor = Target(
            "FastAPI route with the facts query model, no data", "constant", QUERY_MODEL_FLOOR
        )
        targets = [reference, floor, *muster_targets(cached.base_url, fact_id)]
        if not args.no_datasette:
            database, metadata = export_for_datasette(folder / "muster.db", workdir / "datasette")
            datasette = stack.enter_context(datasette_server(database, metadata))
            servers["datasette"] = datasette.base_url
            targets += datasette_targets(fact_id)
        log(f"throughput: {len(targets)} endpoints, {args.runs} rounds of {args.duration:g} s")
        measure(targets, servers, args)
        paths = memory_paths(cached.base_url, fact_id)
        stack.close()  # nothing else on the server core during the memory run
        log(f"memory: {MEMORY_REQUESTS:,} requests over {len(paths)} paths")
        samples = memory_samples(folder, paths)

    muster_rows = [target for target in targets if target.server != "datasette"]
    report = [
        "## Throughput (one server process on one core, wrk -t1 -c"
        f"{args.connections} on the other; medians of {args.runs} runs of {args.duration:g} s)",
        "",
        *throughput_table(muster_rows, reference),
    ]
    pairs = comparisons(targets, fact_id)
    if pairs:
        report += ["", "## Beside Datasette (same data, same pinning)", "", *datasette_table(pairs)]
    report += [
        "",
        "## Start-up, load and memory",
        "",
        *lifecycle_table(first_run, startup, load, samples),
    ]
    print("\n".join(report))
    header = [
        "# Benchmark results",
        "",
        f"Made by `{command}` in {(time.perf_counter() - started) / 60:.1f} minutes on "
        f"{time.strftime('%Y-%m-%d')}, on:",
        "",
        *machine(muster_runs_on),
        "",
    ]
    args.output.write_text("\n".join([*header, *report, ""]))
    log(f"written to {args.output}")


if __name__ == "__main__":
    main()
