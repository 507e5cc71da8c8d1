"""The reference server that bench/ measures Muster against starts, and reads what Muster serves.

Not a test of speed: a benchmark whose reference cannot start measures nothing, and says so only
when someone runs it (bench/scale.py did, once the reference's module imported another of bench's
by its package name while uvicorn served it as a top-level module).
"""

import json
import urllib.request
from pathlib import Path

from fastapi.testclient import TestClient

from app import migrate
from app.config import Settings
from app.db import make_engine
from app.ingest.check import read_dataset
from app.ingest.loader import load_dataset
from app.main import create_app
from bench.bench import QUERY_MODEL_FLOOR, READ_FLOOR, constant_server
from tests.conftest import SEED_DATA


def body_of(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=10) as response:
        assert response.status == 200
        body: bytes = response.read()
        return body


def test_the_constant_route_and_the_read_floor_answer(tmp_path: Path) -> None:
    database = tmp_path / "muster.db"
    url = f"sqlite:///{database}"
    migrate.upgrade(url)
    engine = make_engine(url)
    load_dataset(engine, read_dataset(SEED_DATA))
    engine.dispose()
    with constant_server(tmp_path, read_floor_database=database) as server:
        assert json.loads(body_of(server.base_url + "/")) == {"ok": True}
        assert json.loads(body_of(server.base_url + QUERY_MODEL_FLOOR)) == {}
        floor = json.loads(body_of(server.base_url + READ_FLOOR))["data"]
    with TestClient(create_app(Settings(database_url=url))) as client:
        assert floor == client.get("/v1/facts", params={"limit": 50}).json()["data"]
