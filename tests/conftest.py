import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from app import migrate
from app.config import get_settings

ROOT = Path(__file__).resolve().parent.parent
SEED_DATA = ROOT / "seed_data"
ARTICLE_BUNDLE = "cnn-2025-01-22"


@pytest.fixture
def seed_copy(tmp_path: Path) -> Path:
    """A private copy of the seed bundles that a test may break."""
    copy = tmp_path / "bundles"
    shutil.copytree(SEED_DATA, copy)
    return copy


@pytest.fixture
def database_url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """An empty, migrated SQLite database, also set as MUSTER_DATABASE_URL for the CLI."""
    url = f"sqlite:///{tmp_path / 'muster.db'}"
    migrate.upgrade(url)
    monkeypatch.setenv("MUSTER_DATABASE_URL", url)
    get_settings.cache_clear()
    yield url
    get_settings.cache_clear()
