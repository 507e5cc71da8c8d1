"""``muster serve`` says it serves only once it listens, and says in one line when it cannot."""

import shutil
import socket
import subprocess
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text

import migrations
from app import migrate
from app.db import make_engine
from tests.conftest import SEED_DATA
from tests.data import LATER_REPORT
from tests.helpers import fill, render_otherwise
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


@dataclass
class Served:
    printed: str
    """What ``muster serve`` printed before it served."""
    errors: str
    sources: list[str]
    """The ids of the sources it served."""


def _serve(folder: Path, database: str | None = None) -> Served:
    """Start ``muster serve`` in ``folder``, on ``database`` or, when None, on its default
    database ./muster.db; stop it once it serves."""
    port = unused_port()
    process = subprocess.Popen(
        [str(MUSTER), "serve", "--port", str(port)],
        cwd=folder,
        env={"PATH": "/usr/bin:/bin", **({"MUSTER_DATABASE_URL": database} if database else {})},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        printed: list[str] = []
        while not (line := process.stdout.readline()).startswith("Muster serves"):
            assert line, f"muster serve stopped after printing {printed}"
            printed.append(line)
        sources = httpx.get(f"http://127.0.0.1:{port}/v1/sources").json()["data"]
    finally:
        process.terminate()
        _, errors = process.communicate(timeout=30)
    return Served("".join(printed), errors, [source["id"] for source in sources])


OTHER_RENDERING_WARNING = (
    "warning: this data was rendered by other Muster code than this one's and is served as that "
    "code rendered it; load its bundles again (`muster load PATH`) to render it with this Muster"
)


def test_serve_upgrades_the_default_database_and_keeps_the_data_loaded_into_it(
    tmp_path: Path,
) -> None:
    """A new Muster's first `muster serve` on the embedded database that an older one migrated
    and the user loaded upgrades its schema and serves that data, not the bundled seed."""
    bundles = tmp_path / "bundles"
    shutil.copytree(SEED_DATA, bundles)
    shutil.copytree(LATER_REPORT, bundles / LATER_REPORT.name)
    default_database = f"sqlite:///{tmp_path / 'muster.db'}"
    fill(default_database, bundles)
    render_otherwise(default_database)
    migrate.downgrade(default_database, "-1")  # as the Muster before this one left it

    served = _serve(tmp_path)

    assert "test-later-report" in served.sources
    assert "First start" not in served.printed
    assert migrate.current_revision(default_database) == migrations.HEAD
    assert OTHER_RENDERING_WARNING in served.errors.splitlines()  # and how to render it again


def test_serve_fills_a_new_default_database_with_the_seed(tmp_path: Path) -> None:
    served = _serve(tmp_path)

    assert "First start" in served.printed
    assert sorted(served.sources) == sorted(p.name for p in SEED_DATA.iterdir() if p.is_dir())
    assert OTHER_RENDERING_WARNING not in served.errors


@pytest.mark.parametrize("named", [False, True], ids=["default", "named"])
def test_serve_refuses_a_database_a_newer_muster_migrated(tmp_path: Path, named: bool) -> None:
    """Neither the embedded default nor a database named by MUSTER_DATABASE_URL is served, nor
    upgraded, at a schema this Muster does not know; the error says what to do."""
    database = f"sqlite:///{tmp_path / 'muster.db'}"
    fill(database)
    engine = make_engine(database)
    with engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = '9999'"))
    engine.dispose()

    result = subprocess.run(
        [str(MUSTER), "serve", "--port", str(unused_port())],
        cwd=tmp_path,
        env={"PATH": "/usr/bin:/bin", **({"MUSTER_DATABASE_URL": database} if named else {})},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        "error: the database's schema is revision 9999, which this Muster does not know (its "
        f"newest is {migrations.HEAD}): a newer Muster migrated it, and only that Muster reads "
        "and writes all of it, so use that Muster with it"
    ]
    assert migrate.current_revision(database) == "9999"


def test_serve_warns_of_data_another_muster_rendered(tmp_path: Path, database: str) -> None:
    """Data whose documents other rendering code made (an older Muster's) is served as they are,
    and serve says so and how to render it again; data this Muster rendered, without a word."""
    assert OTHER_RENDERING_WARNING not in _serve(tmp_path, database).errors
    render_otherwise(database)
    assert OTHER_RENDERING_WARNING in _serve(tmp_path, database).errors.splitlines()
