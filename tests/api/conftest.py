import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from app.config import Settings
from app.db import make_engine
from app.ingest.check import read_dataset
from app.ingest.loader import load_dataset
from app.main import create_app
from tests.conftest import SEED_DATA


@pytest.fixture
def loaded_url(database_url: str) -> str:
    """A migrated database holding the seed data."""
    engine = make_engine(database_url)
    load_dataset(engine, read_dataset(SEED_DATA))
    engine.dispose()
    return database_url


@pytest.fixture(params=[True, False], ids=["cached", "uncached"])
def client(seeded_database_url: str, request: pytest.FixtureRequest) -> Iterator[TestClient]:
    """The API over the seed data, with the response cache on and off: both must agree."""
    settings = Settings(database_url=seeded_database_url, response_cache=request.param)
    with TestClient(create_app(settings)) as test_client:
        yield test_client


MUSTER = [sys.executable, "-c", "from app.cli import main; main()"]


@pytest.fixture
def installed() -> Callable[[str], str]:
    """Finds a program that .ci/run installs (chromium, curl, jq): a test that needs one fails
    under CI without it, and is skipped on a developer's machine that lacks it."""

    def find(program: str) -> str:
        found = shutil.which(program)
        if found is None:
            if os.environ.get("CI"):
                pytest.fail(f"{program} is not installed: .ci/run installs it", pytrace=False)
            pytest.skip(f"{program} is not installed (`apt-get install {program}`)")
        return found

    return find


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.fixture
def served(tmp_path: Path) -> Iterator[str]:
    """`muster serve` on loopback, over a database that `muster db upgrade` and `muster load`
    prepared, as an operator would."""
    environment = os.environ | {"MUSTER_DATABASE_URL": f"sqlite:///{tmp_path / 'served.db'}"}
    for command in (["db", "upgrade"], ["load", str(SEED_DATA)]):
        subprocess.run([*MUSTER, *command], env=environment, check=True, capture_output=True)
    port = _free_port()
    server = subprocess.Popen(
        [*MUSTER, "serve", "--host", "127.0.0.1", "--port", str(port)],
        env=environment,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60  # a generous start-up allowance, not a speed check
        while True:
            try:
                if httpx.get(f"{base}/healthz").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert server.poll() is None, "muster serve exited"
            assert time.monotonic() < deadline, "muster serve did not start"
            time.sleep(0.2)
        yield base
    finally:
        server.terminate()
        server.wait(timeout=30)
