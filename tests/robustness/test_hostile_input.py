"""Hostile input, parameter by parameter: every answer is a well-formed 2xx or 4xx, never a 500.

The parameters are read from the OpenAPI document, so a new endpoint or parameter is covered
without changing this file.
"""

import base64
import json
from typing import Any
from urllib.parse import quote

import orjson
import pytest
from fastapi.testclient import TestClient
from httpx import Response

from app.api.pagination import SIGNATURE_BYTES, sign
from app.config import Settings
from app.db import make_engine
from app.ingest.check import read_dataset
from app.ingest.loader import load_dataset
from app.main import create_api, create_app
from tests.conftest import SEED_DATA
from tests.robustness.conftest import call

OPENAPI: dict[str, Any] = create_api().openapi()
OPERATIONS = [
    (path, operation) for path, item in OPENAPI["paths"].items() for operation in [item["get"]]
]

TEXT = {
    "double quote": '"',
    "FTS AND": "marine AND guard",
    "FTS NEAR(": "NEAR(marine",
    "FTS star": "*",
    "FTS column filter": "foo:bar",
    "FTS everything": '"a" OR b* NOT c^ -d {e} NEAR(f, 2)',
    "SQL": "' OR 1=1 --",
    "NUL": "a\x00b",
    "control characters": "".join(map(chr, range(1, 32))) + "\x7f",
    "right-to-left marks": "\u202emarine\u200f\u061c",
    "zero-width and BOM": "\u200b\ufeff",
    "percent and backslash": "%25%\\",
    "emoji": "\U0001fa96",
    "2**64": str(2**64),
    "1e309": "1e309",
    "empty": "",
}
# Integers no parameter takes: out of range, too big for 64 bits, not integers at all.
BAD_INTEGERS = {
    "2**63": str(2**63),
    "2**64": str(2**64),
    "-2**63": str(-(2**63)),
    "negative": "-1",
    "zero": "0",
    "1e309": "1e309",
    "NaN": "NaN",
    "fraction": "1.5",
    "empty": "",
    "NUL": "\x00",
}
MAX_PROBLEM_BYTES = 2048


def _parameters(operation: dict[str, Any], where: str) -> list[dict[str, Any]]:
    return [p for p in operation.get("parameters", []) if p["in"] == where]


def _types(parameter: dict[str, Any]) -> set[str]:
    schema = parameter["schema"]
    return {s.get("type", "enum") for s in schema.get("anyOf", [schema])} - {"null"}


# The one required parameter documented without an example, since any fixed one goes stale: the
# data version of the seed, which these tests serve.
UNDOCUMENTED_EXAMPLES = {"since": read_dataset(SEED_DATA).version}


def _baseline(operation: dict[str, Any]) -> dict[str, str]:
    """The required parameters set to their documented examples, so that the others can be
    tried one at a time."""
    return {
        p["name"]: p["schema"].get("examples", [UNDOCUMENTED_EXAMPLES.get(p["name"])])[0]
        for p in _parameters(operation, "query")
        if p.get("required")
    }


QUERY_PARAMETERS = [
    pytest.param(path, operation, parameter["name"], id=f"{path} {parameter['name']}")
    for path, operation in OPERATIONS
    if not _parameters(operation, "path")
    for parameter in _parameters(operation, "query")
    if "integer" not in _types(parameter)
]
INTEGER_PARAMETERS = [
    pytest.param(path, operation, parameter["name"], id=f"{path} {parameter['name']}")
    for path, operation in OPERATIONS
    for parameter in _parameters(operation, "query")
    if "integer" in _types(parameter)
]
DETAIL_PATHS = [path for path, operation in OPERATIONS if _parameters(operation, "path")]
PATH_VALUES = {**TEXT, "201 characters": "a" * 201, "dot segments": "../../etc"}


def assert_well_formed(response: Response, label: str) -> None:
    """A 2xx with a body of its content type, or a 4xx problem that is short and names itself."""
    assert response.status_code < 500, (label, response.text)
    media_type = response.headers["content-type"].split(";")[0]
    if response.status_code >= 400:
        assert media_type == "application/problem+json", label
        assert len(response.content) < MAX_PROBLEM_BYTES, label
        problem = response.json()
        assert problem["status"] == response.status_code, label
        assert problem["detail"], label
    elif media_type == "application/json":
        orjson.loads(response.content)
    else:
        assert media_type == "text/csv", label


@pytest.mark.parametrize(("path", "operation", "name"), QUERY_PARAMETERS)
def test_hostile_text_in_a_query_parameter_gets_a_clear_answer(
    api: TestClient, path: str, operation: dict[str, Any], name: str
) -> None:
    baseline = api.get(path, params=_baseline(operation)).status_code
    for label, value in TEXT.items():
        response = api.get(path, params={**_baseline(operation), name: value})
        assert_well_formed(response, label)
        if response.status_code == 400 and baseline != 400:
            assert name in {item["name"] for item in response.json()["invalid_params"]}, label
        elif name == "since" and baseline == 200:
            # any data version but the example (the seed's, current) is one never loaded: Gone
            assert response.status_code in (400, 410), label
        else:
            assert response.status_code == baseline, label


@pytest.mark.parametrize(("path", "operation", "name"), INTEGER_PARAMETERS)
def test_an_integer_parameter_refuses_what_is_no_integer_it_takes(
    api: TestClient, path: str, operation: dict[str, Any], name: str
) -> None:
    for label, value in BAD_INTEGERS.items():
        response = api.get(path, params={**_baseline(operation), name: value})
        assert_well_formed(response, label)
        assert response.status_code == 400, label
        assert [item["name"] for item in response.json()["invalid_params"]] == [name], label


@pytest.mark.parametrize("path", DETAIL_PATHS)
def test_hostile_text_in_a_path_is_not_found_or_refused(api: TestClient, path: str) -> None:
    prefix = path.split("{")[0]
    for label, value in PATH_VALUES.items():
        if value:
            response = api.get(prefix + quote(value, safe=""))
            assert_well_formed(response, label)
            assert response.status_code in (400, 404), label


@pytest.mark.parametrize("where", ["query", "path"])
@pytest.mark.parametrize("path", ["/v1/facts", "/v1/search"])
def test_a_70_kb_url_is_refused_with_a_short_problem(
    api: TestClient, path: str, where: str
) -> None:
    huge = quote("marine " * 10_000).encode()
    if where == "query":
        response = call(api.app, "GET", path.encode(), b"q=" + huge)
    else:
        response = call(api.app, "GET", path.encode() + b"/" + huge)
    assert response.status == 414
    assert response.headers["content-type"] == "application/problem+json"
    assert len(response.body) < MAX_PROBLEM_BYTES
    assert orjson.loads(response.body)["status"] == 414


# The lists that page, but /v1/changes: since the seed's own version nothing changed, so there is
# no cursor to forge (tests/api/test_changes.py pages it over several loads).
LIST_PATHS = [
    path
    for path, operation in OPERATIONS
    if any(p["name"] == "cursor" for p in _parameters(operation, "query")) and path != "/v1/changes"
]


def _encode(cursor: object) -> str:
    return base64.urlsafe_b64encode(json.dumps(cursor).encode()).decode().rstrip("=")


def _first_cursor(api: TestClient, path: str, **params: str) -> str:
    operation = OPENAPI["paths"][path]["get"]
    response = api.get(path, params={**_baseline(operation), "limit": "1", **params})
    assert response.status_code == 200, response.text
    next_url: str = response.json()["next"]
    return next_url.split("cursor=")[1].split("&")[0]


def _tampered(api: TestClient, cursor: str, key: object) -> str:
    """The cursor with another key, signed with the app's own cursor key: what a client that
    learnt the key could send, which the API still checks against the list."""
    raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
    decoded = orjson.loads(raw[SIGNATURE_BYTES:])
    secret: bytes = api.app.api.state.cursor_key  # type: ignore[attr-defined]
    payload = orjson.dumps({**decoded, "k": key})
    return base64.urlsafe_b64encode(sign(payload, secret) + payload).decode().rstrip("=")


@pytest.mark.parametrize("path", LIST_PATHS)
def test_a_forged_cursor_is_refused(api: TestClient, path: str) -> None:
    issued = _first_cursor(api, path)
    forged = {
        "not base64": "!!!",
        "not JSON": base64.urlsafe_b64encode(b"\xff\xfe").decode(),
        "JSON of another shape": _encode([1, 2, 3]),
        "key not a list": _tampered(api, issued, "a"),
        "key of objects": _tampered(api, issued, [{"a": 1}]),
        "key of nulls": _tampered(api, issued, [None, None]),
        "key of lists": _tampered(api, issued, [[1, 2]]),
        "NUL": "\x00",
    }
    operation = OPENAPI["paths"][path]["get"]
    for label, cursor in forged.items():
        response = api.get(path, params={**_baseline(operation), "cursor": cursor})
        assert_well_formed(response, label)
        assert response.status_code == 400, label
        assert response.json()["type"].endswith("/invalid-cursor"), label


def _two_queries(operation: dict[str, Any]) -> tuple[dict[str, str], dict[str, str]]:
    """Two queries of one list that differ in their sort, or else in their words, or else in
    their day."""
    names = {parameter["name"]: parameter for parameter in _parameters(operation, "query")}
    if "sort" in names:
        first, second = names["sort"]["schema"]["enum"][:2]
        return {"sort": first}, {"sort": second}
    if "q" in names:
        return {"q": "marine"}, {"q": "guard"}
    return {"as_of": "2025-01-22"}, {"as_of": "2025-01-23"}


@pytest.mark.parametrize("path", LIST_PATHS)
def test_a_cursor_from_another_query_is_refused(api: TestClient, path: str) -> None:
    operation = OPENAPI["paths"][path]["get"]
    issued_for, used_for = _two_queries(operation)
    issued = _first_cursor(api, path, **issued_for)
    response = api.get(path, params={**_baseline(operation), **used_for, "cursor": issued})
    assert_well_formed(response, "cursor of another query")
    assert response.status_code == 400
    assert response.json()["type"].endswith("/invalid-cursor")


def _is_date(parameter: dict[str, Any]) -> bool:
    schema = parameter["schema"]
    return any(s.get("format") == "date" for s in schema.get("anyOf", [schema]))


DATE_PARAMETERS = [
    pytest.param(path, operation, parameter["name"], id=f"{path} {parameter['name']}")
    for path, operation in OPERATIONS
    for parameter in _parameters(operation, "query")
    if _is_date(parameter)
]
NOT_DAYS = {
    "zero": "0",
    "a Unix time": "1737504000",
    "1e309": "1e309",
    "no dashes": "20250122",
    "no leading zeros": "2025-1-2",
    "with a time": "2025-01-22T10:00:00",
}


@pytest.mark.parametrize(("path", "operation", "name"), DATE_PARAMETERS)
def test_a_date_parameter_takes_only_a_day_written_as_a_day(
    api: TestClient, path: str, operation: dict[str, Any], name: str
) -> None:
    day = api.get(path, params={**_baseline(operation), name: "2025-01-22"})
    assert day.status_code in (200, 404)  # the path's own braces are an id no record has
    for label, value in NOT_DAYS.items():
        response = api.get(path, params={**_baseline(operation), name: value})
        assert_well_formed(response, label)
        assert response.status_code == 400, label
        assert [item["name"] for item in response.json()["invalid_params"]] == [name], label


def test_search_syntax_is_plain_text_on_every_backend(database_url: str) -> None:
    """SQLite's FTS5 and PostgreSQL's tsquery each have a query syntax; neither may see any."""
    engine = make_engine(database_url)
    load_dataset(engine, read_dataset(SEED_DATA))
    engine.dispose()
    with TestClient(create_app(Settings(database_url=database_url))) as client:
        for label, value in TEXT.items():
            response = client.get("/v1/search", params={"q": value})
            assert_well_formed(response, label)
            assert response.status_code in (200, 400), label
        # Punctuation that is syntax to the database changes nothing: the word alone is found.
        plain = client.get("/v1/search", params={"q": "marines"}).json()["data"]
        assert plain
        for wrapped in ['"marines"', "marines*", "marines:", "(marines)", "-marines", "^marines"]:
            found = client.get("/v1/search", params={"q": wrapped}).json()["data"]
            assert [hit["id"] for hit in found] == [hit["id"] for hit in plain], wrapped
