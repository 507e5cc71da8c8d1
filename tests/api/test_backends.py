"""The same data answers the same on SQLite and on PostgreSQL: the status, the body and the ETag
of every list in every order, page after page, and a cursor one backend issued is good on the
other, as it is for a team that moves its data from one to the other."""

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from app.config import Settings
from app.main import create_app
from tests.api import seed
from tests.conftest import _empty_postgres_database, _separate_postgres_database, seeded

PAGES = 4  # of 2 items each: enough to cross from one page's cursor to the next
CURSOR_KEY = "the same key on both backends"


@pytest.fixture(scope="module")
def backends(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[TestClient, TestClient]]:
    """The seed data served from SQLite and from PostgreSQL, with one cursor key."""
    postgres = _separate_postgres_database(_empty_postgres_database(), "muster_test_backends")
    sqlite = f"sqlite:///{Path(tmp_path_factory.mktemp('backends')) / 'muster.db'}"
    apps = [
        create_app(Settings(database_url=seeded(url), cursor_key=CURSOR_KEY))
        for url in (sqlite, postgres)
    ]
    with TestClient(apps[0]) as on_sqlite, TestClient(apps[1]) as on_postgresql:
        yield on_sqlite, on_postgresql


def _lists(spec: dict[str, Any]) -> Iterator[str]:
    """Every list of the OpenAPI document in each of its orders, and the facts and the search
    that words find."""
    for path, item in spec["paths"].items():
        parameters = {p["name"]: p for p in item["get"].get("parameters", [])}
        if "{" in path or "cursor" not in parameters or "since" in parameters:
            continue  # a detail, or a list with no page, or changes (which needs a version)
        sorts = parameters.get("sort", {}).get("schema", {}).get("enum", [None])
        words = ["troops", "marines border"] if "q" in parameters else [None]
        for sort in sorts:
            for q in words:
                query = {"limit": "2", "sort": sort, "q": q}
                yield path + "?" + "&".join(f"{k}={v}" for k, v in query.items() if v)


def _same(first: Any, second: Any, url: str) -> None:
    assert second.status_code == first.status_code, url
    assert second.headers.get("etag") == first.headers.get("etag"), url
    assert second.content == first.content, url


def test_every_list_answers_the_same_on_both_backends_page_after_page(
    backends: tuple[TestClient, TestClient],
) -> None:
    on_sqlite, on_postgresql = backends
    lists = list(_lists(on_sqlite.get("/openapi.json").json()))
    assert any("/v1/facts?" in url and "q=" in url for url in lists)
    assert len(lists) >= 20
    walked = 0
    for url in lists:
        for _ in range(PAGES):
            first, second = on_sqlite.get(url), on_postgresql.get(url)
            _same(first, second, url)
            assert first.status_code == 200, url
            walked += 1
            # each backend's cursor is good on the other, as the same bodies say it is the same
            url = first.json()["next"]
            if url is None:
                break
    assert walked > len(lists)


@pytest.mark.parametrize("kind", seed.ENTITY_KINDS)
def test_every_detail_answers_the_same_on_both_backends(
    backends: tuple[TestClient, TestClient], kind: str
) -> None:
    on_sqlite, on_postgresql = backends
    for record_id in seed.ids(kind):
        url = f"/v1/{kind}/{record_id}"
        _same(on_sqlite.get(url), on_postgresql.get(url), url)
