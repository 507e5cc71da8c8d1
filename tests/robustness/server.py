"""A real ``muster serve`` in a child process on a loopback port, for the tests that need one."""

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

MUSTER = Path(sys.executable).with_name("muster")
START_TIMEOUT_SECONDS = 30


@dataclass
class Served:
    process: subprocess.Popen[bytes]
    port: int
    stderr: Path

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def log_lines(self) -> list[str]:
        return self.stderr.read_text(encoding="utf-8").splitlines()


def unused_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextmanager
def muster_serve(
    database_url: str,
    logs: Path,
    *,
    wrapper: list[str] | None = None,
    settings: dict[str, str] | None = None,
) -> Iterator[Served]:
    """``muster serve`` on ``database_url`` (run through ``wrapper``, if any, with the environment
    variables ``settings`` too), once it answers ``/healthz``. It is stopped (SIGTERM, then
    SIGKILL) unless the test stopped it."""
    port = unused_port()
    env = {
        **os.environ,
        "MUSTER_DATABASE_URL": database_url,
        "MUSTER_LOG_FORMAT": "json",
        **(settings or {}),
    }
    command = [*(wrapper or []), str(MUSTER), "serve", "--port", str(port)]
    stderr = logs / f"serve-{port}.log"
    with stderr.open("wb") as sink:
        process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=sink)
    served = Served(process, port, stderr)
    try:
        wait_until_healthy(
            served.base_url,
            process,
            START_TIMEOUT_SECONDS,
            lambda: f"muster serve exited: {served.stderr.read_text()[-2000:]}",
            "muster serve",
        )
        yield served
    finally:
        stop(process)


def wait_until_healthy(
    base_url: str,
    process: subprocess.Popen[bytes],
    timeout: float,
    why_exited: Callable[[], str],
    name: str,
) -> None:
    """Returns once ``base_url`` answers ``/healthz`` with 200; raises when ``process`` exits
    first (with ``why_exited()``) or ``timeout`` seconds pass."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(why_exited())
        try:
            if httpx.get(base_url + "/healthz").status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.05)
    raise RuntimeError(f"{name} did not answer in {timeout} s")


def stop(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM, then SIGKILL after 10 s, unless the process has ended already."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@dataclass
class PrivatePostgres:
    """A throwaway PostgreSQL server, started as ``.ci/postgres.sh`` starts the shared one."""

    url: str
    data: Path
    start_command: list[str]

    def processes(self) -> list[int]:
        """The postmaster and every process it started (backends, checkpointer, ...)."""
        postmaster = int((self.data / "postmaster.pid").read_text().split()[0])
        return [postmaster, *_descendants(postmaster)]

    def signal(self, number: signal.Signals) -> None:
        for pid in self.processes():
            os.kill(pid, number)

    def start(self) -> None:
        """Start it (again, after it was stopped)."""
        subprocess.run(self.start_command, check=True, capture_output=True)


def _descendants(pid: int) -> list[int]:
    children = [
        int(child)
        for task in Path(f"/proc/{pid}/task").iterdir()
        for child in (task / "children").read_text().split()
    ]
    return [*children, *(grandchild for child in children for grandchild in _descendants(child))]


def postgres_binaries() -> Path | None:
    """The server binaries, found as .ci/postgres.sh finds them; None when there are none."""
    pg_ctl = shutil.which("pg_ctl")
    found: Path | None
    if pg_ctl:
        found = Path(pg_ctl).resolve().parent
    else:
        installs = sorted(
            Path("/usr/lib/postgresql").glob("*/bin"), key=lambda path: int(path.parent.name)
        )
        found = installs[-1] if installs else None
    return found if found is not None and (found / "initdb").exists() else None


def _as_postgres(command: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else command


@contextmanager
def private_postgres_server() -> Iterator[PrivatePostgres]:
    """A PostgreSQL server of one's own, on a free port, deleted afterwards (never the shared
    one, which other tests use at the same time). Needs ``postgres_binaries()``."""
    binaries = postgres_binaries()
    assert binaries is not None, "no PostgreSQL server binaries"
    folder = Path(tempfile.mkdtemp(prefix="muster-postgres-private.", dir="/tmp"))
    if os.geteuid() == 0:
        shutil.chown(folder, "postgres", "postgres")
    data = folder / "data"
    port = unused_port()
    subprocess.run(
        _as_postgres(
            [
                str(binaries / "initdb"),
                f"--pgdata={data}",
                "--username=postgres",
                "--auth=trust",
                "--encoding=UTF8",
                "--no-locale",
            ]
        ),
        check=True,
        capture_output=True,
    )
    options = f"-c listen_addresses=127.0.0.1 -p {port} -k {folder} -F"
    pg_ctl = str(binaries / "pg_ctl")
    start = [pg_ctl, "start", f"--pgdata={data}", "--wait", f"--log={folder / 'server.log'}"]
    server = PrivatePostgres(
        f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres",
        data,
        _as_postgres([*start, "-o", options]),
    )
    server.start()
    try:
        yield server
    finally:
        if (data / "postmaster.pid").exists():  # still running
            server.signal(signal.SIGCONT)  # a frozen server does not stop
        subprocess.run(
            _as_postgres([pg_ctl, "stop", f"--pgdata={data}", "--mode=immediate", "--silent"]),
            check=False,
        )
        shutil.rmtree(folder, ignore_errors=True)
