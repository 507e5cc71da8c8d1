"""Helpers shared by the tests: breaking bundles on purpose, reading a database whole, reading
bundles in worker processes, a statement slow enough to hold a read, a database replaced under
a server by one of other data, and one made to look rendered by other code."""

import json
import os
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import create_engine, select, text
from sqlmodel import SQLModel

from app import migrate
from app.db import is_sqlite, make_engine
from app.ingest import check as check_module
from app.ingest.loader import load_dataset
from app.models import tables
from tests.conftest import SEED_DATA, _empty_postgres_database

# Ten million steps: seconds of work, far past a test's timeout, yet bounded if nothing stops it.
SLOW_QUERY = (
    "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 10000000) "
    "SELECT count(*), 'slow' FROM n"
)


def read_in_workers(monkeypatch: pytest.MonkeyPatch, folders_per_process: int = 1) -> list[int]:
    """Have bundles read (and rendered, by a load) in two worker processes, whatever the cores
    of the machine, once there are more than ``folders_per_process`` folders, one folder read
    ahead. The list returned gets the number of processes of each pool started, to show that
    workers did the reading. They are forked beside the tests' idle threads (an AnyIO portal of
    a client kept for a module, say), which hold no lock a worker needs."""
    pools: list[int] = []

    class CountedPool(ProcessPoolExecutor):
        def __init__(self, processes: int, *args: Any, **kwargs: Any) -> None:
            pools.append(processes)
            super().__init__(processes, *args, **kwargs)

    monkeypatch.setattr(check_module, "FOLDERS_PER_PROCESS", folders_per_process)
    monkeypatch.setattr(check_module, "READS_AHEAD", 1)
    monkeypatch.setattr(os, "sched_getaffinity", lambda _pid: {0, 1})
    monkeypatch.setattr(check_module, "ProcessPoolExecutor", CountedPool)
    monkeypatch.setattr(check_module, "_can_fork", lambda: True)
    return pools


def facts_file(bundle: Path) -> Path:
    return bundle / "facts.yaml"


def first_fact(bundle: Path) -> dict[str, Any]:
    facts: list[dict[str, Any]] = yaml.safe_load(facts_file(bundle).read_text(encoding="utf-8"))
    return facts[0]


Records = list[dict[str, Any]]


def edit_records(bundle: Path, file_name: str, edit: Callable[[Records], Records]) -> Records:
    """Write the records of the bundle's file ``file_name`` again as ``edit`` makes them of
    those it held; return them."""
    path = bundle / file_name
    records = edit(yaml.safe_load(path.read_text(encoding="utf-8")))
    path.write_text(yaml.safe_dump(records, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return records


def add_a_rare_word(bundle: Path) -> str:
    """Append "Zyzzogeton." to the statement of the bundle's first fact; return the fact's id."""

    def with_the_word(facts: Records) -> Records:
        facts[0]["statement"] += " Zyzzogeton."
        return facts

    return str(edit_records(bundle, "facts.yaml", with_the_word)[0]["id"])


def append_fact(bundle: Path, fact: dict[str, Any]) -> int:
    """Append ``fact`` to the bundle's facts.yaml; return the line its record starts on."""
    path = facts_file(bundle)
    text = path.read_text(encoding="utf-8").rstrip("\n") + "\n"
    path.write_text(
        text + yaml.safe_dump([fact], allow_unicode=True, sort_keys=False), encoding="utf-8"
    )
    return text.count("\n") + 1


def snapshot(url: str) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every Muster table, in a stable order."""
    engine = create_engine(url)
    with engine.connect() as connection:
        rows = {
            table.name: sorted((tuple(row) for row in connection.execute(select(table))), key=repr)
            for table in SQLModel.metadata.sorted_tables
        }
    engine.dispose()
    return rows


SEARCH_INDEX_ROWS = {
    "sqlite": "SELECT rowid, name, aliases, other FROM search_index ORDER BY rowid",
    "postgresql": "SELECT place, words::text FROM search_index ORDER BY place",
}
"""The search index, which is no SQLModel table: the words of each place, by dialect."""


def search_index(url: str) -> list[tuple[Any, ...]]:
    """Every row of the search index, in place order."""
    engine = create_engine(url)
    with engine.connect() as connection:
        rows = [
            tuple(row) for row in connection.execute(text(SEARCH_INDEX_ROWS[engine.dialect.name]))
        ]
    engine.dispose()
    return rows


def row_counts(url: str) -> dict[str, int]:
    return {name: len(rows) for name, rows in snapshot(url).items()}


DATA_TABLE_NAMES = tables.DATA_TABLE_NAMES

SEED_PATH_ARGUMENTS = {
    "source_id": "cnn-2025-01-22",
    "force_id": "jtf-north",
    "agency_id": "cbp",
    "wave_id": "initial-wave",
    "authority_id": "posse-comitatus-act",
    "activity_id": "logistics",
    "fact_id": "fact-initial-wave-1500",
}
"""A record of the seed for each path parameter of the API: every path, made a real one."""


def replace_with_one_load_of(database_url: str, bundles: Path, scratch: Path) -> None:
    """Replace the database at ``database_url``, which holds one load, with one holding one load
    of ``bundles``, as an operator does who renames a SQLite file over the served one or
    restores a PostgreSQL database from another: the load number stays 1, only the data version
    tells the two apart."""
    if is_sqlite(database_url):
        shipped = scratch / "shipped.db"
        fill(f"sqlite:///{shipped}", bundles)
        os.replace(shipped, database_url.removeprefix("sqlite:///"))
    else:
        fill(_empty_postgres_database(), bundles)
    engine = create_engine(database_url)
    with engine.connect() as connection:
        loads = connection.execute(text("SELECT seq FROM dataset_loads")).scalars().all()
    engine.dispose()
    assert loads == [1]


def render_otherwise(database_url: str, *, appended: str = "") -> None:
    """Make the one load in the database at ``database_url`` look rendered by other rendering
    code (another Muster's), in place: its load records another render version, and each fact's
    list document has ``appended`` at the end of its statement. The load number and the data
    version stay as they were."""
    engine = create_engine(database_url)
    with engine.begin() as connection:
        loads = connection.execute(text("SELECT seq FROM dataset_loads")).scalars().all()
        assert loads == [1]
        connection.execute(text("UPDATE dataset_loads SET render_version = 'other-code'"))
        if appended:
            for fact_id, listed in connection.execute(text("SELECT id, listed FROM facts")).all():
                document = json.loads(listed)
                document["statement"] += appended
                connection.execute(
                    text("UPDATE facts SET listed = :listed WHERE id = :id"),
                    {"listed": json.dumps(document), "id": fact_id},
                )
    engine.dispose()


def fill(url: str, bundles: Path = SEED_DATA) -> None:
    """Migrate the database at ``url`` and load ``bundles`` into it."""
    migrate.upgrade(url)
    engine = make_engine(url)
    load_dataset(engine, check_module.read_dataset(bundles))
    engine.dispose()
