"""``muster load``: one transaction, idempotent, and a refusal loses nothing."""

from pathlib import Path

from sqlalchemy import create_engine, text
from typer.testing import CliRunner

from app.cli import cli
from tests.conftest import ARTICLE_BUNDLE, SEED_DATA
from tests.helpers import append_fact, first_fact, row_counts, snapshot

runner = CliRunner()


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
    assert sorted(changes) == sorted([("fact-added-by-test", "added"), (original["id"], "changed")])


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
        connection.execute(
            text(
                "CREATE TRIGGER refuse BEFORE INSERT ON facts WHEN NEW.id = 'fact-refused' "
                "BEGIN SELECT RAISE(ABORT, 'refused by test'); END"
            )
        )
    bundle = seed_copy / ARTICLE_BUNDLE
    append_fact(bundle, first_fact(bundle) | {"id": "fact-refused"})
    result = runner.invoke(cli, ["load", str(seed_copy)])
    assert result.exit_code != 0
    assert snapshot(database_url) == before


def test_load_on_an_unmigrated_database_names_the_command(tmp_path: Path, monkeypatch) -> None:
    from app.config import get_settings

    monkeypatch.setenv("MUSTER_DATABASE_URL", f"sqlite:///{tmp_path / 'empty.db'}")
    get_settings.cache_clear()
    code, output = load(SEED_DATA)
    get_settings.cache_clear()
    assert code == 1
    assert "muster db upgrade" in output
