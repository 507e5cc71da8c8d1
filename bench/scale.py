"""Muster as the data grows: synthetic bundles at 1x, 10x, 100x and 1000x the seed, on SQLite and
on PostgreSQL, beside the FastAPI constant route and Datasette.

Run from the repository, with the project installed in .venv (``.[postgres]`` for PostgreSQL):

    .venv/bin/python -m bench.scale                          # 1x to 1000x, both backends
    .venv/bin/python -m bench.scale --scales 1,10 --quick    # a first look in a few minutes
    .venv/bin/python -m bench.scale --scales 1,10,100,1000,10000 --backends sqlite

The bundles come from bench/synthetic.py (58 facts and 42 entities a source, hubs shared by all).
For each scale and backend the script times ``muster check`` and ``muster load`` into a fresh
database (with the load's peak resident memory), both on every core, the database's size and the
start-up to the first 200 on it; then, with the servers pinned as bench/bench.py pins them (each
server on core 0, wrk on core 1), the requests per second and p99 of every endpoint below with the
response cache on and off (``MUSTER_RESPONSE_CACHE=0``), as ratios to the FastAPI constant route
measured in the same rounds, and on SQLite the most an uncached first page can reach (a bare
FastAPI route that reads it, bench.READ_FLOOR); Datasette over a copy of the SQLite tables; the
resident memory of a
fresh server after warming every endpoint, and after asking for 12 ``as_of`` days more; and, at
1000x (or the largest scale run), a reload under read traffic: the reads' p99 and the longest time
no read was answered.

PostgreSQL is a throwaway server started as .ci/postgres.sh starts it (fsync off); its processes
are not pinned. The table goes to stdout and to bench/results.md; progress to stderr.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import re
import secrets
import shlex
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from functools import partial
from pathlib import Path
from typing import Any

from bench.bench import (
    BENCH_DIR,
    CLIENT_CORE,
    MUSTER,
    READ_FLOOR,
    REPO,
    SERVER_CORE,
    Server,
    Target,
    accelerators,
    constant_server,
    datasette_server,
    ensure_prerequisites,
    export_for_datasette,
    free_port,
    log,
    machine,
    muster_program,
    rss_mb,
    serve,
    verdict,
    wrk,
    wrk_mix,
)
from bench.synthetic import HUBS, SEED_PUBLISHED, Generated, write_bundles

HUB_FORCE = HUBS["forces"][0]
COMMON_WORD = "Marines"
REQUEST_TIMEOUT = 600.0  # a cold answer at 1000x may take many seconds; it is a figure, not a hang
STARTUP_TIMEOUT = 900.0
AS_OF_DAYS = 12
RELOAD_SCALE = 1000
RELOAD_PROBES = 4  # concurrent readers during the reload
RELOAD_SETTLE_SECONDS = 5.0  # reads after the load's commit, when a server switches versions
ABANDONED_CLIENTS = 512  # a burst of uncached searches whose clients all leave early
BUSY_CPU_SHARE = 0.3  # a server using more of a core than this is taken to be still working
BUSY_WINDOW_SECONDS = 0.1  # ... in windows this long (CPU time moves in ticks of 10 ms)
ENDPOINTS = (
    "first page",
    "deep page",
    "detail",
    "search, common word",
    "search, rare word",
    "timeline",
    "posture",
    "changes",
)


# Measures of one scale on one backend


@dataclass
class Reload:
    seconds: float
    reads: int
    errors: int
    p99_ms: float
    longest_ms: float
    longest_pause_s: float
    quiet_p99_ms: float  # the same reads just before the reload


@dataclass
class Abandoned:
    clients: int
    answered_s: float  # the burst answered whole, on the clock
    left_after_s: float  # when its clients went away
    worked_s: float  # how long the server went on working after that


READ_FLOOR_LABEL = "the most an uncached first page can reach: a bare FastAPI route that reads it"


@dataclass
class Block:
    scale: int
    backend: str
    facts: int
    check_s: float = 0.0
    load_s: float = 0.0
    load_rss_mb: float = 0.0
    database_mb: float = 0.0
    startup_s: float = 0.0
    rss_warm_mb: float | None = None
    rss_as_of_mb: float | None = None
    reference: Target = field(default_factory=lambda: Target("constant", "constant", "/"))
    read_floor: Target | None = None
    """On SQLite: the most an uncached first page can reach (bench.READ_FLOOR)."""
    cached: dict[str, Target] = field(default_factory=dict)
    uncached: dict[str, Target] = field(default_factory=dict)
    datasette: dict[str, Target] = field(default_factory=dict)
    failures: dict[str, str] = field(default_factory=dict)  # target label -> why it has no figure
    reload: Reload | None = None
    abandoned: Abandoned | None = None

    def ratio(self, target: Target | None) -> float | None:
        if target is None or not target.runs or not self.reference.runs:
            return None
        return target.requests_per_second / self.reference.requests_per_second


# Commands and requests


# The deep page's cursor is taken from one server's next links and asked of the others, so they
# share a key, as the replicas of one API must.
CURSOR_KEY = secrets.token_hex(32)


def muster_env(url: str, **settings: str) -> dict[str, str]:
    inherited = {key: value for key, value in os.environ.items() if not key.startswith("MUSTER_")}
    return {**inherited, "MUSTER_DATABASE_URL": url, **settings}


@dataclass(frozen=True)
class MusterRun:
    seconds: float
    cpu_seconds: float
    """User and system time, which a busy machine disturbs less than the wall clock."""
    peak_mb: float
    output: str


# The timed check and load are batch commands, given every core as on an operator's machine
# (check reads bundles in a process per core); servers are pinned to one, to be measured per core.
EVERY_CORE = f"{SERVER_CORE},{CLIENT_CORE}"


def run_muster(
    url: str, *arguments: str, core: str = SERVER_CORE, tree: Path | None = None
) -> MusterRun:
    """Run ``muster ARGUMENTS`` on ``url``, pinned to ``core`` (a taskset list, e.g. "0,1"), with
    the code of ``tree`` (a checkout of this repository, on this one's packages) when given;
    raises if it fails."""
    command = muster_program(tree)
    started = time.perf_counter()
    process = subprocess.Popen(
        ["taskset", "-c", core, *command, *arguments],
        env=muster_env(url),
        cwd=tree,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    assert process.stdout is not None
    output = process.stdout.read().decode()
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - started
    if os.waitstatus_to_exitcode(status):
        raise RuntimeError(f"muster {' '.join(arguments)} failed:\n{output[-2000:]}")
    return MusterRun(seconds, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, output)


def loaded_version(output: str) -> str:
    found = re.search(r"data version ([0-9a-f]+)", output)
    if found is None:
        raise RuntimeError(f"muster load said no data version: {output[-500:]}")
    return found.group(1)


def fetch(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=REQUEST_TIMEOUT) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def fetch_json(url: str) -> Any:
    status, body = fetch(url)
    if status != 200:
        raise RuntimeError(f"{url} answered {status}: {body[:300]!r}")
    return json.loads(body)


def muster_server(
    name: str, workdir: Path, url: str, *, cache: bool = True
) -> AbstractContextManager[Server]:
    port = free_port()
    env = {
        "MUSTER_DATABASE_URL": url,
        "MUSTER_RESPONSE_CACHE": "1" if cache else "0",
        "MUSTER_CURSOR_KEY": CURSOR_KEY,
    }
    command = [str(MUSTER), "serve", "--port", str(port)]
    return serve(
        name, command, port, cwd=workdir, env=env, ready_path="/v1/forces", timeout=STARTUP_TIMEOUT
    )


# Databases


@contextmanager
def throwaway_postgres() -> Iterator[str]:
    """A PostgreSQL server of its own, by .ci/postgres.sh's functions; yields its URL."""
    script = shlex.quote(str(REPO / ".ci" / "postgres.sh"))
    started = subprocess.run(
        [
            "bash",
            "-c",
            f"source {script} && start_postgres >&2 && "
            'printf "%s\\n%s\\n%s\\n" "$MUSTER_TEST_POSTGRES_URL" "$POSTGRES_DIR" "$POSTGRES_BIN"',
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    url, folder, binaries = started.stdout.splitlines()[:3]
    try:
        yield url
    finally:
        subprocess.run(
            [
                "bash",
                "-c",
                f"source {script} && POSTGRES_DIR={shlex.quote(folder)} && "
                f"POSTGRES_BIN={shlex.quote(binaries)} && stop_postgres",
            ],
            check=False,
        )


def fresh_database(backend: str, scale: int, workdir: Path, postgres_url: str | None) -> str:
    if backend == "sqlite":
        path = workdir / f"muster-{scale}x.db"
        path.unlink(missing_ok=True)
        return f"sqlite:///{path}"
    from sqlalchemy import create_engine, make_url, text

    assert postgres_url is not None
    name = f"muster_scale_{scale}"
    engine = create_engine(postgres_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    engine.dispose()
    return make_url(postgres_url).set(database=name).render_as_string(hide_password=False)


def database_mb(url: str) -> float:
    if url.startswith("sqlite:///"):
        path = Path(url.removeprefix("sqlite:///"))
        files = [path, path.with_name(path.name + "-wal")]
        return sum(file.stat().st_size for file in files if file.exists()) / 2**20
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    with engine.connect() as connection:
        size = connection.execute(text("SELECT pg_database_size(current_database())")).scalar_one()
    engine.dispose()
    return float(size) / 2**20


# Bundles


def variant_of(generated: Generated, folder: Path) -> Path:
    """The same bundles with the last source's fact statements reworded: a second data version,
    for a ``changes`` answer that holds something and for the reload under traffic."""
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir()
    last = generated.sources[-1]
    for bundle in generated.root.iterdir():
        if bundle.name != last:
            (folder / bundle.name).symlink_to(bundle, target_is_directory=True)
    shutil.copytree(generated.root / last, folder / last)
    facts = folder / last / "facts.yaml"
    facts.write_text(facts.read_text().replace('statement: "', 'statement: "Earlier draft: '))
    return folder


# Endpoints


def endpoint_paths(base_url: str, generated: Generated, since: str) -> dict[str, str]:
    rare = list(generated.rare_words)[len(generated.rare_words) // 2]
    return {
        "first page": "/v1/facts?limit=50",
        "deep page": deep_page(base_url, generated.facts),
        "detail": f"/v1/forces/{HUB_FORCE}",
        "search, common word": f"/v1/search?q={COMMON_WORD}",
        "search, rare word": f"/v1/search?q={rare}",
        "timeline": "/v1/timeline",
        "posture": "/v1/posture",
        "changes": f"/v1/changes?since={since}",
    }


def deep_page(base_url: str, facts: int) -> str:
    """The 50-fact page half-way down /v1/facts: ``next`` links followed 200 facts at a time, and
    the last one's limit set to 50 (a cursor names a place in a query, not a page size)."""
    path = "/v1/facts?limit=200"
    seen = 0
    while seen + 200 <= facts // 2:
        page = fetch_json(urllib.parse.urljoin(base_url, path))
        seen += len(page["data"])
        if page["next"] is None:
            break
        path = page["next"]  # an absolute URL
    split = urllib.parse.urlsplit(path)
    query = dict(urllib.parse.parse_qsl(split.query))
    query["limit"] = "50"
    deep = f"{split.path}?{urllib.parse.urlencode(query)}"
    if fetch(base_url + deep)[0] != 200:  # a server whose cursors are bound to the page size
        deep = path.replace("limit=200", "limit=50")
    return deep


def memory_paths(base_url: str, paths: dict[str, str]) -> list[str]:
    """Every endpoint: the measured ones, each collection's first page and first record's detail,
    a fact's detail, CSV and the front page."""
    mix = [*paths.values(), "/", "/v1/facts?limit=200&format=csv"]
    for kind in ("forces", "agencies", "waves", "authorities", "activities", "sources", "facts"):
        page = fetch_json(f"{base_url}/v1/{kind}?limit=50")
        mix.append(f"/v1/{kind}?limit=50")
        mix += [item["url"] for item in page["data"][:3]]
    return mix


# Measuring


def measure_rounds(
    block: Block, targets: list[Target], servers: dict[str, str], args: argparse.Namespace
) -> None:
    """As bench/bench.py measures: warm each target, then rounds that visit every target in turn.
    A target that errs, times out or is not answered within a wrk run gets no figure but the
    reason and the time of one request alone, and the rest go on."""
    live = []
    for target in targets:
        url = servers[target.server] + target.path
        try:
            status = fetch(url)[0]
            if status != target.expected_status:
                raise RuntimeError(f"answered {status}")
            wrk(url, args.warmup, args.connections)
            live.append(target)
        except (RuntimeError, OSError, subprocess.CalledProcessError) as error:
            no_figure(block, target, url, error)
    for round_number in range(1, args.runs + 1):
        log(f"  round {round_number} of {args.runs}")
        for target in list(live):
            url = servers[target.server] + target.path
            try:
                target.runs.append(wrk(url, args.duration, args.connections))
            except (RuntimeError, subprocess.CalledProcessError) as error:
                live.remove(target)
                target.runs.clear()
                no_figure(block, target, url, error)


def no_figure(block: Block, target: Target, url: str, error: Exception) -> None:
    began = time.perf_counter()
    try:
        status = str(fetch(url)[0])
    except OSError as failure:
        status = repr(failure)
    alone = f"one request alone: {status} in {time.perf_counter() - began:.2f} s"
    block.failures[target.label] = f"{str(error).splitlines()[0][:160]}; {alone}"
    log(f"  {target.label}: no figure ({block.failures[target.label]})")


def lifecycle(block: Block, url: str, generated: Generated, variant: Path, check_s: float) -> str:
    """Load into a fresh database (timed), then the variant and the bundles again, so that a
    version is on record for ``changes``; start-up on the result. Returns the variant's version."""
    block.check_s = check_s
    run_muster(url, "db", "upgrade")
    load = run_muster(url, "load", str(generated.root), core=EVERY_CORE)
    block.load_s, block.load_rss_mb = load.seconds, load.peak_mb
    variant_version = loaded_version(run_muster(url, "load", str(variant)).output)
    run_muster(url, "load", str(generated.root))
    block.database_mb = database_mb(url)
    return variant_version


def startup(block: Block, url: str, workdir: Path, runs: int) -> None:
    times = []
    for _ in range(runs):
        with muster_server("startup", workdir, url) as server:
            times.append(server.started_in)
    block.startup_s = statistics.median(times)


def throughput(
    block: Block,
    url: str,
    workdir: Path,
    generated: Generated,
    since: str,
    args: argparse.Namespace,
) -> tuple[dict[str, str], str]:
    """Every endpoint cached and uncached, Datasette's equivalents and the read floor on SQLite,
    the constant route: one set of rounds. Returns the paths and the uvicorn accelerators Muster
    ran on."""
    with ExitStack() as stack:
        on_sqlite = block.backend == "sqlite"
        database = Path(url.removeprefix("sqlite:///")) if on_sqlite else None
        constant = stack.enter_context(constant_server(workdir, read_floor_database=database))
        cached = stack.enter_context(muster_server("cached", workdir, url))
        uncached = stack.enter_context(muster_server("uncached", workdir, url, cache=False))
        servers = {"constant": constant.base_url, "cached": cached.base_url}
        servers["uncached"] = uncached.base_url
        paths = endpoint_paths(cached.base_url, generated, since)
        targets = [block.reference]
        if on_sqlite:
            block.read_floor = Target(READ_FLOOR_LABEL, "constant", READ_FLOOR)
            targets.append(block.read_floor)
        for label, path in paths.items():
            block.cached[label] = Target(f"{label}, cached", "cached", path)
            block.uncached[label] = Target(f"{label}, uncached", "uncached", path)
        targets += [*block.cached.values(), *block.uncached.values()]
        if database is not None and not args.no_datasette:
            try:
                exported, metadata = export_for_datasette(
                    database, workdir / f"datasette-{block.scale}x"
                )
                datasette = stack.enter_context(datasette_server(exported, metadata))
                servers["datasette"] = datasette.base_url
                block.datasette = {
                    "first page": Target("Datasette list", "datasette", "/muster/facts.json"),
                    "detail": Target(
                        "Datasette detail", "datasette", f"/muster/forces/{HUB_FORCE}.json"
                    ),
                    "search, common word": Target(
                        "Datasette search",
                        "datasette",
                        f"/muster/facts.json?_search={COMMON_WORD}",
                    ),
                }
                targets += block.datasette.values()
            except Exception as error:  # its copy of tables that Muster may have changed
                block.failures["Datasette"] = str(error).splitlines()[0][:200]
                log(f"  Datasette: left out ({block.failures['Datasette']})")
        log(f"  throughput: {len(targets)} targets, {args.runs} rounds of {args.duration:g} s")
        measure_rounds(block, targets, servers, args)
        return paths, accelerators(cached.process.pid)


def memory(
    block: Block, url: str, workdir: Path, paths: dict[str, str], args: argparse.Namespace
) -> None:
    """A fresh server (cache on): every endpoint once, then a mix of them under wrk; then 12
    ``as_of`` days of facts and posture, which any client may ask for."""
    with muster_server("memory", workdir, url) as server:
        mix = memory_paths(server.base_url, paths)
        for path in mix:
            fetch(server.base_url + path)
        try:
            wrk_mix(server.base_url, mix, args.memory_seconds)
        except (RuntimeError, subprocess.CalledProcessError) as error:
            block.failures["memory mix"] = str(error).splitlines()[0][:200]
        block.rss_warm_mb = rss_mb(server.process.pid)
        for day in range(AS_OF_DAYS):
            as_of = (SEED_PUBLISHED + timedelta(days=day * 30)).isoformat()
            for path in (f"/v1/facts?as_of={as_of}", f"/v1/posture?as_of={as_of}"):
                fetch(server.base_url + path)
        block.rss_as_of_mb = rss_mb(server.process.pid)


def reload_under_traffic(
    block: Block, url: str, workdir: Path, paths: dict[str, str], variant: Path
) -> None:
    """Readers on a cached server while ``muster load`` (on the client core) swaps in the variant:
    their p99, and the longest stretch in which no read was answered, from the load's start until
    reads started after its commit have been answered."""
    reads = [paths[label] for label in ("first page", "detail", "search, common word", "timeline")]
    with muster_server("reload", workdir, url) as server:
        for path in reads:
            fetch(server.base_url + path)
        quiet = probe(server.base_url, reads, lambda: time.sleep(3.0))
        started = time.perf_counter()
        load_done: list[float] = []

        def reload() -> None:
            run_muster(url, "load", str(variant), core=CLIENT_CORE)
            load_done.append(time.perf_counter())
            time.sleep(RELOAD_SETTLE_SECONDS)

        records = probe(server.base_url, reads, reload)
    ended = max((end for _, end, _ in records), default=started)
    during = [record for record in records if record[1] >= started]
    latencies = sorted(end - begin for begin, end, _ in during)
    answered = sorted(end for _, end, status in during if status == 200)
    gaps = [
        later - earlier
        for earlier, later in zip([started, *answered], [*answered, ended], strict=True)
    ]
    block.reload = Reload(
        seconds=load_done[0] - started,
        reads=len(during),
        errors=sum(1 for *_, status in during if status != 200),
        p99_ms=percentile(latencies, 99) * 1000,
        longest_ms=latencies[-1] * 1000 if latencies else 0.0,
        longest_pause_s=max(gaps, default=0.0),
        quiet_p99_ms=percentile(sorted(end - begin for begin, end, _ in quiet), 99) * 1000,
    )


def probe(base_url: str, paths: list[str], during: Callable[[], None]) -> list[tuple[float, ...]]:
    """Readers requesting ``paths`` in turn on keep-alive connections while ``during`` runs, and
    until every reader's request in flight when it returned has been answered: each read's start,
    end and status (0 for a connection error)."""
    host, port = urllib.parse.urlsplit(base_url).netloc.split(":")
    stop = threading.Event()
    records: list[tuple[float, ...]] = []

    def reader(offset: int) -> None:
        connection = http.client.HTTPConnection(host, int(port), timeout=REQUEST_TIMEOUT)
        sent = offset
        while not stop.is_set():
            path = paths[sent % len(paths)]
            sent += 1
            begin = time.perf_counter()
            try:
                connection.request("GET", path)
                response = connection.getresponse()
                response.read()
                status = response.status
            except (OSError, http.client.HTTPException):
                status = 0
                connection.close()
                connection = http.client.HTTPConnection(host, int(port), timeout=REQUEST_TIMEOUT)
            records.append((begin, time.perf_counter(), status))
        connection.close()

    readers = [threading.Thread(target=reader, args=(n,)) for n in range(RELOAD_PROBES)]
    for thread in readers:
        thread.start()
    try:
        during()
    finally:
        stop.set()
        for thread in readers:
            thread.join()
    return sorted(records)


def abandoned_burst(block: Block, workdir: Path, url: str, path: str) -> None:
    """``ABANDONED_CLIENTS`` clients ask an uncached server for ``path`` at once: answered whole,
    then again with every client gone a quarter of the way through. How long the server works on
    after they left (to the window), against the three quarters that answering them would still
    have taken."""
    with muster_server("abandoned", workdir, url, cache=False) as server:
        fetch(server.base_url + path)
        started = time.perf_counter()
        for connection in send_burst(server.base_url, path):
            with connection:
                while connection.recv(65536):  # read to the end: the server closes after it
                    pass
        answered_s = time.perf_counter() - started
        time.sleep(1.0)  # idle again
        left_after_s = answered_s / 4
        started = time.perf_counter()
        connections = send_burst(server.base_url, path)
        time.sleep(max(0.0, started + left_after_s - time.perf_counter()))
        for connection in connections:
            connection.close()
        left = worked_until = window_start = time.perf_counter()
        cpu_before = cpu_seconds(server.process.pid)
        while window_start - left < answered_s + 2.0:
            time.sleep(BUSY_WINDOW_SECONDS)
            cpu_now, window_end = cpu_seconds(server.process.pid), time.perf_counter()
            if cpu_now - cpu_before > BUSY_CPU_SHARE * (window_end - window_start):
                worked_until = window_end
            cpu_before, window_start = cpu_now, window_end
    block.abandoned = Abandoned(ABANDONED_CLIENTS, answered_s, left_after_s, worked_until - left)


def send_burst(base_url: str, path: str) -> list[socket.socket]:
    """``ABANDONED_CLIENTS`` connections, each with one request sent, none of them read."""
    host, port = urllib.parse.urlsplit(base_url).netloc.split(":")
    request = f"GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n".encode()
    connections = []
    for _ in range(ABANDONED_CLIENTS):
        connection = socket.create_connection((host, int(port)), timeout=REQUEST_TIMEOUT)
        connection.sendall(request)
        connections.append(connection)
    return connections


def cpu_seconds(pid: int) -> float:
    """User and system CPU time of a process so far (/proc/PID/stat's utime and stime)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def percentile(ordered: list[float], percent: float) -> float:
    if not ordered:
        return 0.0
    return ordered[min(len(ordered) - 1, int(len(ordered) * percent / 100))]


# Report


def cell_ratio(block: Block, target: Target | None) -> str:
    if target is None:
        return ""
    ratio = block.ratio(target)
    if ratio is None:
        return f"no figure: {block.failures.get(target.label, 'not measured')}"
    return f"{ratio:.2f}x, p99 {target.p99_ms:.1f} ms"


def results_table(blocks: list[Block], backend: str) -> list[str]:
    row_blocks = [block for block in blocks if block.backend == backend]
    if not row_blocks:
        return []
    header = " | ".join(f"{block.scale}x ({block.facts:,})" for block in row_blocks)
    lines = [
        f"### {'SQLite' if backend == 'sqlite' else 'PostgreSQL'}",
        "",
        f"| measure (facts) | {header} |",
        f"| --- |{' ---: |' * len(row_blocks)}",
    ]

    def row(name: str, value: Callable[[Block], str]) -> None:
        lines.append(f"| {name} | {' | '.join(value(block) for block in row_blocks)} |")

    row("`muster check`", lambda b: f"{b.check_s:.1f} s ({rate(b.facts, b.check_s)} facts/s)")
    row(
        "`muster load`, fresh database",
        lambda b: f"{b.load_s:.1f} s ({rate(b.facts, b.load_s)} facts/s, {b.load_rss_mb:,.0f} MB)",
    )
    row("database size", lambda b: f"{b.database_mb:,.1f} MB")
    row("start-up to the first 200, existing database", lambda b: f"{b.startup_s:.2f} s")
    row("resident memory after warming every endpoint", lambda b: mb(b.rss_warm_mb))
    row(f"... and after {AS_OF_DAYS} `as_of` days", lambda b: mb(b.rss_as_of_mb))
    row(
        "FastAPI constant route (the 1.00x)",
        lambda b: f"{b.reference.requests_per_second:,.0f} req/s" if b.reference.runs else "",
    )
    if any(block.read_floor for block in row_blocks):
        row(READ_FLOOR_LABEL, lambda b: cell_ratio(b, b.read_floor))
    for group in ("cached", "uncached"):
        for label in ENDPOINTS:
            row(f"{label}, {group}", partial(endpoint_cell, group, label))
    if any(block.datasette for block in row_blocks):
        for label in ("first page", "detail", "search, common word"):
            row(f"Datasette, {label}", partial(endpoint_cell, "datasette", label))
    if any(block.reload for block in row_blocks):
        row("reload under read traffic", reload_cell)
    if any(block.abandoned for block in row_blocks):
        row("clients that leave a burst of uncached searches", abandoned_cell)
    notes = sorted(
        {f"{label}: {why}" for block in row_blocks for label, why in block.failures.items()}
    )
    lines += ["", *(f"- {note}" for note in notes)] if notes else []
    return lines


def endpoint_cell(group: str, label: str, block: Block) -> str:
    targets: dict[str, Target] = getattr(block, group)
    return cell_ratio(block, targets.get(label))


def rate(facts: int, seconds: float) -> str:
    return f"{facts / seconds:,.0f}" if seconds else "no figure"


def mb(value: float | None) -> str:
    return "" if value is None else f"{value:,.0f} MB"


def reload_cell(block: Block) -> str:
    reload = block.reload
    if reload is None:
        return ""
    return (
        f"load {reload.seconds:.1f} s; {reload.reads:,} reads, {reload.errors} errors; "
        f"p99 {reload.p99_ms:,.0f} ms (before: {reload.quiet_p99_ms:,.0f} ms), "
        f"longest read {reload.longest_ms:,.0f} ms, longest pause {reload.longest_pause_s:.2f} s"
    )


def abandoned_cell(block: Block) -> str:
    gone = block.abandoned
    if gone is None:
        return ""
    return (
        f"{gone.clients} clients, answered whole in {gone.answered_s:.2f} s; all left after "
        f"{gone.left_after_s:.2f} s, and the server worked {gone.worked_s:.2f} s more"
    )


def targets_table(blocks: list[Block]) -> list[str]:
    """Issue 12's targets, judged on the figures above."""
    lines = ["| target | backend | measured | |", "| --- | --- | --- | --- |"]

    def add(target: str, backend: str, measured: str, met: bool | None) -> None:
        lines.append(f"| {target} | {backend} | {measured} | {verdict(met)} |")

    for backend in ("sqlite", "postgresql"):
        mine = [block for block in blocks if block.backend == backend]
        if not mine:
            continue
        largest = max(mine, key=lambda block: block.scale)
        at = next((block for block in mine if block.scale == RELOAD_SCALE), largest)
        tag = f"{at.scale}x"
        rss = [(block.scale, block.rss_warm_mb) for block in mine if block.rss_warm_mb]
        add(
            "resident memory after warming <= 150 MB at every scale, flat",
            backend,
            ", ".join(f"{scale}x {value:.0f} MB" for scale, value in rss),
            all(value <= 150 for _, value in rss) if rss else None,
        )
        add(
            "start-up to the first 200 <= 1.5 s at every scale",
            backend,
            ", ".join(f"{block.scale}x {block.startup_s:.2f} s" for block in mine),
            all(block.startup_s <= 1.5 for block in mine),
        )
        speed = at.facts / at.load_s if at.load_s else 0.0
        add(
            f"`muster load` >= 5,000 facts/s at 1000x, <= 500 MB while loading ({tag})",
            backend,
            f"{speed:,.0f} facts/s, {at.load_rss_mb:,.0f} MB",
            speed >= 5000 and at.load_rss_mb <= 500 if backend == "sqlite" else None,
        )
        if backend == "sqlite":
            add(
                f"`muster check` >= 10,000 facts/s at 1000x ({tag})",
                "-",
                f"{rate(at.facts, at.check_s)} facts/s",
                bool(at.check_s) and at.facts / at.check_s >= 10_000,
            )
        cached = [
            (block.scale, label, block.ratio(target))
            for block in mine
            for label, target in block.cached.items()
        ]
        worst = min(cached, key=lambda item: item[2] or 0.0, default=None)
        add(
            "cached reads >= 1.0x the constant route at every scale",
            backend,
            f"lowest {worst[2] or 0:.2f}x ({worst[1]}, {worst[0]}x)" if worst else "",
            all((ratio or 0) >= 1.0 for *_, ratio in cached) if cached else None,
        )
        for label in ("first page", "deep page", "detail"):
            ratio = at.ratio(at.uncached.get(label))
            add(
                f"uncached {label} >= 0.3x at 1000x ({tag})",
                backend,
                f"{ratio:.2f}x" if ratio is not None else "no figure",
                ratio is not None and ratio >= 0.3,
            )
        first = at.ratio(at.uncached.get("first page"))
        deep = at.ratio(at.uncached.get("deep page"))
        add(
            f"a page half-way down costs no more than the first ({tag}; within 10 %)",
            backend,
            f"deep {deep:.2f}x, first {first:.2f}x" if first and deep else "no figure",
            bool(first and deep and deep >= 0.9 * first),
        )
        for label in ("search, common word", "search, rare word"):
            target = at.uncached.get(label)
            ratio = at.ratio(target)
            if target is None or ratio is None:
                add(f"uncached {label} >= 0.15x, p99 <= 50 ms at 1000x ({tag})", backend, "", False)
                continue
            add(
                f"uncached {label} >= 0.15x, p99 <= 50 ms at 1000x ({tag})",
                backend,
                f"{ratio:.2f}x, p99 {target.p99_ms:.1f} ms",
                ratio >= 0.15 and target.p99_ms <= 50,
            )
        if at.datasette:
            for label in ("first page", "detail", "search, common word"):
                ours, theirs = at.uncached.get(label), at.datasette[label]
                if ours is not None and ours.runs and theirs.runs:
                    times = ours.requests_per_second / theirs.requests_per_second
                    measured = f"Muster uncached {times:.1f}x Datasette's req/s"
                else:
                    times, measured = 0.0, "no figure"
                add(f"ahead of Datasette on {label} ({tag})", backend, measured, times > 1.0)
        reload = next((block.reload for block in mine if block.reload), None)
        if reload is not None:
            add(
                f"a reload under read traffic: p99 <= 100 ms, no pause over 1 s ({tag})",
                backend,
                f"p99 {reload.p99_ms:,.0f} ms, longest pause {reload.longest_pause_s:.2f} s, "
                f"{reload.errors} errors",
                reload.p99_ms <= 100 and reload.longest_pause_s <= 1.0 and not reload.errors,
            )
        grown = [
            (block.scale, block.rss_as_of_mb - block.rss_warm_mb)
            for block in mine
            if block.rss_as_of_mb and block.rss_warm_mb
        ]
        add(
            f"memory a client can grow: {AS_OF_DAYS} `as_of` days after warming",
            backend,
            ", ".join(f"{scale}x {growth:+.0f} MB" for scale, growth in grown),
            None,
        )
        gone = next((block.abandoned for block in mine if block.abandoned), None)
        if gone is not None:
            # Not stopped, the server would work on for the three quarters of the burst left.
            left_to_answer = gone.answered_s - gone.left_after_s
            add(
                "work for clients that have disconnected: stopped, under half of what answering "
                f"them would have taken ({tag})",
                backend,
                f"{gone.worked_s:.2f} s more, of {left_to_answer:.2f} s",
                gone.worked_s < left_to_answer / 2,
            )
    return lines


# The run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scales", default="1,10,100,1000", help="comma-separated: 1,10,100")
    parser.add_argument("--backends", default="sqlite,postgresql", help="sqlite, postgresql")
    parser.add_argument("--runs", type=int, default=3, help="measured rounds per endpoint")
    parser.add_argument("--duration", type=float, default=3, help="seconds of each wrk run")
    parser.add_argument("--warmup", type=float, default=1, help="seconds of warm-up per endpoint")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--memory-seconds", type=float, default=10, help="of the memory mix")
    parser.add_argument("--quick", action="store_true", help="2 rounds of 2 s, 1 start-up")
    parser.add_argument("--no-datasette", action="store_true", help="leave Datasette out")
    parser.add_argument("--output", type=Path, default=BENCH_DIR / "results.md")
    args = parser.parse_args()
    scales = sorted({int(scale) for scale in args.scales.split(",")})
    backends = [backend.strip() for backend in args.backends.split(",")]
    if unknown := set(backends) - {"sqlite", "postgresql"}:
        sys.exit(f"unknown backends: {sorted(unknown)}")
    if args.quick:
        args.runs, args.duration, args.warmup, args.memory_seconds = 2, 2, 1, 5
    lifecycle_runs = 1 if args.quick else 3
    ensure_prerequisites()
    # Stopped with SIGTERM, the run still stops its servers and PostgreSQL, and removes its files.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    reload_scale = RELOAD_SCALE if RELOAD_SCALE in scales else max(scales)
    command = f".venv/bin/python -m bench.scale {' '.join(sys.argv[1:])}".strip()
    began = time.perf_counter()
    blocks: list[Block] = []
    runs_on = "unknown"

    def write_report(final: bool) -> None:
        lines = report(blocks, backends, reload_scale, args)
        header = [
            "# Scale benchmark results",
            "",
            f"Made by `{command}` in {(time.perf_counter() - began) / 60:.1f} minutes on "
            f"{time.strftime('%Y-%m-%d')}{'' if final else ' (unfinished: the run goes on)'}, on:",
            "",
            *machine(runs_on),
            "",
        ]
        args.output.write_text("\n".join([*header, *lines, ""]))
        if final:
            print("\n".join(lines))
            log(f"written to {args.output}")

    with tempfile.TemporaryDirectory(prefix="muster-scale-") as temporary, ExitStack() as stack:
        workdir = Path(temporary)
        postgres = stack.enter_context(throwaway_postgres()) if "postgresql" in backends else None
        for scale in scales:
            log(f"{scale}x: writing the bundles")
            generated = write_bundles(workdir / f"bundles-{scale}x", scale)
            variant = variant_of(generated, workdir / f"variant-{scale}x")
            log(f"{scale}x: muster check ({generated.facts:,} facts)")
            checked = run_muster(
                "sqlite:///unused.db", "check", str(generated.root), core=EVERY_CORE
            )
            check_s = checked.seconds
            for backend in backends:
                block = Block(scale, backend, generated.facts)
                blocks.append(block)
                url = fresh_database(backend, scale, workdir, postgres)
                try:
                    log(f"{scale}x on {backend}: load, start-up")
                    since = lifecycle(block, url, generated, variant, check_s)
                    startup(block, url, workdir, lifecycle_runs)
                    paths, runs_on = throughput(block, url, workdir, generated, since, args)
                    log(f"{scale}x on {backend}: memory")
                    memory(block, url, workdir, paths, args)
                    if scale == reload_scale:
                        log(f"{scale}x on {backend}: a reload under read traffic")
                        reload_under_traffic(block, url, workdir, paths, variant)
                        log(f"{scale}x on {backend}: clients that leave a burst of searches")
                        abandoned_burst(block, workdir, url, paths["search, common word"])
                except Exception as error:  # the figures so far stand; the next block goes on
                    block.failures["the run"] = f"stopped: {error!r}"[:300]
                    log(f"{scale}x on {backend}: {block.failures['the run']}")
                if backend == "sqlite":
                    Path(url.removeprefix("sqlite:///")).unlink(missing_ok=True)
                write_report(final=False)
            shutil.rmtree(generated.root)
            shutil.rmtree(variant)
    write_report(final=True)


def report(
    blocks: list[Block], backends: list[str], reload_scale: int, args: argparse.Namespace
) -> list[str]:
    lines = [
        "## Results",
        "",
        "Ratios are requests per second over the FastAPI constant route's in the same rounds "
        f"(wrk -t1 -c{args.connections} on core {CLIENT_CORE}, the server alone on core "
        f"{SERVER_CORE}; medians of {args.runs} runs of {args.duration:g} s), with the median p99. "
        "Load figures give the load's peak resident memory. The deep page is 50 facts half-way "
        "down /v1/facts, its cursor from real `next` links; the detail is the hub force "
        f"`{HUB_FORCE}`; changes are since a version that reworded one source's facts; the "
        f"reload at {reload_scale}x swaps that version in while {RELOAD_PROBES} readers ask for "
        "the first page, the detail, a search and the timeline on a cached server. On SQLite, "
        "the most an uncached first page can reach is what a bare FastAPI route of the constant "
        "app reaches: it takes the facts' query model and reads the page's stored documents in a "
        "read transaction, in worker threads as many as Muster's reads, with nothing else of "
        "Muster's (no SQLAlchemy, no look at which load it reads, no cursor, total, headers, log, "
        "timeout or watch for clients that leave).",
        "",
    ]
    for backend in backends:
        lines += [*results_table(blocks, backend), ""]
    return [*lines, "## Targets (issue 12)", "", *targets_table(blocks)]


if __name__ == "__main__":
    main()
