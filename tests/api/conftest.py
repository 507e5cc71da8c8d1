import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from app.config import Settings
from app.db import make_engine
from app.ingest.check import read_dataset
from app.ingest.loader import load_dataset
from app.main import create_app
from tests.conftest import SEED_DATA
from tests.robustness.server import muster_serve


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


@pytest.fixture
def served_database(tmp_path: Path) -> str:
    """A SQLite database that `muster db upgrade` and `muster load` prepared, as an operator
    would."""
    url = f"sqlite:///{tmp_path / 'served.db'}"
    environment = os.environ | {"MUSTER_DATABASE_URL": url}
    for command in (["db", "upgrade"], ["load", str(SEED_DATA)]):
        subprocess.run([*MUSTER, *command], env=environment, check=True, capture_output=True)
    return url


@pytest.fixture
def served(served_database: str, tmp_path: Path) -> Iterator[str]:
    """`muster serve` on loopback over ``served_database``."""
    with muster_serve(served_database, tmp_path) as server:
        yield server.base_url
