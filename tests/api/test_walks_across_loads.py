"""A client that walks a list page by page while a load lands goes on after the last item it saw.

A load numbers the facts' places in the order of telling anew (``told_at``): one fact told before
the others moves every later fact one place on. A cursor that held a place would then resume one
item early, and show an item twice; one removed before it, one item late, and skip one unseen.
"""

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from fastapi.testclient import TestClient

from app.config import Settings
from app.db import make_engine
from app.ingest.check import read_dataset
from app.ingest.loader import load_dataset
from app.main import create_app
from tests.conftest import ARTICLE_BUNDLE
from tests.helpers import Records, append_fact, edit_records, facts_file

# Each list, in an order whose keys include a fact's place, with the field that names its items.
WALKED = [
    ("/v1/facts", {}, "id"),
    ("/v1/facts", {"about": "jtf-north"}, "id"),
    ("/v1/facts", {"source": "cnn-2025-01-22"}, "id"),
    ("/v1/facts", {"q": "troops"}, "id"),
    ("/v1/facts", {"q": "troops", "about": "jtf-north"}, "id"),
    ("/v1/timeline", {}, "id"),
    ("/v1/timeline", {"sort": "-date"}, "id"),
    ("/v1/timeline", {"about": "trump-administration"}, "id"),
    ("/v1/search", {"q": "troops", "kind": "facts"}, "url"),
]
PAGE = 2

# Told first of all: the article's dateline, its first words, by an id that sorts first.
TOLD_FIRST = {
    "id": "fact-aaa-told-first",
    "statement": "The article is dated 2025-01-22; troops, the Marines and JTF-North follow.",
    "about": ["jtf-north", "trump-administration"],
    "kind": "event",
    "status": "reported",
    "date": {"date": "2025-01-22", "precision": "day", "derivation": "the dateline"},
    "citations": [
        {"quote": "date 2025-01-22", "start": 1, "end": 16, "attributed_to": None},
    ],
}


class Walk:
    """The seed loaded, and a client of the API that sees each later load at once."""

    def __init__(self, client: TestClient, bundles: Path, database_url: str) -> None:
        self.client = client
        self.bundles = bundles
        self.database_url = database_url

    def load(self) -> None:
        engine = make_engine(self.database_url)
        load_dataset(engine, read_dataset(self.bundles))
        engine.dispose()

    def whole(self, path: str, params: dict[str, str], field: str) -> list[str]:
        body = self.client.get(path, params={**params, "limit": 200}).json()
        assert body["next"] is None
        return [item[field] for item in body["data"]]


@pytest.fixture
def walk(database_url: str, seed_copy: Path) -> Iterator[Walk]:
    settings = Settings(database_url=database_url, version_poll_seconds=0)
    walk = Walk(TestClient(create_app(settings)), seed_copy, database_url)
    walk.load()
    with walk.client:
        yield walk


def _first_page(
    walk: Walk, path: str, params: dict[str, Any], field: str, limit: int = PAGE
) -> tuple[list[str], str]:
    body = walk.client.get(path, params={**params, "limit": limit}).json()
    assert body["next"] is not None
    return [item[field] for item in body["data"]], body["next"]


@pytest.mark.parametrize(("path", "params", "field"), WALKED)
def test_a_walk_goes_on_after_the_last_item_seen_when_a_load_tells_a_fact_first(
    walk: Walk, path: str, params: dict[str, str], field: str
) -> None:
    seen, next_url = _first_page(walk, path, params, field)
    append_fact(walk.bundles / ARTICLE_BUNDLE, TOLD_FIRST)
    walk.load()
    after = walk.client.get(next_url)
    assert after.status_code == 200, after.text
    now = walk.whole(path, params, field)
    follows = now.index(seen[-1]) + 1
    assert [item[field] for item in after.json()["data"]] == now[follows : follows + PAGE]


def _unreferenced_facts(bundle: Path) -> set[str]:
    """The facts that no other record names, so that a load without one of them is valid."""
    facts = yaml.safe_load(facts_file(bundle).read_text(encoding="utf-8"))
    named = "".join(
        path.read_text(encoding="utf-8")
        for path in bundle.glob("*.yaml")
        if path.name != "facts.yaml"
    )
    return {fact["id"] for fact in facts if fact["id"] not in named}


def _without(bundle: Path, fact_id: str) -> None:
    def kept(facts: Records) -> Records:
        rest = [fact for fact in facts if fact["id"] != fact_id]
        assert len(rest) == len(facts) - 1
        return rest

    edit_records(bundle, "facts.yaml", kept)


def test_a_walk_goes_on_after_the_last_item_seen_when_a_load_removes_one_before_it(
    walk: Walk,
) -> None:
    bundle = walk.bundles / ARTICLE_BUNDLE
    listed = walk.whole("/v1/facts", {}, "id")
    removable = _unreferenced_facts(bundle)
    # A page whose last fact stays, with one fact that goes before it.
    first_gone = next(place for place, fact_id in enumerate(listed) if fact_id in removable)
    seen, next_url = _first_page(walk, "/v1/facts", {}, "id", first_gone + 2)
    _without(bundle, listed[first_gone])
    walk.load()
    now = walk.whole("/v1/facts", {}, "id")
    after = walk.client.get(next_url).json()["data"]
    follows = now.index(seen[-1]) + 1
    assert [item["id"] for item in after] == now[follows : follows + first_gone + 2]


@pytest.mark.parametrize(
    ("path", "params", "field"),
    [("/v1/facts", {}, "id"), ("/v1/search", {"q": "troops", "kind": "facts"}, "url")],
)
def test_a_cursor_after_a_fact_that_a_load_removed_says_to_start_again(
    walk: Walk, path: str, params: dict[str, str], field: str
) -> None:
    bundle = walk.bundles / ARTICLE_BUNDLE
    listed = [item.rsplit("/", 1)[-1] for item in walk.whole(path, params, field)]
    removable = _unreferenced_facts(bundle)
    last_seen = next(place for place, fact_id in enumerate(listed) if fact_id in removable)
    _seen, next_url = _first_page(walk, path, params, field, last_seen + 1)
    _without(bundle, listed[last_seen])
    walk.load()
    refused = walk.client.get(next_url)
    assert refused.status_code == 400
    problem = refused.json()
    assert problem["type"].endswith("/invalid-cursor")
    assert "start again" in problem["detail"]
