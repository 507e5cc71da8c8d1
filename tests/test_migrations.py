"""The Alembic migrations build exactly the models' schema, and go down and up again."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect
from sqlmodel import SQLModel

from app import migrate
from app.models import tables
from tests.helpers import DATA_TABLE_NAMES


def differences(url: str) -> list[object]:
    engine = create_engine(url)
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        diff = compare_metadata(context, SQLModel.metadata)
    engine.dispose()
    return list(diff)


def table_names(url: str) -> set[str]:
    engine = create_engine(url)
    names = set(inspect(engine).get_table_names())
    engine.dispose()
    return names


def test_upgrade_head_on_an_empty_database_matches_the_models(tmp_path) -> None:
    url = f"sqlite:///{tmp_path / 'fresh.db'}"
    migrate.upgrade(url)
    assert set(DATA_TABLE_NAMES) <= table_names(url)
    assert tables.DatasetLoad.__tablename__ in table_names(url)
    assert differences(url) == []


def test_downgrade_to_base_and_upgrade_again(tmp_path) -> None:
    url = f"sqlite:///{tmp_path / 'round-trip.db'}"
    migrate.upgrade(url)
    migrate.downgrade(url, "base")
    assert table_names(url) <= {"alembic_version"}
    migrate.upgrade(url)
    assert differences(url) == []
