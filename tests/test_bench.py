"""The reference server that bench/ measures Muster against starts, and reads what Muster serves.

Not a test of speed: a benchmark whose reference cannot start measures nothing, and says so only
when someone runs it (bench/scale.py did, once the reference's module imported another of bench's
by its package name while uvicorn served it as a top-level module).
"""

import json
import subprocess
import sys
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
from tests.conftest import ROOT, SEED_DATA, _empty_postgres_database


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


def test_a_round_of_load_speed_leaves_postgresql_empty() -> None:
    """Each round empties the PostgreSQL database with the code that migrated it: the next
    round's code, another commit's with ``--against``, may not know that revision (a round of
    0016's code beside 0015's failed to downgrade it)."""
    url = _empty_postgres_database()
    command = [sys.executable, "-m", "bench.load_speed", "1", "--postgres", url, "--startups", "1"]
    subprocess.run(command, cwd=ROOT, check=True, capture_output=True)
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            assert migrate.revision_of(connection) is None
    finally:
        engine.dispose()
