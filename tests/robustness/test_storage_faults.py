"""Storage faults on a real ``muster serve``: a SQLite file truncated, restored, replaced or
deleted while serving, and a PostgreSQL server that is gone. Each is answered 503 problem+json
naming no place, and the same process serves again once the fault is repaired."""

import shutil
import sqlite3
from pathlib import Path

import httpx

from tests.robustness.conftest import fill
from tests.robustness.server import muster_serve


def _seeded(folder: Path) -> Path:
    folder.mkdir()
    database = folder / "muster.db"
    fill(f"sqlite:///{database}")
    return database


def _unavailable(response: httpx.Response) -> None:
    assert response.status_code == 503
    assert response.headers["content-type"] == "application/problem+json"


def test_a_file_truncated_to_nothing_then_restored_is_served_again(tmp_path: Path) -> None:
    database = _seeded(tmp_path / "data")
    good = database.read_bytes()
    with (
        muster_serve(f"sqlite:///{database}", tmp_path) as served,
        httpx.Client(base_url=served.base_url) as client,
    ):
        assert client.get("/v1/facts").status_code == 200
        database.write_bytes(b"")
        for path in ["/readyz", "/v1/facts", "/v1/forces"]:
            _unavailable(client.get(path))
        database.write_bytes(good)  # restored in place
        assert client.get("/v1/facts").status_code == 200
        database.write_bytes(b"")
        restored = database.with_name("restored.db")
        restored.write_bytes(good)
        shutil.move(restored, database)  # restored by cp + mv
        assert client.get("/readyz").status_code == 200
        assert client.get("/v1/facts").status_code == 200


def test_a_file_moved_over_the_served_one_is_served_next_and_a_deleted_one_is_503(
    tmp_path: Path,
) -> None:
    database = _seeded(tmp_path / "data")
    shipped = _seeded(tmp_path / "shipped")
    with (
        muster_serve(f"sqlite:///{database}", tmp_path) as served,
        httpx.Client(base_url=served.base_url) as client,
    ):
        first = client.get("/readyz").json()["data_version"]
        with sqlite3.connect(shipped) as writer:
            writer.execute("UPDATE dataset_loads SET version = 'shipped'")
        shutil.move(shipped, database)
        assert client.get("/readyz").json()["data_version"] == "shipped" != first
        database.unlink()
        _unavailable(client.get("/readyz"))
        _unavailable(client.get("/v1/facts"))
        assert client.get("/healthz").status_code == 200
