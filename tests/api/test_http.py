"""HTTP behaviour every endpoint shares: conditional GET, HEAD, and errors as problems."""

import itertools
from http import HTTPStatus
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from app.api.caching import CACHED
from app.api.deps import DataDep
from app.config import Settings
from app.db import make_engine
from app.ingest.check import read_dataset
from app.ingest.loader import load_dataset
from app.main import create_app
from tests.conftest import ARTICLE_BUNDLE
from tests.helpers import add_a_rare_word

PATHS = [
    "/",
    "/v1/forces",
    "/v1/forces/operation-lone-star",
    "/v1/facts?kind=event",
    "/v1/search?q=Lonestar",
    "/v1/timeline?from=2025-01-01",
    "/v1/waves?format=csv",
]
PROBLEM_FIELDS = {"type", "title", "status", "detail", "instance"}


def assert_problem(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    problem: dict[str, Any] = response.json()
    assert set(problem) >= PROBLEM_FIELDS
    assert problem["status"] == status
    assert problem["instance"] == response.request.url.path
    assert "Traceback" not in response.text
    return problem


def test_if_none_match_with_the_etag_gives_304_without_a_body(client: TestClient) -> None:
    for path in PATHS:
        first = client.get(path)
        assert first.status_code == 200, path
        assert first.headers["cache-control"] == "public, max-age=60"
        assert first.headers["x-data-version"]
        etag = first.headers["etag"]
        again = client.get(path, headers={"If-None-Match": etag})
        assert again.status_code == 304, path
        assert again.content == b""
        assert again.headers["etag"] == etag
        changed = client.get(path, headers={"If-None-Match": '"another"'})
        assert changed.status_code == 200
        assert changed.content == first.content


def test_head_answers_like_get_without_the_body(client: TestClient) -> None:
    for path in PATHS:
        got = client.get(path)
        head = client.head(path)
        assert head.status_code == 200, path
        assert head.content == b""
        for header in ("content-type", "etag", "content-length", "x-data-version"):
            assert head.headers.get(header) == got.headers.get(header), (path, header)


def test_unknown_records_and_paths_are_404_problems(client: TestClient) -> None:
    for path in ["/v1/forces/no-such-force", "/v1/facts/x", "/v1/nothing", "/v2/forces"]:
        assert_problem(client.get(path), 404)


def test_a_method_other_than_get_is_a_405_problem(client: TestClient) -> None:
    for path in ["/v1/forces", "/v1/search?q=lone", "/v1/timeline"]:
        response = client.post(path, json={})
        assert_problem(response, 405)
        assert "GET" in response.headers["allow"]


@pytest.mark.parametrize(
    ("method", "path", "body", "status", "kind", "title"),
    [
        ("GET", "/v1/forces?limit=0", b"", 400, "invalid-parameter", "Bad Request"),
        ("GET", "/nowhere", b"", 404, "not-found", "Not Found"),
        ("POST", "/v1/forces", b"", 405, "method-not-allowed", "Method Not Allowed"),
        ("GET", "/v1/forces", b"x" * (1024 * 1024 + 1), 413, "request-entity-too-large",
         "Request Entity Too Large"),
        ("GET", "/v1/facts?q=" + "a" * 9000, b"", 414, "request-uri-too-long",
         "Request-URI Too Long"),
    ],
)  # fmt: skip
def test_a_problem_type_and_title_stay_whatever_python_calls_the_status(
    client: TestClient,
    monkeypatch: pytest.MonkeyPatch,
    method: str,
    path: str,
    body: bytes,
    status: int,
    kind: str,
    title: str,
) -> None:
    """Clients match on a problem's type, so it is Muster's own: Python 3.13 took RFC 9110's
    names for some statuses (413 Content Too Large, 414 URI Too Long), which must not change
    the URIs and titles Muster has answered with."""
    for known in HTTPStatus:
        monkeypatch.setattr(known, "phrase", f"Renamed In A Later Python {known.value}")
    problem = assert_problem(client.request(method, path, content=body), status)
    assert problem["type"] == f"https://muster.invalid/problems/{kind}"
    assert problem["title"] == title


def test_a_bad_value_is_a_400_problem_naming_the_parameter_and_why(client: TestClient) -> None:
    for path, name in [
        ("/v1/forces?limit=0", "limit"),
        ("/v1/forces?limit=201", "limit"),
        ("/v1/forces?limit=ten", "limit"),
        ("/v1/waves?status=lost", "status"),
        ("/v1/facts?from=2025-02-30", "from"),
        ("/v1/forces/jtf-north?format=xml", "format"),
    ]:
        problem = assert_problem(client.get(path), 400)
        assert [param["name"] for param in problem["invalid_params"]] == [name], path
        assert all(param["reason"] for param in problem["invalid_params"])


def test_an_unknown_parameter_is_a_400_problem_listing_the_accepted_ones(client) -> None:
    for path, unknown in [
        ("/v1/forces?compnent=national_guard", ["compnent"]),
        ("/v1/facts?abut=x&knd=event", ["abut", "knd"]),
        ("/v1/timeline?since=2025-01-01", ["since"]),
        ("/v1/sources/us-code?limit=2", ["limit"]),
    ]:
        problem = assert_problem(client.get(path), 400)
        assert [param["name"] for param in problem["invalid_params"]] == unknown, path
        assert all(name in problem["detail"] for name in unknown)
        assert "format" in problem["accepted_params"]
        assert not set(unknown) & set(problem["accepted_params"])


def test_each_operation_accepts_exactly_the_query_parameters_it_documents(client) -> None:
    spec = client.get("/openapi.json").json()
    for path, item in spec["paths"].items():
        documented = [p["name"] for p in item["get"].get("parameters", []) if p["in"] == "query"]
        # format is said in the description, not as a parameter a generated client would offer
        if "format=csv" in item["get"]["description"]:
            documented.append("format")
        documented.sort()
        if not documented:
            continue
        concrete = path.replace("{", "").replace("}", "")  # an id that is looked up never
        problem = assert_problem(client.get(concrete, params={"no_such_parameter": "1"}), 400)
        assert problem["accepted_params"] == documented, path


@pytest.mark.parametrize(
    "query",
    ["limit=4&limit=2", "limit=2&limit=4", "sort=-date&sort=date", "format=json&format=csv"],
)
def test_a_repeated_parameter_is_refused_whatever_the_order(client: TestClient, query: str) -> None:
    """Which of two values a handler would read is a guess, and a cache keyed on the query could
    answer one order with the other's answer: neither is given, in either order, cached or not."""
    path = "/v1/agencies" if "limit" in query else "/v1/facts"
    response = client.get(f"{path}?{query}")
    assert response.status_code == 400
    assert response.headers["content-type"] == "application/problem+json"
    name = query.split("=")[0]
    assert response.json()["invalid_params"] == [{"name": name, "reason": "given more than once"}]


@pytest.mark.parametrize(
    ("path", "name"),
    [
        ("/v1/forces/jtf-north%00", "force_id"),
        ("/v1/facts/%00", "fact_id"),
        ("/v1/sources/cnn-2025-01-22%00", "source_id"),
        ("/v1/facts?about=jtf-north%00", "about"),
        ("/v1/activities?category=%00", "category"),
        ("/v1/forces?kind=unit%00", "kind"),
        ("/v1/timeline?about=%00jtf-north", "about"),
        ("/v1/changes?since=%00", "since"),
        ("/v1/search?q=marines%00", "q"),
    ],
)
def test_a_nul_character_in_a_parameter_is_a_400_problem_naming_it(
    client: TestClient, path: str, name: str
) -> None:
    """No record, id or word holds U+0000, and PostgreSQL's text cannot: the same refusal on
    every backend, never a 503 for the database refusing the value."""
    problem = assert_problem(client.get(path), 400)
    assert problem["invalid_params"] == [{"name": name, "reason": "holds a NUL character"}]
    assert problem["detail"] == f"{name}: holds a NUL character"


def test_a_nul_character_leaves_other_refusals_as_they_are(client: TestClient) -> None:
    """An unknown parameter is refused as unknown, with the accepted ones; a cursor as not
    issued: whatever they hold."""
    unknown = assert_problem(client.get("/v1/forces?compnent=%00"), 400)
    assert unknown["type"].endswith("/unknown-parameter")
    assert "component" in unknown["accepted_params"]
    cursor = assert_problem(client.get("/v1/facts?cursor=%00"), 400)
    assert cursor["type"].endswith("/invalid-cursor")


def test_a_huge_bad_input_is_not_echoed_back(client: TestClient) -> None:
    huge = "x" * 5000
    for path in [f"/v1/forces/{huge}", f"/v1/forces?{huge}=1", f"/v1/waves?status={huge}"]:
        response = client.get(path)
        assert 400 <= response.status_code < 500, path
        assert huge not in response.text


@pytest.mark.parametrize("repeated", [False, True])
def test_a_problem_names_a_few_of_many_bad_parameters_and_counts_the_rest(
    client: TestClient, repeated: bool
) -> None:
    """Hundreds of bad names get a short problem, not one five times the query's size: the
    first ten named, in the detail and in invalid_params, and how many more there were."""
    count = 400 if repeated else 700
    query = "&".join(f"x{i}=1&x{i}=2" if repeated else f"x{i}=1" for i in range(count))
    response = client.get(f"/v1/facts?{query}")
    problem = assert_problem(response, 400)
    assert problem["type"].endswith("/repeated-parameter" if repeated else "/unknown-parameter")
    assert len(response.content) < 2000
    assert len(problem["invalid_params"]) == 10
    assert f" and {count - 10} more" in problem["detail"]
    reason = "given more than once" if repeated else "unknown parameter"
    for param in problem["invalid_params"]:
        assert param["name"] in problem["detail"]
        assert param["reason"] == reason
    if not repeated:
        names = [param["name"] for param in problem["invalid_params"]]
        assert names == [f"x{i}" for i in range(10)]
        assert "format" in problem["accepted_params"]


@pytest.mark.parametrize("cached", [True, False], ids=["cached", "uncached"])
def test_a_load_that_leaves_a_response_as_it_was_leaves_its_etag(
    loaded_url: str, seed_copy: Path, cached: bool
) -> None:
    """An ETag is the body's, not the data version's: after a load that changes one fact, a
    client revalidating the forces gets a 304, and one revalidating that fact gets it anew."""
    changed = add_a_rare_word(seed_copy / ARTICLE_BUNDLE)
    unchanged_path, changed_path = "/v1/forces", f"/v1/facts/{changed}"
    # Polling every time, so that PostgreSQL notices the load at once, as SQLite always does.
    settings = Settings(database_url=loaded_url, response_cache=cached, version_poll_seconds=0)
    with TestClient(create_app(settings)) as client:
        before = {path: client.get(path) for path in (unchanged_path, changed_path)}
        engine = make_engine(loaded_url)
        load_dataset(engine, read_dataset(seed_copy))
        engine.dispose()
        after = {
            path: client.get(path, headers={"If-None-Match": before[path].headers["etag"]})
            for path in before
        }
    assert after[unchanged_path].status_code == 304
    assert (
        after[unchanged_path].headers["x-data-version"]
        != (before[unchanged_path].headers["x-data-version"])
    )
    assert after[changed_path].status_code == 200
    assert "Zyzzogeton" in after[changed_path].json()["statement"]
    assert after[changed_path].headers["etag"] != before[changed_path].headers["etag"]


def test_an_unreadable_database_gives_503_problems(loaded_url: str) -> None:
    # Polling every time, so that PostgreSQL notices at once, as SQLite always does.
    settings = Settings(database_url=loaded_url, version_poll_seconds=0)
    with TestClient(create_app(settings)) as client:
        assert client.get("/v1/forces").status_code == 200
        engine = make_engine(loaded_url)
        with engine.begin() as connection:
            connection.execute(text("DROP TABLE dataset_changes"))
            connection.execute(text("DROP TABLE dataset_loads"))
        engine.dispose()
        for path in ["/v1/forces", "/v1/search?q=lone", "/v1/timeline", "/", "/readyz"]:
            problem = assert_problem(client.get(path), 503)
            assert "the database cannot be read" in problem["detail"], path
            assert "127.0.0.1" not in problem["detail"], path  # where it is goes to the log
        assert client.get("/healthz").status_code == 200


@pytest.mark.parametrize(
    ("first", "second", "answers"),
    [("limit=4&limit=2", "limit=2&limit=4", 400), ("limit=2", "limit=4", None)],
)
def test_two_orders_of_one_query_never_share_an_answer(
    client: TestClient, first: str, second: str, answers: int | None
) -> None:
    """Issue 13's repro: a repeated parameter is refused in either order, and two queries that
    differ are answered each its own, the second asked after the first is cached."""
    responses = [client.get(f"/v1/agencies?{query}") for query in (first, second, first)]
    if answers is not None:
        assert [response.status_code for response in responses] == [answers] * 3
        return
    sizes = [len(response.json()["data"]) for response in responses]
    assert sizes == [2, 4, 2]


@pytest.mark.parametrize(
    ("accept", "media_type"),
    [
        ("application/json, text/csv;q=0", "application/json"),
        ("application/json;q=0.9, text/csv;q=0.1", "application/json"),
        ("text/csv;q=0.9, application/json;q=0.1", "text/csv"),
        ("TEXT/CSV", "text/csv"),
        ("Text/Csv; Q=1", "text/csv"),
        ("text/*", "text/csv"),
        ("*/*", "application/json"),
        ("text/html", "application/json"),
        ("not a media type;;", "application/json"),
    ],
)
def test_accept_is_negotiated_by_q_values_and_case_insensitively(
    client: TestClient, accept: str, media_type: str
) -> None:
    for path in ["/v1/forces", "/v1/forces/jtf-north", "/v1/search?q=Lonestar"]:
        for _ in range(2):  # the second from the cache, when it is on
            response = client.get(path, headers={"Accept": accept})
            assert response.status_code == 200, (path, response.text)
            assert response.headers["content-type"].split(";")[0] == media_type, path


def test_a_list_header_sent_on_several_lines_is_read_whole(client: TestClient) -> None:
    """Repeated lines of a list field are one list, joined by commas (RFC 9110 5.3): a proxy or
    client may split one over several lines, and every line counts, not the first."""
    path = "/v1/forces"
    etag = client.get(path, headers={"Accept-Encoding": "identity"}).headers["etag"]
    for _ in range(2):  # the second from the cache, when it is on
        tags = [("Accept-Encoding", "identity"), ("If-None-Match", '"x"')]
        assert client.get(path, headers=[*tags, ("If-None-Match", etag)]).status_code == 304
        accept = [("Accept", "text/html"), ("Accept", "text/csv")]
        csv = client.get(path, headers=accept)
        assert csv.headers["content-type"].startswith("text/csv"), csv.text
        encodings = [("Accept-Encoding", "identity"), ("Accept-Encoding", "gzip")]
        assert client.get(path, headers=encodings).headers["content-encoding"] == "gzip"


def test_the_gzip_and_the_identity_body_have_tags_of_their_own(client: TestClient) -> None:
    path = "/v1/facts"
    plain = client.get(path, headers={"Accept-Encoding": "identity"})
    zipped = client.get(path, headers={"Accept-Encoding": "gzip"})
    assert zipped.headers["content-encoding"] == "gzip"
    assert "content-encoding" not in plain.headers
    assert plain.content == zipped.content  # httpx decodes the gzip body
    strong = [tag for tag in (plain.headers["etag"], zipped.headers["etag"]) if tag[:2] != "W/"]
    assert len(set(strong)) == len(strong), "one strong tag for two representations"
    # Each revalidates with its own tag.
    for response, encoding in [(plain, "identity"), (zipped, "gzip")]:
        again = client.get(
            path,
            headers={"Accept-Encoding": encoding, "If-None-Match": response.headers["etag"]},
        )
        assert again.status_code == 304, encoding
        assert again.headers["etag"] == response.headers["etag"]


@pytest.mark.parametrize(
    ("accept_encoding", "gzipped"),
    [
        ("gzip", True),
        ("GZIP;Q=0.5", True),
        ("br, *", True),
        ("gzip;q=0", False),
        ("gzip; q=0.000", False),
        ("gzip;q=0, *", False),
        ("*;q=0", False),
        ("*;q=0, gzip;q=0.1", True),
        ("identity", False),
        ("x-gzipped, notgzip", False),
    ],
)
def test_gzip_is_sent_only_when_accepted_with_a_q_above_0(
    client: TestClient, accept_encoding: str, gzipped: bool
) -> None:
    """RFC 9110 12.5.3: gzip named with q=0, or refused by name while `*` allows the rest, is not
    acceptable; a coding is named as a whole item, never as a part of one."""
    for _ in range(2):  # the second from the cache, when it is on
        response = client.get("/v1/facts", headers={"Accept-Encoding": accept_encoding})
        assert response.status_code == 200
        assert ("content-encoding" in response.headers) == gzipped, accept_encoding
        assert response.headers["etag"].endswith('-gzip1"') == gzipped


@pytest.mark.parametrize("path", ["/healthz", "/readyz"])
def test_health_checks_are_never_stored_by_a_cache(client: TestClient, path: str) -> None:
    for _ in range(2):
        response = client.get(path)
        assert response.status_code == 200
        assert response.headers["cache-control"] == "no-store"
        assert "etag" not in response.headers


@pytest.mark.parametrize(
    "path", ["/v1/forces/no-such-force", "/v1/forces?limit=0", "/v1/forces?limt=5", "/nowhere"]
)
def test_a_problem_tells_caches_not_to_store_it(client: TestClient, path: str) -> None:
    """A 4xx problem says what was wrong with this request, which a client fixes and sends
    again: nothing for a shared cache to keep (a 404 is cacheable by default, RFC 9111 4.2.2,
    and would outlive the load that adds the record)."""
    response = client.get(path)
    assert 400 <= response.status_code < 500
    assert response.headers["cache-control"] == "no-store"


def test_a_route_outside_v1_may_read_the_data_and_one_inside_may_stay_uncached(
    seeded_database_url: str,
) -> None:
    """What the edge caches and who gets the data is in each route's declaration, never in its
    path: a route declared here, outside /v1/, reads the data; one under /v1/ that does not opt
    into the cache (it answers a count of its calls) is asked every time."""
    app = create_app(Settings(database_url=seeded_database_url))
    api = app.api
    calls = itertools.count(1)

    @api.get("/outside")
    async def outside(data: DataDep) -> dict[str, str | None]:
        return {"version": await data.read(lambda reading: reading.state.version)}

    @api.get("/v1/uncached")
    async def uncached() -> dict[str, int]:
        return {"call": next(calls)}

    @api.get("/v1/cached", dependencies=[CACHED])
    async def cached(data: DataDep) -> dict[str, int]:
        await data.read(lambda reading: reading.state.version)
        return {"call": next(calls)}

    with TestClient(app) as client:
        outside_answer = client.get("/outside")
        assert outside_answer.status_code == 200, outside_answer.text
        assert outside_answer.json()["version"] == client.get("/readyz").json()["data_version"]
        assert [client.get("/v1/uncached").json()["call"] for _ in range(2)] == [1, 2]
        assert [client.get("/v1/cached").json()["call"] for _ in range(2)] == [3, 3]
