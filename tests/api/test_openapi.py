"""The OpenAPI document: a contract that changes only on purpose, described for people and for
client generators.

After a deliberate change of the API, refresh the committed snapshot with:

    MUSTER_UPDATE_SNAPSHOTS=1 python -m pytest tests/api/test_openapi.py
"""

import json
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from app.main import create_api
from tests.api import seed

SNAPSHOT = Path(__file__).with_name("openapi.snapshot.json")
OPERATION_ID = re.compile(r"^[a-z][a-z_]*$")  # a Python name: list_forces, get_force


def document() -> dict[str, Any]:
    spec: dict[str, Any] = create_api().openapi()
    return spec


def operations(spec: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, methods in spec["paths"].items():
        for method, operation in methods.items():
            yield path, method, operation


def test_the_document_matches_the_committed_snapshot() -> None:
    current = json.dumps(document(), indent=2, ensure_ascii=False, sort_keys=True) + "\n"
    if os.environ.get("MUSTER_UPDATE_SNAPSHOTS") == "1":
        SNAPSHOT.write_text(current, encoding="utf-8")
    assert current == SNAPSHOT.read_text(encoding="utf-8"), (
        "the OpenAPI document changed; if on purpose, refresh the snapshot with "
        "`MUSTER_UPDATE_SNAPSHOTS=1 python -m pytest tests/api/test_openapi.py`"
    )


def test_the_served_document_is_the_one_described(client: TestClient) -> None:
    served = client.get("/openapi.json")
    assert served.status_code == 200
    assert served.json() == document()


def test_the_served_document_is_the_same_however_often_it_is_asked_for(
    client: TestClient,
) -> None:
    first, second = (client.get("/openapi.json").json() for _ in range(2))
    assert second == first == document()


def test_operation_ids_are_the_handlers_names_short_and_unique() -> None:
    spec = document()
    ids = [operation["operationId"] for _, _, operation in operations(spec)]
    assert len(ids) == len(set(ids))
    for operation_id in ids:
        assert OPERATION_ID.match(operation_id), operation_id
        assert len(operation_id) <= 20, operation_id
    assert {"list_forces", "get_force", "search", "timeline"} <= set(ids)


def test_every_operation_has_one_declared_tag_a_summary_and_a_description() -> None:
    spec = document()
    declared = {tag["name"] for tag in spec["tags"]}
    assert all(tag.get("description") for tag in spec["tags"])
    for path, method, operation in operations(spec):
        assert len(operation["tags"]) == 1, (path, method)
        assert operation["tags"][0] in declared, (path, method)
        assert operation.get("summary"), (path, method)
        assert operation.get("description"), (path, method)


def test_an_answer_that_embeds_the_first_facts_says_where_all_of_them_are() -> None:
    """A reader of the docs learns, from the operation and from its answer's schema, that a
    detail page holds only the first facts about its record, not every one."""
    spec = document()
    schemas = spec["components"]["schemas"]
    embedding = {
        name for name, schema in schemas.items() if "facts_url" in schema.get("properties", {})
    }
    assert len(embedding) >= 5  # forces, agencies, waves, authorities, activities
    for name in embedding:
        assert "the first facts" in schemas[name]["description"], name
        assert "every fact" not in schemas[name]["description"], name
    described = 0
    for path, method, operation in operations(spec):
        answer = operation["responses"]["200"]["content"]["application/json"]["schema"]
        if answer.get("$ref", "").rsplit("/", 1)[-1] in embedding:
            assert "the first facts" in operation["description"], (path, method)
            assert "`facts_url`" in operation["description"], (path, method)
            described += 1
    assert described == len(embedding)


def test_every_parameter_model_and_field_is_described() -> None:
    spec = document()
    for path, method, operation in operations(spec):
        for parameter in operation.get("parameters", []):
            described = parameter.get("description") or parameter["schema"].get("description")
            assert described, (path, method, parameter["name"])
    for name, schema in spec["components"]["schemas"].items():
        assert schema.get("description"), name
        for field, definition in schema.get("properties", {}).items():
            assert definition.get("description"), f"{name}.{field}"


def examples(spec: dict[str, Any]) -> Iterator[tuple[str, str, Any]]:
    for name, schema in spec["components"]["schemas"].items():
        for field, definition in schema.get("properties", {}).items():
            for example in definition.get("examples", []):
                yield name, field, example


def test_examples_are_taken_from_the_seed_data(client: TestClient) -> None:
    """An example that names a record names one that exists, and an example path answers."""
    spec = document()
    known = {record_id for kind in seed.LIST_KINDS for record_id in seed.ids(kind)}
    names = {
        record["id"]: record["name"] for kind in seed.ENTITY_KINDS for record in seed.records(kind)
    }
    checked = 0
    for name, schema in spec["components"]["schemas"].items():
        properties = schema.get("properties", {})
        for example in properties.get("id", {}).get("examples", []):
            assert example in known, (name, example)
            checked += 1
            for named in properties.get("name", {}).get("examples", []):
                if example in names:
                    assert named == names[example], (name, example, named)
    for name, field, example in examples(spec):
        if isinstance(example, str) and example.startswith("/v1/"):
            assert client.get(example).status_code == 200, (name, field, example)
            checked += 1
    assert checked >= 10
