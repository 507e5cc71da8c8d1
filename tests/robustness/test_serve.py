"""``muster serve`` says it serves only once it listens, and says in one line when it cannot."""

import socket
import subprocess
from pathlib import Path

import pytest

from tests.robustness.conftest import fill
from tests.robustness.server import MUSTER, unused_port


@pytest.fixture
def database(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'muster.db'}"
    fill(url)
    return url


def test_a_port_in_use_is_one_line_of_error_and_no_claim_to_serve(
    database: str,
) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = subprocess.run(
            [str(MUSTER), "serve", "--port", str(port)],
            env={"MUSTER_DATABASE_URL": database, "PATH": "/usr/bin:/bin"},
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    assert result.returncode == 1
    assert "serves" not in result.stdout
    assert result.stderr.splitlines() == [
        f"error: cannot listen on 127.0.0.1:{port}: address already in use "
        "(choose another with --port)"
    ]


@pytest.mark.parametrize("workers", ["1", "2"])
def test_the_served_line_comes_once_the_port_takes_connections(database: str, workers: str) -> None:
    port = unused_port()
    process = subprocess.Popen(
        [str(MUSTER), "serve", "--port", str(port), "--workers", workers],
        env={"MUSTER_DATABASE_URL": database, "PATH": "/usr/bin:/bin"},
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        assert line.startswith(f"Muster serves http://127.0.0.1:{port}/")
        socket.create_connection(("127.0.0.1", port), timeout=1).close()  # not refused
    finally:
        process.terminate()
        assert process.wait(timeout=30) == 0


def test_serve_help_shows_each_default_and_environment_variable() -> None:
    result = subprocess.run(
        [str(MUSTER), "serve", "--help"],
        env={"COLUMNS": "200", "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        check=True,
    )
    for variable, default in (("HOST", "127.0.0.1"), ("PORT", "8000"), ("WORKERS", "1")):
        assert f"[env var: MUSTER_{variable}]" in result.stdout
        assert f"[default: ({default})]" in result.stdout
    assert "README" in result.stdout
