"""The OpenAPI document as client generators read it: errors typed as problems, success bodies
typed as JSON alone, fields the server always sends required, no anonymous nullable enums."""

from collections.abc import Iterator
from typing import Any

import httpx
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from app.api.caching import CACHED
from app.main import ROUTERS, create_api
from tests.helpers import SEED_PATH_ARGUMENTS

PROBLEM = {"$ref": "#/components/schemas/Problem"}


def document() -> dict[str, Any]:
    spec: dict[str, Any] = create_api().openapi()
    return spec


def operations(spec: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    for path, methods in spec["paths"].items():
        for operation in methods.values():
            yield path, operation


def is_error(status: str) -> bool:
    return status[0] in "45"


def test_every_error_is_documented_as_a_problem_in_the_media_type_sent() -> None:
    for path, operation in operations(document()):
        errors = {s: r for s, r in operation["responses"].items() if is_error(s)}
        assert {"4XX", "5XX"} <= set(errors), path
        for status, response in errors.items():
            assert response["content"] == {"application/problem+json": {"schema": PROBLEM}}, (
                path,
                status,
            )


def test_the_gone_and_not_ready_answers_are_documented_problems() -> None:
    spec = document()
    gone = spec["paths"]["/v1/changes"]["get"]["responses"]["410"]
    not_ready = spec["paths"]["/readyz"]["get"]["responses"]["503"]
    for response in (gone, not_ready):
        assert response["content"]["application/problem+json"]["schema"] == PROBLEM


def test_an_error_answer_is_what_its_document_says(client: TestClient) -> None:
    response = client.get("/v1/forces/nope")
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    required = document()["components"]["schemas"]["Problem"]["required"]
    assert set(required) <= set(response.json())


def test_a_success_is_documented_as_json_only_and_csv_is_described() -> None:
    for path, operation in operations(document()):
        success = operation["responses"]["200"]
        if path.startswith("/v1/"):
            assert list(success["content"]) == ["application/json"], path
            assert "format=csv" in operation["description"], path
        names = [parameter["name"] for parameter in operation.get("parameters", [])]
        assert "format" not in names, path


def test_the_undocumented_format_parameter_still_answers_csv(client: TestClient) -> None:
    response = client.get("/v1/forces?format=csv")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")


def test_every_field_of_a_response_model_is_required() -> None:
    """The server sends every field of its models, null where there is nothing: a generated
    client must not type a field it always gets as possibly missing."""
    spec = document()
    schemas = spec["components"]["schemas"]
    checked = 0
    for name, schema in schemas.items():
        if name in ("Problem", "InvalidParam") or "properties" not in schema:
            continue
        assert set(schema.get("required", [])) == set(schema["properties"]), name
        checked += 1
    assert checked >= 30
    fact = schemas["FactPublic"]["properties"]
    assert {"type": "null"} in fact["quantity"]["anyOf"]


def test_served_documents_hold_every_required_field(client: TestClient) -> None:
    schemas = document()["components"]["schemas"]
    for path, model in (("/v1/facts", "FactPublic"), ("/v1/forces", "ForcePublic")):
        for item in client.get(path, params={"limit": 200}).json()["data"]:
            assert set(schemas[model]["required"]) <= set(item), (path, item["id"])


def test_no_query_parameter_is_nullable_and_no_enum_is_anonymous() -> None:
    """A query string cannot hold null; a generator names an enum inside anyOf after its place
    (ListAgenciesLevelType0)."""
    for path, operation in operations(document()):
        for parameter in operation.get("parameters", []):
            schema = parameter["schema"]
            assert "anyOf" not in schema, (path, parameter["name"])
            if parameter["name"] != "sort":
                assert "enum" not in schema, (path, parameter["name"])


def test_security_and_servers_are_declared() -> None:
    spec = document()
    assert spec["security"] == []
    assert spec["servers"]
    assert all(server["url"] for server in spec["servers"])


# Response fields whose values are those of an enum a filter takes (or the bundle's schema
# holds), by schema: declared with that enum, so that a value read back passes to a filter as it
# is. A list model's detail (ForceDetail) has its fields.
READ_BACK_ENUMS = {
    "FactPublic": {"kind": "FactKind", "status": "FactStatus", "rank": "Rank"}
    | {"raised_by": "RaisedBy"},
    "TimelineEvent": {"kind": "FactKind", "status": "FactStatus"},
    "ForcePublic": {"component": "Component"},
    "ForceDetail": {"component": "Component"},
    "WavePublic": {"status": "WaveStatus", "joins_status": "FactStatus"},
    "WaveDetail": {"status": "WaveStatus", "joins_status": "FactStatus"},
    "AuthorityPublic": {"kind": "AuthorityKind"},
    "AuthorityDetail": {"kind": "AuthorityKind"},
    "ActivityPublic": {"status": "ActivityStatus"},
    "ActivityDetail": {"status": "ActivityStatus"},
    "ActivityAuthorityPublic": {"effect": "AuthorityEffect"},
    "AgencyPublic": {"level": "AgencyLevel"},
    "AgencyDetail": {"level": "AgencyLevel"},
    "PostureFigure": {"component": "Component", "status": "WaveStatus"}
    | {"force_status": "FactStatus", "rank": "Rank"},
    "PostureTotal": {"component": "Component", "statuses": "WaveStatus"},
    "Ref": {"kind": "Kind", "collection": "Kind"},
    "SearchHit": {"kind": "Kind", "collection": "Kind"},
    "ChangePublic": {"kind": "Kind", "collection": "Kind"},
}
# The enum a parameter takes that no response field is: which part of the posture a CSV holds, a
# choice of representation, not a value.
FILTER_ONLY_ENUMS = {"PosturePart"}


def enum_name(schema: dict[str, Any]) -> str | None:
    """The enum component a field or parameter refers to: itself, its non-null branch, or the
    items of a list; None for anything else."""
    branches = [b for b in schema.get("anyOf", [schema]) if b != {"type": "null"}]
    if len(branches) != 1:
        return None
    branch = branches[0].get("items", branches[0])
    ref: str = branch.get("$ref", "")
    return ref.rsplit("/", 1)[-1] or None


def test_a_field_read_back_has_the_enum_its_filter_takes() -> None:
    """A client passes ``fact.status`` to ``/v1/facts?status=`` with no cast: both are one
    enum in the document, not a string on one side and a union of strings on the other."""
    schemas = document()["components"]["schemas"]
    for name, fields in READ_BACK_ENUMS.items():
        for field, enum in fields.items():
            assert enum_name(schemas[name]["properties"][field]) == enum, f"{name}.{field}"
            assert "enum" in schemas[enum], enum


def test_every_enum_a_filter_takes_is_read_back_somewhere() -> None:
    spec = document()
    filters = {
        name
        for _, operation in operations(spec)
        for parameter in operation.get("parameters", [])
        if (name := enum_name(parameter["schema"])) and parameter["name"] != "sort"
    }
    read_back = {enum for fields in READ_BACK_ENUMS.values() for enum in fields.values()}
    assert filters - FILTER_ONLY_ENUMS <= read_back
    assert {"FactStatus", "WaveStatus", "Component", "Kind"} <= filters


def test_a_value_read_back_is_accepted_by_its_filter(client: TestClient) -> None:
    for fact in client.get("/v1/facts", params={"limit": 200}).json()["data"]:
        for field in ("kind", "status", "rank"):
            answer = client.get("/v1/facts", params={field: fact[field], "limit": 1})
            assert answer.status_code == 200, (field, fact[field])
            assert answer.json()["total"] >= 1
    for wave in client.get("/v1/waves").json()["data"]:
        assert client.get("/v1/waves", params={"status": wave["status"]}).status_code == 200
    for hit in client.get("/v1/search", params={"q": "Lonestar"}).json()["data"]:
        answer = client.get("/v1/search", params={"q": "Lonestar", "kind": hit["collection"]})
        assert answer.status_code == 200


# The headers Muster itself sets on an answer (beside the fixed security and CORS ones).
MUSTER_HEADERS = {"etag", "cache-control", "vary", "link", "x-data-version", "x-request-id"}
MUSTER_HEADERS |= {"x-total-count"}


# A value for each path parameter: records of the seed data.
def documented_headers(spec: dict[str, Any], response: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """A response's headers by lower-case name, each as its component defines it."""
    headers = {}
    for name, header in response.get("headers", {}).items():
        if "$ref" in header:
            header = spec["components"]["headers"][header["$ref"].rsplit("/", 1)[-1]]
        headers[name.lower()] = header
    return headers


def assert_headers_as_documented(
    spec: dict[str, Any], response: dict[str, Any], answer: httpx.Response, where: Any
) -> None:
    documented = documented_headers(spec, response)
    required = {name for name, header in documented.items() if header.get("required")}
    assert required <= set(answer.headers), (where, required - set(answer.headers))
    sent = MUSTER_HEADERS & set(answer.headers)
    assert sent <= set(documented), (where, sent - set(documented))
    for name, header in documented.items():
        assert header["description"], (where, name)
        if name in answer.headers and header["schema"]["type"] == "integer":
            assert answer.headers[name].isdigit(), (where, name)


def test_the_headers_documented_are_the_headers_sent(client: TestClient) -> None:
    """Every operation, as a client would call it (a page of one, so that lists have a next
    page): each header its 200 documents as required is sent, and each header Muster sends is
    documented; likewise for its 304 when it documents one, and for none when it does not."""
    spec = document()
    version = client.get("/").json()["data_version"]
    linked = set()
    for path, operation in operations(spec):
        names = {parameter["name"] for parameter in operation.get("parameters", [])}
        params: dict[str, Any] = {"limit": 1} if "limit" in names else {}
        params |= {"q": "Lonestar"} if path == "/v1/search" else {}
        params |= {"since": version} if "since" in names else {}
        url = path.format(**SEED_PATH_ARGUMENTS)
        answer = client.get(url, params=params)
        assert answer.status_code == 200, (path, answer.text[:300])
        responses = operation["responses"]
        assert_headers_as_documented(spec, responses["200"], answer, path)
        if "link" in answer.headers:
            linked.add(operation["operationId"])
        if "304" not in responses:
            assert "etag" not in answer.headers, path
            continue
        again = client.get(url, params=params, headers={"If-None-Match": answer.headers["etag"]})
        assert again.status_code == 304, path
        assert "content" not in responses["304"], path
        assert_headers_as_documented(spec, responses["304"], again, (path, 304))
    assert {"list_facts", "list_forces", "search", "posture"} <= linked


def test_a_304_is_documented_on_every_operation_that_answers_one() -> None:
    """The cached operations (``dependencies=[CACHED]``) answer a matching ``If-None-Match``
    with a 304: a generated client must not read it as an unexpected status."""
    cached = {
        route.name
        for router in ROUTERS
        for route in router.routes
        if isinstance(route, APIRoute)
        and any(depends.dependency is CACHED.dependency for depends in route.dependencies)
    }
    spec = document()
    answering = {op["operationId"] for _, op in operations(spec) if "304" in op["responses"]}
    assert answering == cached
    assert len(cached) >= 19
    headers = spec["components"]["headers"]
    assert headers["X-Total-Count"]["schema"] == {"type": "integer", "minimum": 0}
    # Optional, and so in full: openapi-typescript would type a referenced one as always sent.
    link = spec["paths"]["/v1/facts"]["get"]["responses"]["200"]["headers"]["Link"]
    assert link["required"] is False
