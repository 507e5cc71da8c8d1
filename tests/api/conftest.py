from collections.abc import Iterator

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
def client(loaded_url: str, request: pytest.FixtureRequest) -> Iterator[TestClient]:
    """The API over the seed data, with the response cache on and off: both must agree."""
    settings = Settings(database_url=loaded_url, response_cache=request.param)
    with TestClient(create_app(settings)) as test_client:
        yield test_client
