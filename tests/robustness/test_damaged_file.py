"""A SQLite file damaged while serving, with its header kept, is noticed by /readyz: a truncated
or garbled file may still answer what its first pages hold (issue 15, finding 6)."""

import os
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from app.config import Settings
from app.main import create_app


def truncated_to_half(database: Path) -> None:
    os.truncate(database, database.stat().st_size // 2)


def garbled_after_the_header(database: Path) -> None:
    size = database.stat().st_size
    with open(database, "r+b") as file:
        file.seek(size // 2)
        file.write(b"\xa5" * (size // 4))


@pytest.mark.parametrize("damage", [truncated_to_half, garbled_after_the_header])
def test_readyz_notices_a_damaged_file(
    tmp_path: Path, seed_url: str, damage: Callable[[Path], None]
) -> None:
    database = tmp_path / "muster.db"
    shutil.copy(seed_url.removeprefix("sqlite:///"), database)
    with TestClient(create_app(Settings(database_url=f"sqlite:///{database}"))) as client:
        assert client.get("/readyz").status_code == 200
        damage(database)
        response = client.get("/readyz")
        assert response.status_code == 503
        assert response.headers["content-type"] == "application/problem+json"
        assert "damaged" in response.json()["detail"] or "malformed" in response.json()["detail"]
        assert client.get("/healthz").status_code == 200
