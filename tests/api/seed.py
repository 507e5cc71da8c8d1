"""The seed data as the YAML files state it: the expected answers of the API tests."""

import datetime as dt
import re
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from tests.conftest import SEED_DATA

ENTITY_KINDS = ("forces", "agencies", "waves", "authorities", "activities")
LIST_KINDS = ("sources", *ENTITY_KINDS, "facts")
WORD = re.compile(r"[^\W_]+")


def _bundles() -> list[Path]:
    return sorted(path for path in SEED_DATA.iterdir() if (path / "source.yaml").is_file())


@cache
def records(kind: str) -> list[dict[str, Any]]:
    """Every record of ``kind`` in every bundle; a fact also gets ``source``, its bundle's id."""
    found: list[dict[str, Any]] = []
    for bundle in _bundles():
        source = yaml.safe_load((bundle / "source.yaml").read_text(encoding="utf-8"))
        if kind == "sources":
            found.append(source)
            continue
        path = bundle / f"{kind}.yaml"
        if path.is_file():
            listed = yaml.safe_load(path.read_text(encoding="utf-8")) or []
            found += [{**record, "source": source["id"]} for record in listed]
    return found


def ids(kind: str) -> list[str]:
    return [record["id"] for record in records(kind)]


def by_id(kind: str) -> dict[str, dict[str, Any]]:
    return {record["id"]: record for record in records(kind)}


def dated_facts() -> list[dict[str, Any]]:
    return [fact for fact in records("facts") if fact.get("date")]


def fact_day(fact: dict[str, Any]) -> dt.date:
    day = fact["date"]["date"]
    return day if isinstance(day, dt.date) else dt.date.fromisoformat(str(day))


# The keys whose text a search looks through, wherever they are in a record.
SEARCHED_KEYS = {
    "name",
    "aliases",
    "description",
    "statement",
    "quote",
    "attributed_to",
    "citation",
    "binds",
    "base",
    "origin",
    "destination",
    "title",
    "publisher",
    "authors",
}


def searched_texts(record: Any, key: str | None = None) -> list[str]:
    """The text of every searched key in a YAML record, however deep."""
    if isinstance(record, dict):
        return [text for k, value in record.items() for text in searched_texts(value, k)]
    if isinstance(record, list):
        return [text for value in record for text in searched_texts(value, key)]
    if isinstance(record, str) and key in SEARCHED_KEYS:
        return [record]
    return []


def words(text: str) -> list[str]:
    return [word.casefold() for word in WORD.findall(text)]


def holds_every_word(texts: list[str], query: str) -> bool:
    """Whether every word of ``query`` begins some word of ``texts``."""
    present = {word for text in texts for word in words(text)}
    return all(any(word.startswith(term) for word in present) for term in words(query))
