"""A real ``muster serve`` in a child process on a loopback port, for the tests that need one."""

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
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
        _wait_until_up(served)
        yield served
    finally:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _wait_until_up(served: Served) -> None:
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if served.process.poll() is not None:
            raise RuntimeError(f"muster serve exited: {served.stderr.read_text()[-2000:]}")
        try:
            if httpx.get(served.base_url + "/healthz").status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.05)
    raise RuntimeError(f"muster serve did not answer in {START_TIMEOUT_SECONDS} s")
