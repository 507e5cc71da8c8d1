"""The OpenAPI document as client generators read it: errors typed as problems, success bodies
typed as JSON alone, fields the server always sends required, no anonymous nullable enums."""

from collections.abc import Iterator
from typing import Any

from fastapi.testclient import TestClient

from app.main import create_api

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
