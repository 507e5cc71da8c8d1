"""Helpers shared by the tests: breaking bundles on purpose, reading a database whole, and a
statement slow enough to hold a read."""

from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import create_engine, select
from sqlmodel import SQLModel

from app.models import tables

# Ten million steps: seconds of work, far past a test's timeout, yet bounded if nothing stops it.
SLOW_QUERY = (
    "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 10000000) "
    "SELECT count(*), 'slow' FROM n"
)


def facts_file(bundle: Path) -> Path:
    return bundle / "facts.yaml"


def first_fact(bundle: Path) -> dict[str, Any]:
    facts: list[dict[str, Any]] = yaml.safe_load(facts_file(bundle).read_text(encoding="utf-8"))
    return facts[0]


def add_a_rare_word(bundle: Path) -> str:
    """Append "Zyzzogeton." to the statement of the bundle's first fact; return the fact's id."""
    path = facts_file(bundle)
    facts = yaml.safe_load(path.read_text(encoding="utf-8"))
    facts[0]["statement"] += " Zyzzogeton."
    path.write_text(yaml.safe_dump(facts, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return str(facts[0]["id"])


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


def row_counts(url: str) -> dict[str, int]:
    return {name: len(rows) for name, rows in snapshot(url).items()}


DATA_TABLE_NAMES = tables.DATA_TABLE_NAMES
