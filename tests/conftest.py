"""Shared fixtures.

Every test that uses a database runs once per backend: on SQLite, and on PostgreSQL at the URL in
``MUSTER_TEST_POSTGRES_URL`` (``.ci/run`` starts a throwaway server and sets it).
"""

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, make_url, text

from app import migrate
from app.config import get_settings
from app.db import make_engine
from app.ingest.check import read_dataset
from app.ingest.loader import load_dataset

ROOT = Path(__file__).resolve().parent.parent
SEED_DATA = ROOT / "seed_data"
ARTICLE_BUNDLE = "cnn-2025-01-22"
POSTGRES_URL_VARIABLE = "MUSTER_TEST_POSTGRES_URL"


@pytest.fixture
def seed_copy(tmp_path: Path) -> Path:
    """A private copy of the seed bundles that a test may break."""
    copy = tmp_path / "bundles"
    shutil.copytree(SEED_DATA, copy)
    return copy


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty database, not migrated: a new SQLite file, or the test PostgreSQL database."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'muster.db'}"
    return _empty_postgres_database()


def _empty_postgres_database() -> str:
    url = os.environ.get(POSTGRES_URL_VARIABLE)
    if not url:
        reason = f"{POSTGRES_URL_VARIABLE} is not set, so there is no PostgreSQL to test against"
        # CI must test both backends; a developer's quick local run needs no server.
        if os.environ.get("CI"):
            pytest.fail(f"{reason}: CI runs `bash .ci/run`, which starts one", pytrace=False)
        pytest.skip(f"{reason} (`bash .ci/run` starts one)")
    engine = create_engine(url)
    with engine.begin() as connection:
        # A connection that an earlier test left inside a transaction would make the drop wait
        # forever; fail instead.
        connection.execute(text("SET LOCAL lock_timeout = '10s'"))
        # Dropping the schema drops everything the previous test made: tables, alembic_version,
        # test triggers and functions.
        connection.execute(text("DROP SCHEMA public CASCADE"))
        connection.execute(text("CREATE SCHEMA public"))
    engine.dispose()
    return url


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def seeded_database_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> str:
    """A migrated database holding the seed data, made once per test session and backend.

    Only for tests that never write to it: it is shared by all of them. On PostgreSQL it is a
    database of its own, beside the one that ``empty_database_url`` resets for every test.
    """
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('seeded') / 'muster.db'}"
    else:
        url = _separate_postgres_database(_empty_postgres_database(), "muster_test_seeded")
    return seeded(url)


def seeded(url: str) -> str:
    """The empty database at ``url``, migrated and loaded with the seed data."""
    migrate.upgrade(url)
    engine = make_engine(url)
    load_dataset(engine, read_dataset(SEED_DATA))
    engine.dispose()
    return url


def _separate_postgres_database(server_url: str, name: str) -> str:
    """A new, empty database of that name on the test server (dropped first if it exists)."""
    engine = create_engine(server_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    engine.dispose()
    return make_url(server_url).set(database=name).render_as_string(hide_password=False)


@pytest.fixture
def database_url(empty_database_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """An empty, migrated database, also set as MUSTER_DATABASE_URL for the CLI."""
    migrate.upgrade(empty_database_url)
    monkeypatch.setenv("MUSTER_DATABASE_URL", empty_database_url)
    get_settings.cache_clear()
    yield empty_database_url
    get_settings.cache_clear()
