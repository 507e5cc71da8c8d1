"""/v1/changes: what changed since a data version, replayed over several loads."""

import csv
import io
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from app.config import Settings
from app.db import make_engine
from app.ingest.check import read_dataset
from app.ingest.loader import load_dataset
from app.main import create_app
from app.services.changes import SpanSize
from tests.api import seed
from tests.conftest import ARTICLE_BUNDLE, SEED_DATA
from tests.helpers import edit_records

KINDS = ("sources", "forces", "agencies", "waves", "authorities", "activities", "facts")
EDITED = "fact-jtf-north-based-in-el-paso"
REMOVED_THEN_BACK = "fact-ice-back-to-interior"
ADDED_THEN_REMOVED = "fact-added-then-removed"
ADDED = "fact-added-to-stay"
AGENCY = "cbp"


def _with_new_fact(records: list[dict[str, Any]], fact_id: str) -> list[dict[str, Any]]:
    model = next(r for r in records if r["id"] == EDITED)
    return [*records, {**model, "id": fact_id, "statement": f"A new fact, {fact_id}."}]


def _restated(records: list[dict[str, Any]], statement: str) -> list[dict[str, Any]]:
    return [r | {"statement": statement} if r["id"] == EDITED else r for r in records]


def _without(records: list[dict[str, Any]], record_id: str) -> list[dict[str, Any]]:
    return [r for r in records if r["id"] != record_id]


@dataclass
class History:
    client: TestClient
    versions: list[str]
    ids_by_version: list[dict[str, set[str]]]
    article: Path
    load: Callable[[], None]


def current_ids(client: TestClient) -> dict[str, set[str]]:
    return {
        kind: {record["id"] for record in client.get(f"/v1/{kind}?limit=200").json()["data"]}
        for kind in KINDS
    }


@pytest.fixture
def history(database_url: str, seed_copy: Path) -> Iterator[History]:
    """Three loads, A (the seed), B and C, with the API (and its response cache) serving
    throughout, so that a client's view at each version is recorded just as it saw it."""
    article = seed_copy / ARTICLE_BUNDLE
    engine = make_engine(database_url)
    # On PostgreSQL the server polls for new loads; asking on every request, it sees each at once.
    settings = Settings(database_url=database_url, response_cache=True, version_poll_seconds=0)
    versions: list[str] = []
    seen: list[dict[str, set[str]]] = []

    def load() -> None:
        versions.append(load_dataset(engine, read_dataset(seed_copy)).version)

    load()  # A
    with TestClient(create_app(settings)) as client:
        seen.append(current_ids(client))
        # B: one fact edited, one removed, two added.
        edit_records(article, "facts.yaml", lambda r: _restated(r, "JTF-North is in El Paso."))
        edit_records(article, "facts.yaml", lambda r: _without(r, REMOVED_THEN_BACK))
        edit_records(article, "facts.yaml", lambda r: _with_new_fact(r, ADDED_THEN_REMOVED))
        edit_records(article, "facts.yaml", lambda r: _with_new_fact(r, ADDED))
        load()
        seen.append(current_ids(client))
        # C: the edited fact edited again, one added fact removed, the removed one back as it
        # was, an agency changed.
        edit_records(
            article, "facts.yaml", lambda r: _restated(r, "JTF-North is based in El Paso.")
        )
        edit_records(article, "facts.yaml", lambda r: _without(r, ADDED_THEN_REMOVED))
        edit_records(article, "facts.yaml", lambda r: [*r, _seed_fact(REMOVED_THEN_BACK)])
        edit_records(
            article,
            "agencies.yaml",
            lambda r: [a | {"description": "Changed."} if a["id"] == AGENCY else a for a in r],
        )
        load()
        seen.append(current_ids(client))
        yield History(client, versions, seen, article, load)
    engine.dispose()


def _counting(fact_id: str) -> set[tuple[str, str, str]]:
    """The records a fact is about, as changed: each counts its facts, so a fact added beside
    it or removed changes them."""
    kind_of = {record_id: kind for kind in seed.ENTITY_KINDS for record_id in seed.ids(kind)}
    return {(kind_of[about], about, "changed") for about in seed.by_id("facts")[fact_id]["about"]}


ARTICLE_COUNTS = ("sources", ARTICLE_BUNDLE, "changed")  # the article counts the facts it has


def _seed_fact(fact_id: str) -> dict[str, Any]:
    fact = dict(seed.by_id("facts")[fact_id])
    fact.pop("source")
    return fact


def changes(client: TestClient, since: str) -> dict[str, Any]:
    response = client.get("/v1/changes", params={"since": since})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def triples(body: dict[str, Any]) -> set[tuple[str, str, str]]:
    return {(item["kind"], item["id"], item["change"]) for item in body["data"]}


def test_changes_since_the_first_load_collapse_both_later_loads(history: History) -> None:
    a, _, c = history.versions
    body = changes(history.client, since=a)
    assert body["since"] == a
    assert body["version"] == c
    assert body["total"] == len(body["data"])
    assert triples(body) == {
        ("facts", EDITED, "changed"),  # changed twice: changed once
        ("facts", ADDED, "added"),
        # Removed, then back as it was: reported changed, since past contents are not kept.
        ("facts", REMOVED_THEN_BACK, "changed"),
        ("agencies", AGENCY, "changed"),
        # ADDED_THEN_REMOVED: added, then removed, is no change at all.
        # ADDED, like EDITED, is about what EDITED is about; REMOVED_THEN_BACK's records counted
        # one fact fewer, then one more: changed, as it was.
        *_counting(EDITED),
        *_counting(REMOVED_THEN_BACK),
        ARTICLE_COUNTS,
    }
    keys = [(KINDS.index(item["kind"]), item["id"]) for item in body["data"]]
    assert keys == sorted(keys)  # by kind, then id
    response = history.client.get("/v1/changes", params={"since": a, "format": "csv"})
    assert response.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert [(row["kind"], row["id"], row["change"]) for row in rows] == [
        (item["kind"], item["id"], item["change"]) for item in body["data"]
    ]


def test_changes_since_a_later_load_are_only_the_loads_after_it(history: History) -> None:
    _, b, c = history.versions
    assert triples(changes(history.client, since=b)) == {
        ("facts", EDITED, "changed"),
        ("facts", ADDED_THEN_REMOVED, "removed"),
        ("facts", REMOVED_THEN_BACK, "added"),
        ("agencies", AGENCY, "changed"),
        # One fact fewer about what EDITED is about, one more about REMOVED_THEN_BACK's; the
        # article has as many as before.
        *_counting(EDITED),
        *_counting(REMOVED_THEN_BACK),
    }
    current = changes(history.client, since=c)
    assert current["data"] == []
    assert current["total"] == 0


def test_a_client_replaying_the_changes_holds_the_current_records(history: History) -> None:
    for version, ids in zip(history.versions, history.ids_by_version, strict=True):
        replayed = {kind: set(found) for kind, found in ids.items()}
        for item in changes(history.client, since=version)["data"]:
            if item["change"] == "removed":
                replayed[item["kind"]].remove(item["id"])
                assert item["url"] is None
            else:
                replayed[item["kind"]].add(item["id"])
                assert history.client.get(item["url"]).is_success
        assert replayed == history.ids_by_version[-1]


def test_a_mirror_kept_by_the_changes_holds_what_the_api_serves(
    database_url: str, seed_copy: Path
) -> None:
    """A client that mirrors every record's list item and page, and fetches again only what
    the changes name, holds what the API serves after each load: counts and relations that
    change with other records (a force's facts, a source's) are changes of their records too.
    Only the facts a page embeds are left out: they are listed as the facts they are."""
    article = seed_copy / ARTICLE_BUNDLE
    engine = make_engine(database_url)
    settings = Settings(database_url=database_url, version_poll_seconds=0)

    def served(client: TestClient, url: str) -> dict[str, Any]:
        page: dict[str, Any] = client.get(url).json()
        page.pop("facts", None)  # the first facts about the record, each a change of its own
        return page

    def listed(client: TestClient) -> dict[str, dict[str, Any]]:
        """Every record's list item, by its URL."""
        items: dict[str, dict[str, Any]] = {}
        for kind in KINDS:
            page = client.get(f"/v1/{kind}?limit=200").json()
            assert page["next"] is None, kind  # each list on one page
            items |= {item["url"]: item for item in page["data"]}
        return items

    def everything(client: TestClient) -> dict[str, dict[str, Any]]:
        return {
            url: {"item": item, "page": served(client, url)} for url, item in listed(client).items()
        }

    version = load_dataset(engine, read_dataset(seed_copy)).version
    with TestClient(create_app(settings)) as client:
        mirror = everything(client)
        for edit in (
            lambda r: _without(r, REMOVED_THEN_BACK),  # its force and source count one fewer
            lambda r: _with_new_fact(r, ADDED),  # one more, about what EDITED is about
        ):
            edit_records(article, "facts.yaml", edit)
            version_before, version = version, load_dataset(engine, read_dataset(seed_copy)).version
            items = listed(client)
            for change in changes(client, since=version_before)["data"]:
                if change["change"] == "removed":
                    del mirror[f"/v1/{change['kind']}/{change['id']}"]
                else:
                    url = change["url"]
                    mirror[url] = {"item": items[url], "page": served(client, url)}
            assert mirror == everything(client)
    engine.dispose()


def test_an_unknown_or_missing_version_is_a_problem(client: TestClient) -> None:
    response = client.get("/v1/changes", params={"since": "0123456789abcdef"})
    assert response.status_code == 410
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["type"].endswith("/version-unknown")
    assert "resync from scratch" in problem["detail"]
    response = client.get("/v1/changes")
    assert response.status_code == 400
    assert response.json()["invalid_params"][0]["name"] == "since"


def walk(client: TestClient, since: str, limit: int) -> list[dict[str, Any]]:
    """Every page of the changes since a version, following each page's next link."""
    pages = []
    url: str | None = f"/v1/changes?since={since}&limit={limit}"
    while url is not None:
        response = client.get(url)
        assert response.status_code == 200, response.text
        page: dict[str, Any] = response.json()
        assert response.headers["X-Total-Count"] == str(page["total"])
        if page["next"] is not None:
            assert page["next"].startswith("http")  # absolute, like every list's
            assert response.headers["Link"] == f'<{page["next"]}>; rel="next"'
        pages.append(page)
        url = page["next"]
    return pages


def test_changes_are_paged_like_every_list(history: History) -> None:
    a, _, c = history.versions
    whole = changes(history.client, since=a)
    assert whole["next"] is None
    pages = walk(history.client, since=a, limit=1)
    assert len(pages) == whole["total"] > 1
    assert [item for page in pages for item in page["data"]] == whole["data"]
    assert {page["total"] for page in pages} == {whole["total"]}
    assert {page["version"] for page in pages} == {c}


def test_a_walk_begun_before_a_load_ends_on_the_version_it_began_with(history: History) -> None:
    a, _, c = history.versions
    whole = changes(history.client, since=a)
    first = history.client.get("/v1/changes", params={"since": a, "limit": 2}).json()
    # D: another agency changed, while the client is between pages.
    edit_records(
        history.article,
        "agencies.yaml",
        lambda r: [*r[:1], r[1] | {"description": "Changed in D."}, *r[2:]],
    )
    history.load()
    assert first["next"] is not None
    rest = []
    url = first["next"]
    while url is not None:
        response = history.client.get(url)
        # The header a client syncs by names the version the walk leads to, not the newest.
        assert response.headers["X-Data-Version"] == c
        page = response.json()
        rest.append(page)
        url = page["next"]
    assert [item for page in [first, *rest] for item in page["data"]] == whole["data"]
    assert {page["version"] for page in [first, *rest]} == {c}
    # The next walk, since the version the first one led to, has what D changed.
    latest = changes(history.client, since=c)
    assert latest["version"] != c
    assert [item["kind"] for item in latest["data"]] == ["agencies"]


def test_a_walk_goes_on_when_the_version_it_began_from_is_loaded_again(
    history: History,
) -> None:
    """A rollback to the version a walk began from (loading A's data again) is a later load of
    it: the walk begun before still leads from A's earlier load to C, not to a 410."""
    a, _, c = history.versions
    whole = changes(history.client, since=a)
    first = history.client.get("/v1/changes", params={"since": a, "limit": 2}).json()
    shutil.rmtree(history.article.parent)
    shutil.copytree(SEED_DATA, history.article.parent)
    history.load()
    assert history.versions[-1] == a
    rest = []
    url = first["next"]
    while url is not None:
        response = history.client.get(url)
        assert response.status_code == 200, response.text
        rest.append(response.json())
        url = rest[-1]["next"]
    assert [item for page in [first, *rest] for item in page["data"]] == whole["data"]
    assert {page["version"] for page in [first, *rest]} == {c}


def test_a_cursor_of_changes_since_one_version_is_refused_since_another(history: History) -> None:
    a, b, _ = history.versions
    cursor = history.client.get("/v1/changes", params={"since": a, "limit": 1}).json()["next"]
    refused = history.client.get(cursor.replace(f"since={a}", f"since={b}"))
    assert refused.status_code == 400
    assert refused.json()["invalid_params"][0]["name"] == "cursor"


def test_the_documented_since_is_no_version_that_goes_stale(client: TestClient) -> None:
    """A fixed example version stops being on record once the data changes: a client (or
    schemathesis) trying the documented example would get the 410."""
    parameters = client.get("/openapi.json").json()["paths"]["/v1/changes"]["get"]["parameters"]
    since = next(p for p in parameters if p["name"] == "since")
    for documented in (since, since["schema"]):
        assert "example" not in documented
        assert "examples" not in documented


@pytest.mark.parametrize("by_load", [True, False], ids=["by-load", "by-record"])
def test_a_walk_is_the_same_whichever_way_its_pages_are_read(
    history: History, monkeypatch: pytest.MonkeyPatch, by_load: bool
) -> None:
    """A page is read from the span's own rows or by walking the history by record, by their
    sizes: either way gives the same changes in the same order."""
    a, b, _ = history.versions
    whole = {since: changes(history.client, since)["data"] for since in (a, b)}
    monkeypatch.setattr(SpanSize, "read_by_load", lambda _size, _limit: by_load)
    for since in (a, b):
        for limit in (1, 3):
            pages = walk(history.client, since=since, limit=limit)
            assert [item for page in pages for item in page["data"]] == whole[since]
