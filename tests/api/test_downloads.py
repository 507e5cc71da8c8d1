"""A whole collection in one answer, for notebooks: ``limit=all`` with CSV or JSON Lines,
streamed a part at a time; and every list's total in ``X-Total-Count``."""

import csv
import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
import yaml
from fastapi.testclient import TestClient

from app.api import formats, listing
from app.config import Settings
from app.db import make_engine
from app.ingest.check import read_dataset
from app.ingest.loader import load_dataset
from app.main import create_app
from tests.conftest import ARTICLE_BUNDLE
from tests.helpers import replace_with_one_load_of

LISTS = [
    "/v1/sources",
    "/v1/forces",
    "/v1/agencies",
    "/v1/waves",
    "/v1/authorities",
    "/v1/activities",
    "/v1/facts",
    "/v1/facts?about=jtf-north&sort=-date",
    "/v1/facts?q=the&sort=date",  # read by a walk of the order's index (records.Walk)
    "/v1/timeline",
    "/v1/search?q=troops",
]


@pytest.fixture(autouse=True)
def small_parts(monkeypatch: pytest.MonkeyPatch) -> None:
    """Parts of 3 items, so that the seed's lists stream in several."""
    monkeypatch.setattr(listing, "DOWNLOAD_CHUNK", 3)


def paged(client: TestClient, path: str) -> tuple[list[dict[str, Any]], int]:
    """Every item of a list, page after page (limit 5), and its total."""
    items: list[dict[str, Any]] = []
    url: str | None = path + ("&" if "?" in path else "?") + "limit=5"
    total = -1
    while url is not None:
        response = client.get(url)
        assert response.status_code == 200, response.text
        page = response.json()
        assert response.headers["X-Total-Count"] == str(page["total"])
        items += page["data"]
        total, url = page["total"], page["next"]
    return items, total


def download(client: TestClient, path: str, format: str) -> Any:
    response = client.get(path + ("&" if "?" in path else "?") + f"limit=all&format={format}")
    assert response.status_code == 200, response.text
    return response


@pytest.mark.parametrize("path", LISTS)
def test_a_whole_list_downloads_as_json_lines_in_one_answer(client: TestClient, path: str) -> None:
    items, total = paged(client, path)
    assert total > 0
    response = download(client, path, "jsonl")
    assert response.headers["content-type"] == "application/jsonl"
    assert response.headers["X-Total-Count"] == str(total)
    assert "link" not in response.headers
    assert [orjson.loads(line) for line in response.text.splitlines()] == items


@pytest.mark.parametrize("path", LISTS)
def test_a_whole_list_downloads_as_csv_in_one_answer(client: TestClient, path: str) -> None:
    items, total = paged(client, path)
    response = download(client, path, "csv")
    assert response.headers["content-type"].startswith("text/csv")
    assert response.headers["X-Total-Count"] == str(total)
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert [row["id"] for row in rows] == [item["id"] for item in items]
    # One header line, however many parts, and the same columns as a page's CSV.
    page = client.get(path + ("&" if "?" in path else "?") + "format=csv")
    assert response.text.splitlines()[0] == page.text.splitlines()[0]
    assert response.text.count(page.text.splitlines()[0]) == 1


@pytest.mark.parametrize("path", LISTS)
def test_a_download_from_a_cursor_holds_the_rest_and_says_the_list_s_total(
    client: TestClient, path: str
) -> None:
    """Resumed from a page's cursor, a download holds the rows after that page; its
    X-Total-Count is the list's total, as every page's is, so whole it is that total less the
    rows before its cursor."""
    items, total = paged(client, path)
    first = client.get(path + ("&" if "?" in path else "?") + "limit=1").json()
    assert first["next"] is not None, path
    response = client.get(first["next"].replace("limit=1", "limit=all") + "&format=jsonl")
    assert response.status_code == 200, response.text
    assert response.headers["X-Total-Count"] == str(total)
    rest = [orjson.loads(line) for line in response.text.splitlines()]
    assert rest == items[1:]
    assert len(rest) == total - 1


def test_a_download_asked_by_accept_is_the_same(client: TestClient) -> None:
    asked = client.get("/v1/facts?limit=all", headers={"Accept": "application/jsonl"})
    assert asked.status_code == 200
    assert asked.text == download(client, "/v1/facts", "jsonl").text
    by_csv = client.get("/v1/facts?limit=all", headers={"Accept": "text/csv"})
    assert by_csv.text == download(client, "/v1/facts", "csv").text


def test_the_whole_list_as_one_json_document_is_refused(client: TestClient) -> None:
    response = client.get("/v1/facts", params={"limit": "all"})
    assert response.status_code == 400
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["invalid_params"][0]["name"] == "limit"
    assert "format=jsonl" in response.json()["detail"]


def test_a_download_is_streamed_not_kept(client: TestClient) -> None:
    """A streamed answer has no ETag (it would need the whole body) and is never kept by the
    response cache, so it is the same answer every time; the second is not a cached copy."""
    first = download(client, "/v1/facts", "csv")
    assert "etag" not in first.headers
    assert "content-length" not in first.headers
    assert download(client, "/v1/facts", "csv").text == first.text
    head = client.head("/v1/facts?limit=all&format=csv")
    assert head.status_code == 200
    assert head.content == b""
    assert head.headers["X-Total-Count"] == first.headers["X-Total-Count"]


def test_every_page_of_every_list_says_its_total_in_a_header(client: TestClient) -> None:
    for path in LISTS:
        response = client.get(path)
        assert response.headers["X-Total-Count"] == str(response.json()["total"]), path
        as_csv = client.get(path, headers={"Accept": "text/csv"})
        assert as_csv.headers["X-Total-Count"] == str(response.json()["total"]), path


def test_the_document_keeps_limit_an_integer(client: TestClient) -> None:
    """Generated clients type ``limit`` from the document: all is for CSV and JSON Lines, which
    the document describes in words."""
    spec = client.get("/openapi.json").json()
    lists = {path: methods for path, methods in spec["paths"].items() if path != "/v1/posture"}
    for path, methods in lists.items():
        for parameter in methods["get"].get("parameters", []):
            if parameter["name"] == "limit":
                assert parameter["schema"]["type"] == "integer", path
                assert "all" in parameter["description"], path


@pytest.fixture(params=["loaded", "replaced"])
def loading(
    request: pytest.FixtureRequest, database_url: str, seed_copy: Path, tmp_path: Path
) -> Iterator[tuple[TestClient, Any]]:
    """A client, and what changes its data: a second load, or a database of other data put in
    its place under the same load number."""
    engine = make_engine(database_url)
    load_dataset(engine, read_dataset(seed_copy))
    settings = Settings(database_url=database_url, version_poll_seconds=0)

    def load_changed() -> None:
        path = seed_copy / ARTICLE_BUNDLE / "agencies.yaml"
        agencies = yaml.safe_load(path.read_text(encoding="utf-8"))
        agencies[0]["description"] = "Changed while a download streamed."
        path.write_text(yaml.safe_dump(agencies, sort_keys=False), encoding="utf-8")
        if request.param == "loaded":
            load_dataset(engine, read_dataset(seed_copy))
        else:
            replace_with_one_load_of(database_url, seed_copy, tmp_path)

    with TestClient(create_app(settings)) as client:
        yield client, load_changed
    engine.dispose()


def test_a_download_stops_short_rather_than_mix_two_versions(
    loading: tuple[TestClient, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    client, load_changed = loading
    written = formats.to_jsonl
    calls = 0

    def write_then_load(documents: Any) -> bytes:
        nonlocal calls
        calls += 1
        if calls == 1:
            # After the first part is read, before the second is: between two read
            # transactions, as a PostgreSQL database is only replaced while none reads it.
            load_changed()
        return written(documents)

    monkeypatch.setattr(listing, "to_jsonl", write_then_load)
    response = client.get("/v1/facts?limit=all&format=jsonl")
    lines = response.text.splitlines()
    assert len(lines) == 3  # the first part, then nothing of the next version
    assert int(response.headers["X-Total-Count"]) > len(lines)
