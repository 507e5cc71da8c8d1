"""Running Muster in production: a server that cannot write and closes its connections when it
stops, and the container image.

No container engine runs in CI, so the image is tested by doing what its Dockerfile does, with the
same commands, in a fresh virtual environment: take the build context as ``docker build`` would
(the repository less .dockerignore), build and install the wheel and prepare the database with
the docker/ scripts that the Dockerfile runs, then start the Dockerfile's CMD with its ENV and run
its HEALTHCHECK.
"""

import hashlib
import json
import os
import re
import signal
import socket
import subprocess
import tarfile
import tempfile
import time
import venv
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
import yaml
from docker.utils.build import tar
from dockerfile_parse import DockerfileParser
from fastapi.testclient import TestClient
from pydantic import ValidationError
from sqlalchemy import event, make_url, text
from sqlalchemy.exc import DBAPIError
from typer.testing import CliRunner

from app.api.errors import PROBLEM_TYPES, STATUS_KINDS
from app.cli import cli
from app.config import Settings, get_settings
from app.db import is_sqlite
from app.ingest.check import read_dataset
from app.main import create_app, create_store
from tests.conftest import ROOT, SEED_DATA


def test_the_server_cannot_write_its_database(database_url: str) -> None:
    engine = create_store(Settings(database_url=database_url)).engine
    # SQLite: "attempt to write a readonly database"; PostgreSQL: "... in a read-only transaction"
    with pytest.raises(DBAPIError, match=r"read-?only"), engine.begin() as connection:
        connection.execute(text("CREATE TABLE written_by_the_server (id INTEGER)"))
    engine.dispose()


def test_a_stopped_server_has_closed_its_database_connections(database_url: str) -> None:
    app = create_app(Settings(database_url=database_url))
    opened: list[object] = []
    closed: list[object] = []
    event.listen(
        app.api.state.store.engine, "connect", lambda connection, _: opened.append(connection)
    )
    event.listen(
        app.api.state.store.engine, "close", lambda connection, _: closed.append(connection)
    )
    with TestClient(app) as client:
        client.get("/readyz")
        assert opened
        assert not closed
    assert len(closed) == len(opened)


@pytest.mark.parametrize(("variable", "value"), [("MUSTER_WORKERS", "0"), ("MUSTER_PORT", "65536")])
def test_serving_settings_out_of_range_are_refused(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(ValidationError, match=variable.removeprefix("MUSTER_").lower()):
        Settings()


def test_serve_refusing_a_database_does_not_print_its_password(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    pytest.importorskip("psycopg", reason="the PostgreSQL driver comes with the postgres extra")
    password = "s3cret-password"
    url = f"postgresql+psycopg://muster:{password}@127.0.0.1:{_free_port()}/muster"
    monkeypatch.setenv("MUSTER_DATABASE_URL", url)
    get_settings.cache_clear()
    result = CliRunner().invoke(cli, ["serve"])
    get_settings.cache_clear()
    assert result.exit_code == 1
    assert "cannot be read" in result.output
    assert password not in result.output


# The image, from its Dockerfile.

DOCKERFILE = DockerfileParser(str(ROOT / "Dockerfile"))
STARTUP_TIMEOUT_SECONDS = 120
"""How long the server may take to start before the test gives up (a bound, not a measure)."""


def _instructions(name: str) -> list[str]:
    return [entry["value"] for entry in DOCKERFILE.structure if entry["instruction"] == name]


def _scripts_folder_in_image() -> str:
    """Where the image keeps the docker/ scripts: the target of ``COPY docker/ <folder>``."""
    (folder,) = [value.split()[1] for value in _instructions("COPY") if value.startswith("docker/")]
    return folder


def _image_command(argv: list[str], context: Path) -> list[str]:
    """An exec-form command of the image, with its docker/ scripts where the context has them."""
    in_image = _scripts_folder_in_image()
    return [arg.replace(in_image, f"{context / 'docker'}/", 1) for arg in argv]


def _healthcheck(context: Path) -> list[str]:
    (value,) = _instructions("HEALTHCHECK")
    return _image_command(json.loads(value.split(" CMD ", 1)[1]), context)


def _start_command(context: Path) -> list[str]:
    return _image_command(json.loads(DOCKERFILE.cmd), context)


class Image:
    """A fresh virtual environment that holds what the image holds."""

    def __init__(self, context: Path, venv_dir: Path) -> None:
        self.context = context
        self.venv_dir = venv_dir

    def environment(self, **settings: str) -> dict[str, str]:
        """The image's Muster settings (its ENV) with ``settings`` on top, in this environment.

        Nothing of the test run's own Python or Muster settings reaches the commands.
        """
        inherited = {
            name: value
            for name, value in os.environ.items()
            if not name.startswith(("MUSTER_", "PYTHON", "VIRTUAL_ENV"))
        }
        image_settings = {
            name: value for name, value in DOCKERFILE.envs.items() if name.startswith("MUSTER_")
        }
        path = f"{self.venv_dir / 'bin'}{os.pathsep}{inherited.get('PATH', os.defpath)}"
        return (
            inherited
            | {"PATH": path, "VIRTUAL_ENV": str(self.venv_dir)}
            | image_settings
            | settings
        )

    def script(self, name: str) -> list[str]:
        """The command that runs one of the docker/ scripts; the Dockerfile must run it too."""
        assert any(name in value for value in _instructions("RUN")), (
            f"the Dockerfile never runs {name}"
        )
        return ["sh", str(self.context / "docker" / name)]


def _run(command: list[str], *, cwd: Path, env: dict[str, str]) -> None:
    done = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, check=False)
    assert done.returncode == 0, f"{command} failed:\n{done.stdout}\n{done.stderr}"


def _unpack_build_context(destination: Path) -> None:
    """The files that ``docker build`` sends: the repository less what .dockerignore leaves out."""
    lines = (ROOT / ".dockerignore").read_text(encoding="utf-8").splitlines()
    ignored = [line.strip() for line in lines if line.strip() and not line.startswith("#")]
    with tempfile.TemporaryFile() as archive:
        tar(ROOT, exclude=ignored, fileobj=archive)
        archive.seek(0)
        with tarfile.open(fileobj=archive) as context:
            context.extractall(destination, filter="data")


@pytest.fixture(scope="session")
def image(tmp_path_factory: pytest.TempPathFactory) -> Image:
    """The image's build steps, once per test run: the wheel built from the build context and
    installed into a fresh virtual environment, by the scripts that the Dockerfile runs."""
    root = tmp_path_factory.mktemp("image")
    context = root / "context"
    _unpack_build_context(context)
    built = Image(context, root / "venv")
    venv.EnvBuilder(with_pip=True).create(built.venv_dir)
    env = built.environment()
    # The build stage runs in the context; the runtime stage anywhere but in the sources.
    _run([*built.script("build-wheel.sh"), str(root / "dist")], cwd=context, env=env)
    _run([*built.script("install-wheel.sh"), str(root / "dist")], cwd=root, env=env)
    return built


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _digest(path: Path) -> str:
    return hashlib.blake2b(path.read_bytes()).hexdigest()


@contextmanager
def _serving(command: list[str], env: dict[str, str], log: Path) -> Iterator[str]:
    """Start the server; once all its workers have started, give its URL; then stop it with
    SIGTERM, as a container platform does, and expect a clean exit."""
    workers = int(env["MUSTER_WORKERS"])
    with log.open("wb") as output:
        server = subprocess.Popen(
            command,
            env=env,
            cwd=log.parent,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + STARTUP_TIMEOUT_SECONDS
        while log.read_text(errors="replace").count("Application startup complete") < workers:
            if server.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"the server did not start {workers} workers:\n{log.read_text()}")
            time.sleep(0.2)
        yield f"http://{env['MUSTER_HOST']}:{env['MUSTER_PORT']}"
        server.send_signal(signal.SIGTERM)
        exit_code = server.wait(timeout=STARTUP_TIMEOUT_SECONDS)
        assert exit_code == 0, f"the server exited with {exit_code}:\n{log.read_text()}"
    finally:
        if server.poll() is None:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()


@pytest.mark.deploy
def test_the_image_serves_its_baked_database_or_a_shared_one(
    image: Image,
    empty_database_url: str,
    tmp_path: Path,
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    env = image.environment(
        MUSTER_DATABASE_URL=empty_database_url,
        MUSTER_HOST="127.0.0.1",
        MUSTER_PORT=str(_free_port()),
    )
    _run(image.script("prepare-database.sh"), cwd=tmp_path, env=env)
    database = None
    if is_sqlite(empty_database_url):
        # Read-only like the image's; as root the test could still write, but the server must
        # not even try: it opens the file read-only.
        database = Path(make_url(empty_database_url).database or "")
        database.chmod(0o444)
        database.parent.chmod(0o555)
        baked = _digest(database)

    healthcheck = _healthcheck(image.context)
    assert subprocess.run(healthcheck, env=env, capture_output=True).returncode != 0

    log = tmp_path_factory.mktemp("serve") / "serve.log"
    with _serving(_start_command(image.context), env, log) as base_url:
        assert subprocess.run(healthcheck, env=env, capture_output=True).returncode == 0
        response = httpx.get(f"{base_url}/v1/forces")
        assert response.status_code == 200
        served = {force["id"] for force in response.json()["data"]}
        assert served == {force.record.id for force in read_dataset(SEED_DATA).read("forces")}

    if database is not None:
        assert _digest(database) == baked
        assert not list(database.parent.glob(f"{database.name}-*")), "a journal was written"


def test_compose_prepares_the_database_with_the_image_script() -> None:
    compose = yaml.safe_load((ROOT / "compose.yaml").read_text(encoding="utf-8"))
    command = _image_command(compose["services"]["prepare"]["command"], ROOT)
    assert Path(command[-1]).is_file(), f"compose.yaml runs {command}, which the image lacks"


def test_nginx_passes_muster_the_host_with_its_port() -> None:
    """Next links are built on the Host a request arrives with. nginx's ``$host`` drops the port
    (compose publishes nginx on 127.0.0.1:8000, so every next link would point at port 80);
    ``$http_host`` is the client's Host header as sent. tests/robustness/test_edge_next_links.py
    follows such a link through nginx."""
    config = (ROOT / "deploy" / "nginx.conf").read_text(encoding="utf-8")
    passed = re.findall(r"^\s*proxy_set_header\s+Host\s+([^;]+);", config, re.MULTILINE)
    assert passed == ["$http_host"]


def test_nginx_names_its_problems_as_muster_names_them() -> None:
    """A client behind nginx gets a 413 or 414 from nginx or from Muster, whichever refuses
    first: both must give the status the same type, since clients match on it."""
    config = (ROOT / "deploy" / "nginx.conf").read_text(encoding="utf-8")
    problems = [json.loads(body) for body in re.findall(r"return \d+ '(\{.*\})';", config)]
    shared = [problem for problem in problems if problem["status"] in STATUS_KINDS]
    assert {problem["status"] for problem in shared} >= {400, 413, 414, 500, 503}
    for problem in shared:
        slug, title = STATUS_KINDS[problem["status"]]
        assert (problem["type"], problem["title"]) == (PROBLEM_TYPES + slug, title)
