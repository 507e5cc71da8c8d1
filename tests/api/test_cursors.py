"""Pagination cursors: only those this deployment issued for this query are taken."""

import base64
import hashlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from fastapi.testclient import TestClient
from pydantic import BaseModel

from app.api.pagination import encode_cursor, query_fingerprint
from app.api.routes.facts import FACT_ORDERS, FactQuery
from app.api.routes.search import BY_RANK, SearchQuery
from app.config import Settings
from app.main import create_app
from app.models.common import NAME_MAX_CHARACTERS
from app.services.records import Order
from app.services.search import PLACE_NUMBERING, Matcher
from tests.conftest import ARTICLE_BUNDLE
from tests.helpers import Records, edit_records, fill

LIST = "/v1/facts"


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _issued(client: TestClient, path: str = LIST, **params: str) -> str:
    """The cursor of the first page's next link, one item a page."""
    next_url: str = client.get(path, params={"limit": 1, **params}).json()["next"]
    return next_url.split("cursor=")[1].split("&")[0]


def _contents(cursor: str) -> dict[str, Any]:
    """What a client can read in a cursor: its sort key and its query's fingerprint."""
    raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
    contents: dict[str, Any] = orjson.loads(raw[raw.index(b'{"k":') :])
    return contents


def _other_value(value: Any) -> Any:
    return value + 1 if isinstance(value, int) else f"{value}-invented"


def _page(client: TestClient, cursor: str) -> Any:
    return client.get(LIST, params={"limit": 1, "cursor": cursor})


def _assert_refused(response: Any, label: str) -> None:
    assert response.status_code == 400, (label, response.text)
    assert response.json()["type"].endswith("/invalid-cursor"), label


def test_a_cursor_of_the_real_fingerprint_and_an_invented_key_is_refused(
    client: TestClient,
) -> None:
    """Issue 13, finding 9: everything in a cursor is readable, so a client could once make one
    with keys of its own choosing beside the fingerprint copied from any next link."""
    contents = _contents(_issued(client))
    invented = {**contents, "k": [_other_value(value) for value in contents["k"]]}
    for label, forged in [
        ("as the API once wrote them", _b64(orjson.dumps(invented))),
        ("its real key, unsigned", _b64(orjson.dumps(contents))),
        (
            "an invented key, signed by another key",
            encode_cursor(tuple(invented["k"]), contents["q"], b"another deployment's key"),
        ),
    ]:
        _assert_refused(_page(client, forged), label)


def test_a_signed_cursor_is_still_checked_against_the_list(client: TestClient) -> None:
    """Should the key leak, a cursor with keys of the wrong type, count or shape is refused."""
    secret: bytes = client.app.api.state.cursor_key  # type: ignore[attr-defined]
    contents = _contents(_issued(client))
    key, fingerprint = contents["k"], contents["q"]
    wrong_types = tuple(str(value) if isinstance(value, int) else 7 for value in key)
    for label, cursor in [
        ("wrong-typed keys", encode_cursor(wrong_types, fingerprint, secret)),
        ("an extra key", encode_cursor((*key, "extra"), fingerprint, secret)),
        ("a key short", encode_cursor(tuple(key[:-1]), fingerprint, secret)),
        ("another query's", encode_cursor(tuple(key), "0" * 12, secret)),
    ]:
        _assert_refused(_page(client, cursor), label)
    assert _page(client, encode_cursor(tuple(key), fingerprint, secret)).status_code == 200


def test_a_cursor_of_the_same_filters_in_other_columns_is_refused(client: TestClient) -> None:
    """A cursor is a place in its list's order, whose columns may change from one release to the
    next with the same filters (before a2409a1, the facts holding some words were in told_at
    order, and they are now in the search index's): a signed cursor of an earlier order is
    refused, never read as a place in this one."""
    secret: bytes = client.app.api.state.cursor_key  # type: ignore[attr-defined]
    query = {"q": "troops", "limit": 1}
    filters = FactQuery(q="troops").model_dump(exclude={"cursor", "limit", "format"}, mode="json")
    told_at_order = Order(("facts.told_at",), (int,))
    earlier = encode_cursor((3,), query_fingerprint(filters, told_at_order), secret)
    _assert_refused(client.get(LIST, params={**query, "cursor": earlier}), "an earlier order's")
    issued = client.get(LIST, params=query).json()["next"]
    assert client.get(issued).status_code == 200


FACTS_PLACE = "the place of a fact in the search index, by backend"


@pytest.mark.parametrize(
    ("path", "query_model", "columns", "now"),
    [
        (
            "/v1/facts",
            FactQuery,
            (FACTS_PLACE,),
            # Named as both backends now name it, and held as the fact's id.
            Order(
                ("search_index.place",),
                (str,),
                numbering=PLACE_NUMBERING,
                named=("search_index.place",),
                held_as=("facts.id",),
            ),
        ),
        ("/v1/search", SearchQuery, ("rank", "place"), BY_RANK),
    ],
)
def test_a_cursor_of_places_counted_before_0018_is_refused(
    client: TestClient,
    seeded_database_url: str,
    path: str,
    query_model: type[BaseModel],
    columns: tuple[str, ...],
    now: Order,
) -> None:
    """Migration 0018 counted the search index's places again, in the same columns: a signed
    cursor holding a place of the earlier count, whose fingerprint said no count, is refused,
    never read as another record's place."""
    secret: bytes = client.app.api.state.cursor_key  # type: ignore[attr-defined]
    query = {"q": "troops", "limit": 1}
    filters = query_model(q="troops").model_dump(exclude={"cursor", "limit", "format"}, mode="json")
    place = Matcher(["troops"], seeded_database_url.startswith("postgresql")).place
    named = tuple(place if column == FACTS_PLACE else column for column in columns)
    counted_before = Order(named, (int,) * len(columns))
    key = (3,) * len(columns)
    earlier = encode_cursor(key, query_fingerprint(filters, counted_before), secret)
    _assert_refused(client.get(path, params={**query, "cursor": earlier}), "a count before 0018's")
    issued = _issued(client, path, q="troops")
    assert client.get(path, params={**query, "cursor": issued}).status_code == 200
    assert _contents(issued)["q"] == query_fingerprint(filters, now)


def test_a_cursor_of_an_order_whose_count_never_changed_keeps_its_fingerprint(
    client: TestClient,
) -> None:
    """An order that says no numbering has the fingerprint it had before orders could say one,
    so that its cursors issued then are still taken: the hash of the filters and the columns."""
    filters = FactQuery(sort="date").model_dump(exclude={"cursor", "limit", "format"}, mode="json")
    owner = {"params": filters, "order": FACT_ORDERS["date"].columns}
    before = hashlib.blake2b(orjson.dumps(owner, option=orjson.OPT_SORT_KEYS), digest_size=6)
    assert _contents(_issued(client, sort="date"))["q"] == before.hexdigest()


@pytest.fixture
def two_workers(seeded_database_url: str) -> Iterator[tuple[TestClient, TestClient, TestClient]]:
    """Two apps given one cursor key, as the workers of one deployment are, and one with another."""
    shared = Settings(database_url=seeded_database_url, cursor_key="one deployment")
    other = Settings(database_url=seeded_database_url, cursor_key="another deployment")
    with (
        TestClient(create_app(shared)) as first,
        TestClient(create_app(shared)) as second,
        TestClient(create_app(other)) as elsewhere,
    ):
        yield first, second, elsewhere


def test_a_cursor_from_one_worker_is_taken_by_another_of_its_deployment(
    two_workers: tuple[TestClient, TestClient, TestClient],
) -> None:
    first, second, elsewhere = two_workers
    cursor = _issued(first)
    assert _page(second, cursor).json() == _page(first, cursor).json()
    _assert_refused(_page(elsewhere, cursor), "another deployment's cursor")


def test_a_walk_by_name_follows_every_next_link_whatever_the_names_hold(
    database_url: str, seed_copy: Path
) -> None:
    """A cursor of a list sorted by name holds a name: the longest, of the characters that take
    the most bytes in it, still makes a cursor the API takes."""

    def named_long(forces: Records) -> Records:
        for force, character in zip(forces, ["ΐ", "\x01", "ﬃ"], strict=False):
            force["name"] = character * NAME_MAX_CHARACTERS
        return forces

    forces = edit_records(seed_copy / ARTICLE_BUNDLE, "forces.yaml", named_long)
    fill(database_url, seed_copy)
    with TestClient(create_app(Settings(database_url=database_url))) as client:
        for sort in ["name", "-name"]:
            walked, url = [], f"/v1/forces?sort={sort}&limit=1"
            while url:
                page = client.get(url)
                assert page.status_code == 200, page.text
                walked += [force["id"] for force in page.json()["data"]]
                url = page.json()["next"]
            assert sorted(walked) == sorted(force["id"] for force in forces)
