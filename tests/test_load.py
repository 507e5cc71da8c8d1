"""``muster load``: one transaction, idempotent, and a refusal loses nothing."""

import ast
import shutil
import sqlite3
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlmodel import Session, col, select
from typer.testing import CliRunner

from app import migrate
from app.cli import cli
from app.config import get_settings
from app.db import make_engine
from app.ingest import loader
from app.ingest.check import InvalidBundlesError, read_dataset
from app.ingest.loader import load_dataset
from app.models import tables
from app.services import render
from bench.synthetic import write_bundles
from tests.conftest import ARTICLE_BUNDLE, SEED_DATA
from tests.helpers import (
    add_a_rare_word,
    append_fact,
    first_fact,
    read_in_workers,
    row_counts,
    search_index,
    snapshot,
)

runner = CliRunner()

# Statements that make the database refuse to insert the fact "fact-refused", by dialect.
REFUSE_ONE_FACT = {
    "sqlite": [
        "CREATE TRIGGER refuse BEFORE INSERT ON facts WHEN NEW.id = 'fact-refused' "
        "BEGIN SELECT RAISE(ABORT, 'refused by test'); END"
    ],
    "postgresql": [
        "CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql "
        "AS $$ BEGIN RAISE EXCEPTION 'refused by test'; END $$",
        "CREATE TRIGGER refuse BEFORE INSERT ON facts FOR EACH ROW "
        "WHEN (NEW.id = 'fact-refused') EXECUTE FUNCTION refuse()",
    ],
}


def load(path: Path) -> tuple[int, str]:
    result = runner.invoke(cli, ["load", str(path)])
    return result.exit_code, result.output


def test_load_fills_an_empty_database(database_url: str) -> None:
    code, output = load(SEED_DATA)
    assert code == 0, output
    assert "(was empty)" in output
    counts = row_counts(database_url)
    assert counts["sources"] == 2
    assert counts["facts"] >= 40
    assert counts["citations"] >= counts["facts"]
    assert counts["dataset_loads"] == 1
    assert f"facts: {counts['facts']} added" in output


def test_loading_the_same_files_twice_leaves_the_same_rows(database_url: str) -> None:
    load(SEED_DATA)
    before = snapshot(database_url)
    code, output = load(SEED_DATA)
    assert code == 0
    assert output.startswith("unchanged")
    assert snapshot(database_url) == before


def test_a_changed_bundle_reports_what_changed(database_url: str, seed_copy: Path) -> None:
    load(seed_copy)
    bundle = seed_copy / ARTICLE_BUNDLE
    facts_path = bundle / "facts.yaml"
    original = first_fact(bundle)
    append_fact(bundle, original | {"id": "fact-added-by-test"})
    text_before = facts_path.read_text(encoding="utf-8")
    facts_path.write_text(
        text_before.replace(original["statement"], original["statement"] + " Edited.", 1),
        encoding="utf-8",
    )
    code, output = load(seed_copy)
    assert code == 0, output
    assert "facts: 1 added, 1 changed" in output
    with create_engine(database_url).connect() as connection:
        changes = connection.execute(
            text("SELECT record_id, change FROM dataset_changes WHERE seq = 2 ORDER BY record_id")
        ).all()
    # The added fact is about what the original is about: those records, and the article,
    # count one fact more.
    counting = [(record_id, "changed") for record_id in [*original["about"], ARTICLE_BUNDLE]]
    expected = [("fact-added-by-test", "added"), (original["id"], "changed"), *counting]
    assert sorted(changes) == sorted(expected)


def test_a_refused_load_leaves_the_data_exactly_as_it_was(
    database_url: str, seed_copy: Path
) -> None:
    load(seed_copy)
    before = snapshot(database_url)
    bundle = seed_copy / ARTICLE_BUNDLE
    append_fact(bundle, first_fact(bundle) | {"id": "fact-broken", "about": ["nowhere"]})
    code, output = load(seed_copy)
    assert code == 1
    assert "nothing was loaded" in output
    assert snapshot(database_url) == before


def test_a_load_that_fails_inside_the_transaction_changes_nothing(
    database_url: str, seed_copy: Path
) -> None:
    load(SEED_DATA)
    before = snapshot(database_url)
    engine = create_engine(database_url)
    with engine.begin() as connection:  # the database refuses one row, mid-load
        for statement in REFUSE_ONE_FACT[connection.dialect.name]:
            connection.execute(text(statement))
    engine.dispose()
    bundle = seed_copy / ARTICLE_BUNDLE
    append_fact(bundle, first_fact(bundle) | {"id": "fact-refused"})
    result = runner.invoke(cli, ["load", str(seed_copy)])
    assert result.exit_code != 0
    assert snapshot(database_url) == before


def change_a_file(seed_copy: Path, change: str) -> Path:
    """Change a file of records as ``change`` says, or add one; return its path."""
    bundle = seed_copy / ARTICLE_BUNDLE
    if change == "waves.yaml added":  # the article's waves, again in the other bundle
        added = seed_copy / "us-code" / "waves.yaml"
        shutil.copy(bundle / "waves.yaml", added)
        return added
    changed = bundle / change.removesuffix(" changed")
    changed.write_text(changed.read_text(encoding="utf-8") + "# changed\n", encoding="utf-8")
    return changed


@pytest.mark.parametrize("reading", ["one process", "worker processes"])
@pytest.mark.parametrize(
    "change", ["facts.yaml changed", "forces.yaml changed", "waves.yaml added"]
)
def test_a_bundle_changed_between_its_check_and_its_load_is_refused(
    database_url: str,
    seed_copy: Path,
    monkeypatch: pytest.MonkeyPatch,
    reading: str,
    change: str,
) -> None:
    """A load reads each file of records again as it writes them: one that is not what was
    checked, or was not there, is refused, and nothing changes."""
    if reading == "worker processes":
        read_in_workers(monkeypatch)
    load(SEED_DATA)
    before = snapshot(database_url)
    add_a_rare_word(seed_copy / ARTICLE_BUNDLE)
    checked = read_dataset(seed_copy)
    changed = change_a_file(seed_copy, change)
    with pytest.raises(InvalidBundlesError) as refused:
        load_dataset(make_engine(database_url), checked)
    assert [str(problem) for problem in refused.value.problems] == [
        f"{changed}:1: changed since it was checked: check the bundles and load them again"
    ]
    assert snapshot(database_url) == before


def test_load_on_an_unmigrated_database_names_the_command(
    empty_database_url: str, monkeypatch
) -> None:
    monkeypatch.setenv("MUSTER_DATABASE_URL", empty_database_url)
    get_settings.cache_clear()
    code, output = load(SEED_DATA)
    get_settings.cache_clear()
    assert code == 1
    assert "muster db upgrade" in output


@pytest.mark.parametrize(
    ("revision", "said"),
    [
        ("0013", "older than this Muster's: run `muster db upgrade`"),
        ("9999", "which this Muster does not know"),
    ],
)
def test_a_load_into_a_schema_of_another_muster_is_refused_and_changes_nothing(
    database_url: str, seed_copy: Path, revision: str, said: str
) -> None:
    """A load writes the columns its own models know: into an older schema it would fail half
    way, and into a newer one, migrated by a newer Muster, it would leave out what that Muster
    writes (0014's reported_on beside each record's facts, read as "known on every day")."""
    load(SEED_DATA)
    with create_engine(database_url).begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = :r"), {"r": revision})
    before = snapshot(database_url)
    add_a_rare_word(seed_copy / ARTICLE_BUNDLE)
    code, output = load(seed_copy)
    assert code == 1
    assert f"the database's schema is revision {revision}, " in output
    assert said in output
    assert snapshot(database_url) == before


def test_a_reader_sees_the_data_from_before_a_load_or_after_it_never_a_mix(
    database_url: str, seed_copy: Path
) -> None:
    load(SEED_DATA)
    bundle = seed_copy / ARTICLE_BUNDLE
    append_fact(bundle, first_fact(bundle) | {"id": "fact-added-by-test"})
    engine = make_engine(database_url)  # configured as the server's engine is
    with ThreadPoolExecutor(max_workers=1) as loader:
        with Session(engine) as session, session.begin():
            newest = select(tables.DatasetLoad.seq).order_by(col(tables.DatasetLoad.seq).desc())
            assert session.exec(newest).first() == 1
            # Another connection loads meanwhile. PostgreSQL lets it commit at once; SQLite makes
            # it wait until this read transaction ends. Either way this reader sees no change.
            pending_load = loader.submit(load, seed_copy)
            time.sleep(0.3)
            fact_ids = set(session.exec(select(tables.Fact.id)))
        code, output = pending_load.result(timeout=30)
    engine.dispose()
    assert code == 0, output
    assert "fact-added-by-test" not in fact_ids
    assert "fact-added-by-test" in {row[0] for row in snapshot(database_url)["facts"]}


def test_a_load_leaves_the_planner_statistics_of_what_it_wrote(database_url: str) -> None:
    """So that the first reads after it plan by the data's shape (a filter's selectivity)."""
    code, output = load(SEED_DATA)
    assert code == 0, output
    statistics = {
        "sqlite": "SELECT count(*) FROM sqlite_stat1 WHERE tbl = 'facts'",
        "postgresql": "SELECT count(*) FROM pg_stats WHERE tablename = 'facts'",
    }
    engine = make_engine(database_url)
    with engine.connect() as connection:
        rows = connection.execute(text(statistics[engine.dialect.name])).scalar_one()
    engine.dispose()
    assert rows > 0


def test_a_load_in_worker_processes_writes_what_one_process_writes(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Many bundles are read again and rendered by worker processes: the rows (the digests that
    a change log compares among them) and the search index are what one process writes."""
    bundles = write_bundles(tmp_path / "bundles", 3).root
    with monkeypatch.context() as workers:
        pools = read_in_workers(workers)
        load_dataset(make_engine(database_url), read_dataset(bundles))
    assert len(pools) > 1  # the check's, then the load's
    assert set(pools) == {2}
    in_workers = snapshot(database_url), search_index(database_url)
    # The same data, rendered again in this process, as by a Muster that renders differently.
    monkeypatch.setattr(render, "RENDER_VERSION", "rendered-in-one-process")
    load_dataset(make_engine(database_url), read_dataset(bundles))
    in_one_process = snapshot(database_url), search_index(database_url)
    loads = in_one_process[0].pop("dataset_loads")
    assert len(loads) == len(in_workers[0].pop("dataset_loads")) + 1
    assert in_one_process == in_workers
    assert len(in_workers[0]["facts"]) == 3 * 58
    assert len(in_workers[1]) == len(in_workers[0]["search_records"]) > 3 * 58


def test_a_reload_on_sqlite_leaves_no_space_of_the_data_it_replaced(tmp_path: Path) -> None:
    """A load starts its new file from the served file's schema and history, not from a copy of
    its data: after larger data, the file holds no pages freed by the data it replaced."""
    database = tmp_path / "muster.db"
    migrate.upgrade(f"sqlite:///{database}")
    larger = write_bundles(tmp_path / "larger", 3).root
    load_dataset(make_engine(f"sqlite:///{database}"), read_dataset(larger))
    load_dataset(make_engine(f"sqlite:///{database}"), read_dataset(SEED_DATA))
    with closing(sqlite3.connect(database)) as connection:
        assert connection.execute("PRAGMA freelist_count").fetchone() == (0,)


def test_a_load_on_sqlite_keeps_what_an_operator_added_to_the_file(tmp_path: Path) -> None:
    """What a load does not write again it keeps, as it was, whatever an operator added: a table,
    a full-text index of their own, a trigger (which copying does not fire again), the file's
    user_version."""
    database = tmp_path / "muster.db"
    migrate.upgrade(f"sqlite:///{database}")
    with closing(sqlite3.connect(database)) as connection, connection:
        connection.execute("CREATE TABLE operator_notes (note TEXT)")
        connection.execute("CREATE TABLE operator_audit (note TEXT)")
        connection.execute(
            "CREATE TRIGGER operator_noted AFTER INSERT ON operator_notes "
            "BEGIN INSERT INTO operator_audit VALUES (NEW.note); END"
        )
        connection.execute("CREATE VIRTUAL TABLE operator_search USING fts5(note)")
        connection.execute("INSERT INTO operator_notes VALUES ('kept')")
        connection.execute("INSERT INTO operator_search VALUES ('kept')")
        connection.execute("PRAGMA user_version = 7")
    load_dataset(make_engine(f"sqlite:///{database}"), read_dataset(SEED_DATA))
    with closing(sqlite3.connect(database)) as connection:
        assert connection.execute("SELECT note FROM operator_notes").fetchall() == [("kept",)]
        assert connection.execute("SELECT note FROM operator_audit").fetchall() == [("kept",)]
        found = "SELECT note FROM operator_search WHERE operator_search MATCH 'kept'"
        assert connection.execute(found).fetchall() == [("kept",)]
        assert connection.execute("PRAGMA user_version").fetchone() == (7,)


SHAPES_NOTHING_WRITTEN = {
    "ingest/hedges.py": "refuses or warns; what it lets through is rendered as it was written",
    "models/tables.py": "the schema, which changes only with a migration",
    "models/keys.py": "the database's secrets, which a load keeps as they are",
}
"""Modules the load imports whose code shapes none of what it writes, and why."""


APP_FOLDER = Path(render.__file__).resolve().parent.parent


def imported_modules(module: str, found: set[str]) -> set[str]:
    """The files under app/ that ``module`` imports, directly or not, and its own, added to
    ``found``."""
    path = APP_FOLDER.parent / f"{module.replace('.', '/')}.py"
    relative = path.relative_to(APP_FOLDER).as_posix()
    if relative in found:
        return found
    found.add(relative)
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("app."):
            for name in [node.module, *(f"{node.module}.{alias.name}" for alias in node.names)]:
                if (APP_FOLDER.parent / f"{name.replace('.', '/')}.py").is_file():
                    imported_modules(name, found)
    return found


def test_the_render_version_covers_the_code_the_load_renders_with() -> None:
    """A change to any code that shapes what the load writes renders the data again: every
    module the load imports is in ``RENDERING_CODE`` or shapes nothing written."""
    loader_modules = imported_modules("app.ingest.loader", set())
    assert loader_modules - set(SHAPES_NOTHING_WRITTEN) == set(render.RENDERING_CODE)


def test_rows_written_in_small_batches_are_the_rows_written_in_large_ones(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A load writes, and reads back the facts its waves name, a batch at a time: two rows a
    batch write what two thousand do."""
    with monkeypatch.context() as small:
        small.setattr(loader, "BATCH_ROWS", 2)
        load_dataset(make_engine(database_url), read_dataset(SEED_DATA))
    in_small_batches = snapshot(database_url), search_index(database_url)
    monkeypatch.setattr(render, "RENDER_VERSION", "rendered-in-large-batches")
    load_dataset(make_engine(database_url), read_dataset(SEED_DATA))
    in_large_batches = snapshot(database_url), search_index(database_url)
    assert len(in_large_batches[0].pop("dataset_loads")) == 2
    in_small_batches[0].pop("dataset_loads")
    assert in_large_batches == in_small_batches
    assert in_small_batches[0]["waves"]


ADDED = "fact-added-by-the-second-load"


def test_two_loads_at_once_both_land_one_after_the_other(
    database_url: str, seed_copy: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """As SQLite's lock file makes a second load wait, so must PostgreSQL: there two loads at
    once failed ("could not serialize access due to concurrent delete"). The second waits for
    the first, then replaces its data."""
    load(SEED_DATA)
    first_copy = shutil.copytree(seed_copy, seed_copy.with_name("first"))
    for copy, fact_id in [(first_copy, "fact-added-by-the-first-load"), (seed_copy, ADDED)]:
        append_fact(copy / ARTICLE_BUNDLE, first_fact(copy / ARTICLE_BUNDLE) | {"id": fact_id})
    write_rows = loader._write_rows

    def slowly(*args: object) -> None:
        time.sleep(0.5)  # long enough for the second load to start while the first writes
        write_rows(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(loader, "_write_rows", slowly)
    first_dataset, second_dataset = read_dataset(first_copy), read_dataset(seed_copy)
    engine = make_engine(database_url)
    with ThreadPoolExecutor(max_workers=2) as loads:
        first = loads.submit(load_dataset, engine, first_dataset)
        time.sleep(0.2)
        second = loads.submit(load_dataset, engine, second_dataset)
        reports = [first.result(timeout=60), second.result(timeout=60)]
    engine.dispose()
    assert [report.version for report in reports] == [first_dataset.version, second_dataset.version]
    assert reports[1].previous_version == first_dataset.version
    assert ADDED in {row[0] for row in snapshot(database_url)["facts"]}
