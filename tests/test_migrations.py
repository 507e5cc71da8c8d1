"""The Alembic migrations build exactly the models' schema, go down and up again, and replicas
that migrate at the same moment leave one correct schema."""

import os
import re
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from itertools import pairwise
from pathlib import Path
from typing import Any

import pytest
import yaml
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, create_engine, inspect, text
from sqlmodel import SQLModel

import migrations
from app import migrate
from app.db import is_sqlite, make_engine
from app.ingest.check import read_dataset
from app.ingest.loader import load_dataset
from app.models import keys, tables
from app.services import search
from app.services.search import include_in_autogenerate
from tests.conftest import ARTICLE_BUNDLE, SEED_DATA
from tests.helpers import (
    DATA_TABLE_NAMES,
    SEARCH_INDEX_ROWS,
    add_a_rare_word,
    render_otherwise,
    search_index,
)

REPLICAS = 4
REPLICA = "import sys, app.cli; sys.stdin.readline(); app.cli.main()"


def differences(url: str) -> list[object]:
    engine = create_engine(url)
    with engine.connect() as connection:
        context = MigrationContext.configure(
            connection,
            # as migrations/env.py does: the search index is no model
            opts={"compare_type": True, "include_name": include_in_autogenerate},
        )
        diff = compare_metadata(context, SQLModel.metadata)
    engine.dispose()
    return list(diff)


def table_names(url: str) -> set[str]:
    engine = create_engine(url)
    names = set(inspect(engine).get_table_names())
    engine.dispose()
    return names


def versions(url: str) -> list[str]:
    engine = create_engine(url)
    with engine.connect() as connection:
        found = list(connection.execute(text("SELECT version_num FROM alembic_version")).scalars())
    engine.dispose()
    return found


def head(url: str) -> str | None:
    return ScriptDirectory.from_config(migrate.alembic_config(url)).get_current_head()


def test_upgrade_head_on_an_empty_database_matches_the_models(empty_database_url: str) -> None:
    url = empty_database_url
    migrate.upgrade(url)
    assert set(DATA_TABLE_NAMES) <= table_names(url)
    assert tables.DatasetLoad.__tablename__ in table_names(url)
    assert differences(url) == []
    assert versions(url) == [head(url)]


def test_the_head_that_serve_requires_is_the_newest_migration(empty_database_url: str) -> None:
    url = empty_database_url
    assert head(url) == migrations.HEAD
    assert migrate.current_revision(url) != migrations.HEAD
    migrate.upgrade(url)
    assert migrate.current_revision(url) == migrations.HEAD
    migrate.downgrade(url, "-1")
    assert migrate.current_revision(url) != migrations.HEAD


def test_downgrade_to_base_and_upgrade_again(empty_database_url: str) -> None:
    url = empty_database_url
    migrate.upgrade(url)
    migrate.downgrade(url, "base")
    assert table_names(url) <= {"alembic_version"}
    migrate.upgrade(url)
    assert differences(url) == []


def schema_of(url: str) -> dict[str, dict[str, Any]]:
    """Each table's columns (name, type, nullable), primary key, foreign keys, unique constraints
    and indexes, as the database holds them."""
    engine = create_engine(url)
    inspector = inspect(engine)
    schema = {
        table: {
            "columns": [
                (column["name"], str(column["type"]), column["nullable"])
                for column in inspector.get_columns(table)
            ],
            "primary key": inspector.get_pk_constraint(table)["constrained_columns"],
            "foreign keys": sorted(
                (
                    tuple(key["constrained_columns"]),
                    key["referred_table"],
                    tuple(key["referred_columns"]),
                    key["name"],
                )
                for key in inspector.get_foreign_keys(table)
            ),
            "unique": sorted(
                (str(unique["name"]), tuple(unique["column_names"]))
                for unique in inspector.get_unique_constraints(table)
            ),
            "indexes": sorted(
                (index["name"], tuple(index["column_names"]), bool(index["unique"]))
                for index in inspector.get_indexes(table)
            ),
        }
        for table in inspector.get_table_names()
        if table != "alembic_version"
    }
    engine.dispose()
    return schema


def test_each_downgrade_leaves_the_schema_its_upgrade_started_from(
    empty_database_url: str,
) -> None:
    """Going down one revision restores every table, column, key, unique constraint and index of
    the revision below, as ``schema_of`` reads them: so a database taken back to an older Muster
    is that Muster's own."""
    url = empty_database_url
    script = ScriptDirectory.from_config(migrate.alembic_config(url))
    oldest_first = [revision.revision for revision in script.walk_revisions()][::-1]
    migrate.upgrade(url, oldest_first[0])
    for below, revision in pairwise(oldest_first):
        before = schema_of(url)
        migrate.upgrade(url, revision)
        migrate.downgrade(url, below)
        assert schema_of(url) == before, f"{revision} down to {below}"
        migrate.upgrade(url, revision)


def test_replicas_upgrading_at_the_same_moment_leave_one_correct_schema(
    empty_database_url: str,
) -> None:
    url = empty_database_url
    # `muster db upgrade`, once the replica has imported everything and read "go": Python's
    # start-up time varies more than a migration takes, and the replicas must really overlap.
    upgrade = [sys.executable, "-c", REPLICA, "db", "upgrade"]
    environment = os.environ | {"MUSTER_DATABASE_URL": url}
    replicas = [
        subprocess.Popen(
            upgrade, env=environment, stdin=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        for _ in range(REPLICAS)
    ]
    for replica in replicas:
        assert replica.stdin is not None
        replica.stdin.write("go\n")
        replica.stdin.flush()
    errors = [replica.communicate(timeout=120)[1] for replica in replicas]
    failures = [
        error for replica, error in zip(replicas, errors, strict=True) if replica.returncode
    ]
    if is_sqlite(url):
        # SQLite has no advisory lock: a replica that loses the race may fail, the schema must not.
        assert len(failures) < REPLICAS, failures
    else:
        assert failures == []
    assert differences(url) == []
    assert versions(url) == [head(url)]


def test_upgrade_waits_while_another_session_holds_the_migration_lock(
    empty_database_url: str,
) -> None:
    url = empty_database_url
    if is_sqlite(url):
        pytest.skip("SQLite has no advisory locks; migrations take none there")
    engine = create_engine(url)
    with ThreadPoolExecutor(max_workers=1) as pool, engine.connect() as holder:
        holder.execute(text("SELECT pg_advisory_lock(:key)"), {"key": migrate.MIGRATION_LOCK_KEY})
        upgrading = pool.submit(migrate.upgrade, url)
        deadline = time.monotonic() + 30
        while not waiting_for_the_migration_lock(holder):
            assert not upgrading.done(), "the upgrade ran without waiting for the lock"
            assert time.monotonic() < deadline, "the upgrade never asked for the lock"
            time.sleep(0.05)
        assert "alembic_version" not in table_names(url)
        holder.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": migrate.MIGRATION_LOCK_KEY})
        upgrading.result(timeout=60)
    engine.dispose()
    assert differences(url) == []


def waiting_for_the_migration_lock(connection: Connection) -> bool:
    # pg_locks shows a bigint advisory key as its high half (classid) and low half (objid).
    waiting = connection.execute(
        text(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted "
            "AND classid = :high AND objid = :low AND objsubid = 1"
        ),
        {"high": migrate.MIGRATION_LOCK_KEY >> 32, "low": migrate.MIGRATION_LOCK_KEY & 0xFFFFFFFF},
    ).scalar_one()
    return bool(waiting)


def test_0005_adds_each_loaded_wave_s_joins_fact_from_its_document(
    empty_database_url: str,
) -> None:
    url = empty_database_url
    migrate.upgrade(url)
    engine = make_engine(url)
    load_dataset(engine, read_dataset(SEED_DATA))
    migrate.downgrade(url, "0004")  # the data as an older Muster loaded it
    migrate.upgrade(url)
    with engine.connect() as connection:
        rows = connection.execute(text("SELECT id, joins_fact_id FROM waves ORDER BY id")).all()
    engine.dispose()
    waves = yaml.safe_load((SEED_DATA / ARTICLE_BUNDLE / "waves.yaml").read_text("utf-8"))
    assert rows == sorted((wave["id"], wave.get("joins_fact")) for wave in waves)
    assert differences(url) == []


def test_0006_and_0008_fill_the_loaded_rows_as_a_load_writes_them(
    empty_database_url: str,
) -> None:
    """Data loaded by an older Muster gets the waves' status ranks and the events' dates that a
    load writes now."""
    url = empty_database_url
    filled = {
        "waves": "SELECT id, status_rank FROM waves ORDER BY id",
        "fact_about": "SELECT fact_id, entity_id, date_key FROM fact_about ORDER BY 1, 2",
    }
    as_loaded, migrated = loaded_and_migrated_from(url, "0005", filled)
    assert {rank for _, rank in as_loaded["waves"]} != {0}  # not the column's filling default
    assert {date for *_, date in as_loaded["fact_about"]} - {""}
    assert migrated == as_loaded
    assert differences(url) == []


def loaded_and_migrated_from(
    url: str, older: str, filled: dict[str, str]
) -> tuple[dict[str, list[Any]], dict[str, list[Any]]]:
    """What the statements ``filled`` (by table) read of the seed as a load writes it, and again
    once the database has gone down to the revision ``older`` and up: the same data as an older
    Muster loaded it, migrated."""
    migrate.upgrade(url)
    engine = make_engine(url)
    load_dataset(engine, read_dataset(SEED_DATA))

    def read() -> dict[str, list[Any]]:
        with engine.connect() as connection:
            return {table: list(connection.execute(text(sql))) for table, sql in filled.items()}

    as_loaded = read()
    migrate.downgrade(url, older)
    migrate.upgrade(url)
    migrated = read()
    engine.dispose()
    return as_loaded, migrated


def test_0012_gives_each_loaded_link_of_an_activity_its_sort_name(
    empty_database_url: str,
) -> None:
    """The links of data loaded by an older Muster get the activity's sort name that a load
    writes now."""
    url = empty_database_url
    links = {
        table: f"SELECT activity_id, {column}, sort_name FROM {table} ORDER BY 1, 2"
        for table, column in (
            ("activity_forces", "force_id"),
            ("activity_authorities", "authority_id"),
        )
    }
    as_loaded, migrated = loaded_and_migrated_from(url, "0011", links)
    assert all(rows for rows in as_loaded.values())
    assert {name for rows in as_loaded.values() for *_, name in rows} - {""}
    assert migrated == as_loaded
    assert differences(url) == []


def test_0014_gives_each_loaded_fact_about_row_its_fact_s_day(empty_database_url: str) -> None:
    """Data loaded by an older Muster gets the day each fact was first reported beside each record
    it is about, as a load writes it now."""
    url = empty_database_url
    about = {"fact_about": "SELECT fact_id, entity_id, reported_on FROM fact_about ORDER BY 1, 2"}
    as_loaded, migrated = loaded_and_migrated_from(url, "0013", about)
    days = {day for *_, day in as_loaded["fact_about"]}
    assert None in days  # the seed's undated reference facts
    assert days - {None}  # and its dated ones
    assert migrated == as_loaded
    assert differences(url) == []


def test_0017_gives_each_loaded_fact_its_sources(empty_database_url: str) -> None:
    """Data loaded by an older Muster gets each source each fact cites, once, with the fact's
    keys of each order, as a load writes them now."""
    url = empty_database_url
    sql = "SELECT fact_id, source_id, told_at, date_key, reported_on FROM fact_sources"
    as_loaded, migrated = loaded_and_migrated_from(url, "0016", {"sources": f"{sql} ORDER BY 1, 2"})
    assert {source for _, source, *_ in as_loaded["sources"]} == {ARTICLE_BUNDLE, "us-code"}
    assert migrated == as_loaded
    assert differences(url) == []


def test_0018_places_each_loaded_fact_at_its_told_at_and_the_other_records_below(
    empty_database_url: str,
) -> None:
    """Data loaded by an older Muster, whose places counted from 0 with the facts last, gets each
    fact's place at its told_at and the other records' below 0, in the same order, in the search
    records and the index alike, as a load writes them now."""
    url = empty_database_url
    places = {
        "records": "SELECT place, kind, record_id FROM search_records ORDER BY place",
        "index": SEARCH_INDEX_ROWS["sqlite" if is_sqlite(url) else "postgresql"],
        "facts": "SELECT search_records.place, facts.told_at FROM search_records "
        "JOIN facts ON facts.id = search_records.record_id AND search_records.kind = 'facts' "
        "ORDER BY 1",
    }
    as_loaded, migrated = loaded_and_migrated_from(url, "0017", places)
    assert migrated == as_loaded
    assert as_loaded["facts"]
    assert all(place == told_at for place, told_at in as_loaded["facts"])
    records = as_loaded["records"]
    others = [place for place, kind, _ in records if kind != "facts"]
    assert others == list(range(-len(others), 0))
    assert [place for place, *_ in as_loaded["index"]] == [place for place, *_ in records]
    assert differences(url) == []
    migrate.downgrade(url, "0017")  # as 0017 knew them: from 0, the facts after every other
    engine = make_engine(url)
    with engine.connect() as connection:
        older = list(connection.execute(text(places["records"])))
        older_index = list(connection.execute(text(places["index"])))
    engine.dispose()
    assert older == [(place + len(others), *rest) for place, *rest in records]
    assert older_index == [(place + len(others), *rest) for place, *rest in as_loaded["index"]]


def test_0020_makes_the_loaded_digests_of_the_documents_so_a_reload_changes_nothing(
    empty_database_url: str,
) -> None:
    """Digests an older Muster made of the bundle records are made again of the stored
    documents, as a load makes them now: the same bundles, loaded again and rendered anew,
    change no record."""
    url = empty_database_url
    migrate.upgrade(url)
    engine = make_engine(url)
    load_dataset(engine, read_dataset(SEED_DATA))
    read = text("SELECT kind, record_id, digest FROM record_digests ORDER BY 1, 2")
    with engine.connect() as connection:
        as_loaded = list(connection.execute(read))
    migrate.downgrade(url, "0019")
    with engine.begin() as connection:  # as the older Muster's load left them
        connection.execute(text("UPDATE record_digests SET digest = 'bundle-record'"))
    render_otherwise(url)
    migrate.upgrade(url)
    with engine.connect() as connection:
        assert list(connection.execute(read)) == as_loaded
    report = load_dataset(engine, read_dataset(SEED_DATA))
    engine.dispose()
    assert report.rendered_again
    assert report.changes == {}
    assert len(as_loaded) > 100


def test_0015_links_the_loaded_activities_to_their_effects_and_waves_to_their_forces(
    empty_database_url: str,
) -> None:
    """Data loaded by an older Muster gets each activity's effects, once each, and each wave's
    forces, its members' and the one it joins, as a load writes them now."""
    url = empty_database_url
    links = {
        "activity_effects": "SELECT activity_id, effect, sort_name FROM activity_effects",
        "wave_forces": "SELECT wave_id, force_id, sort_name FROM wave_forces",
    }
    ordered = {table: f"{sql} ORDER BY 1, 2" for table, sql in links.items()}
    as_loaded, migrated = loaded_and_migrated_from(url, "0014", ordered)
    assert all(rows for rows in as_loaded.values())
    assert migrated == as_loaded
    assert differences(url) == []


def test_0011_keeps_every_indexed_record_and_indexes_short_prefixes(
    empty_database_url: str, seed_copy: Path
) -> None:
    """The search index rebuilt with SQLite's prefix indexes holds what it held, both ways, and
    leaves no table behind; a load of changed data into it is found by a short prefix. (Its rows
    are compared at 0017, before 0018 moves their places.)"""
    url = empty_database_url
    migrate.upgrade(url)
    engine = make_engine(url)
    load_dataset(engine, read_dataset(SEED_DATA))
    at_head = search_index_schema(url)
    assert at_head.keys() == SEARCH_INDEX_NAMES[engine.dialect.name]  # nothing left behind
    migrate.downgrade(url, "0017")
    as_loaded = search_index(url)
    assert as_loaded
    migrate.downgrade(url, "0010")
    assert search_index(url) == as_loaded
    before = search_index_schema(url)
    assert before.keys() == at_head.keys()
    if is_sqlite(url):
        assert PREFIXES in at_head["search_index"]
        assert PREFIXES not in before["search_index"]
    else:  # 0011 leaves PostgreSQL's GIN index as it was
        assert before == at_head
    migrate.upgrade(url, "0017")
    assert search_index(url) == as_loaded
    migrate.upgrade(url)
    assert search_index_schema(url) == at_head
    rare_fact = add_a_rare_word(seed_copy / ARTICLE_BUNDLE)
    load_dataset(engine, read_dataset(seed_copy))
    with engine.connect() as connection:
        found = search.hits(connection, search.matcher(connection, "zyz"), None, None, limit=5)
    engine.dispose()
    assert [hit["id"] for hit in found] == [rare_fact]
    assert differences(url) == []


SEARCH_INDEX_NAMES = {
    "sqlite": {"search_index"}
    | {f"search_index_{own}" for own in ("config", "content", "data", "docsize", "idx")},
    "postgresql": {"search_index", "pk_search_index", "ix_search_index_words"},
}
"""The search index's tables and indexes: on SQLite, FTS5 keeps its own tables beside it."""

PREFIXES = "prefix = '1 2 3 4'"
"""SQLite's search index keeps prefix indexes of 1 to 4 characters, as 0011 defines it."""


QUOTED_TABLE_NAME = re.compile(r"^CREATE TABLE ['\"](\w+)['\"]")


def search_index_schema(url: str) -> dict[str, str]:
    """The definition of each table and index whose name begins "search_index" (on SQLite, FTS5's
    own tables too, their names unquoted: FTS5 quotes them one way as it makes them, and SQLite
    the other as it renames them), by name."""
    engine = create_engine(url)
    with engine.connect() as connection:
        if is_sqlite(url):
            sql = "SELECT name, sql FROM sqlite_master WHERE name LIKE 'search_index%'"
        else:
            sql = (
                "SELECT indexname, indexdef FROM pg_indexes WHERE tablename LIKE 'search_index%' "
                "UNION ALL SELECT tablename, '' FROM pg_tables WHERE tablename LIKE 'search_index%'"
            )
        definitions = {
            name: QUOTED_TABLE_NAME.sub(r"CREATE TABLE \1", definition or "")
            for name, definition in connection.execute(text(sql))
        }
    engine.dispose()
    return definitions


def test_a_first_load_checks_each_foreign_key_by_the_key_s_index(empty_database_url: str) -> None:
    """Migrations leave the tables that foreign keys refer to unanalyzed before a first load.
    Analyzed empty (0013 and 0016 did so on PostgreSQL), the planner takes them for empty for
    the whole load, which checks each row that refers to one by a scan of that table: at 1000x
    80 s a load against 36 s."""
    url = empty_database_url
    if is_sqlite(url):
        pytest.skip("SQLite checks a foreign key by the key's index, whatever it knows of a table")
    migrate.upgrade(url)
    referenced = sorted(
        {
            key.column.table.name
            for table in SQLModel.metadata.tables.values()
            if table.name in DATA_TABLE_NAMES
            for key in table.foreign_keys
        }
    )
    assert referenced
    engine = make_engine(url)
    with engine.connect() as connection:
        for name in referenced:
            plan = _plan_of_a_key_check(connection, name)
            assert re.search(r"Index (Only )?Scan using", plan), (name, plan)
    engine.dispose()


def _plan_of_a_key_check(connection: Connection, table: str) -> str:
    """The plan of the statement a foreign-key check of ``table`` runs, as PostgreSQL keeps it
    for the rest of the load once made: generic, for any key."""
    with connection.begin():
        connection.exec_driver_sql("SET LOCAL plan_cache_mode = force_generic_plan")
        connection.exec_driver_sql(
            f"PREPARE key_check(varchar) AS SELECT 1 FROM ONLY {table} x WHERE id = $1 "
            "FOR KEY SHARE OF x"
        )
        plan = " ".join(
            row[0] for row in connection.exec_driver_sql("EXPLAIN EXECUTE key_check('x')")
        )
        connection.exec_driver_sql("DEALLOCATE key_check")
    return plan


def test_0021_makes_the_database_s_own_cursor_key_once(empty_database_url: str) -> None:
    """The upgrade makes one random secret, which every server of the database signs its cursors
    with; the downgrade drops it, and the next upgrade makes another."""
    url = empty_database_url
    read = text(f"SELECT name, value FROM {keys.DatabaseSecret.__tablename__}")

    def secrets() -> list[tuple[str, str]]:
        engine = create_engine(url)
        with engine.connect() as connection:
            found = [(name, value) for name, value in connection.execute(read)]
        engine.dispose()
        return found

    migrate.upgrade(url)
    [(name, key)] = secrets()
    assert name == keys.CURSOR_KEY
    assert len(bytes.fromhex(key)) == 32
    migrate.upgrade(url)  # already at head: the key stays
    assert secrets() == [(name, key)]
    migrate.downgrade(url, "0020")
    assert "database_secrets" not in table_names(url)
    migrate.upgrade(url)
    [(_, another)] = secrets()
    assert another != key
    assert differences(url) == []
