"""Clients generated from /openapi.json work as they are, with no cast: a Python client from
openapi-python-client calls every operation and reads every error as a Problem; TypeScript types
from openapi-typescript type-check, with tsc --strict, a script that uses openapi-fetch on a list,
a detail, every page of a list and an error, and the script runs against the server.

The generators are pinned: openapi-python-client in pyproject's test extra, the npm packages in
tests/clients/package.json and its package-lock.json (installed with `npm ci`).
"""

import importlib
import inspect
import json
import os
import re
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from app import migrate
from app.config import Settings
from app.main import create_app
from tests.helpers import SEED_PATH_ARGUMENTS

HERE = Path(__file__).parent
BIN = Path(sys.executable).parent
# A value for each required parameter, by its name in the Python client: records of the seed data.
ARGUMENTS = SEED_PATH_ARGUMENTS | {"q": "Lonestar"}


@pytest.fixture(scope="module")
def python_client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ModuleType]:
    """The package openapi-python-client generates from the app's document, imported."""
    folder = tmp_path_factory.mktemp("python-client")
    spec = folder / "openapi.json"
    spec.write_text(json.dumps(create_api_document()), encoding="utf-8")
    generated = subprocess.run(
        [BIN / "openapi-python-client", "generate", "--path", spec, "--meta", "none"],
        cwd=folder,
        env=os.environ | {"PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}"},  # its ruff hooks
        capture_output=True,
        text=True,
        check=True,
    )
    assert "Warning" not in generated.stdout, generated.stdout  # nothing of the document skipped
    sys.path.insert(0, str(folder))
    try:
        yield importlib.import_module("muster_client")
    finally:
        sys.path.remove(str(folder))


def create_api_document() -> dict[str, Any]:
    from app.main import create_api

    spec: dict[str, Any] = create_api().openapi()
    return spec


def operation_modules(package: ModuleType) -> Iterator[ModuleType]:
    api = Path(package.__file__ or "").parent / "api"
    for module in sorted(api.glob("*/*.py")):
        if module.name != "__init__.py":
            yield importlib.import_module(f"muster_client.api.{module.parent.name}.{module.stem}")


def test_every_operation_parses_into_its_model(python_client: ModuleType, served: str) -> None:
    models = importlib.import_module("muster_client.models")
    client = python_client.Client(base_url=served, raise_on_unexpected_status=True)
    version = httpx.get(f"{served}/").json()["data_version"]
    called = set()
    for module in operation_modules(python_client):
        parameters = inspect.signature(module.sync_detailed).parameters
        arguments = {
            name: version if name == "since" else ARGUMENTS[name]
            for name, parameter in parameters.items()
            if name != "client" and parameter.default is inspect.Parameter.empty
        }
        response = module.sync_detailed(client=client, **arguments)
        assert response.status_code == 200, (module.__name__, response.content[:300])
        assert response.parsed is not None, module.__name__
        assert not isinstance(response.parsed, models.Problem), module.__name__
        called.add(module.__name__.rsplit(".", 1)[1])
    documented = {
        operation["operationId"]
        for methods in create_api_document()["paths"].values()
        for operation in methods.values()
    }
    assert called == documented


def test_a_value_read_back_is_the_enum_its_filter_takes(
    python_client: ModuleType, served: str
) -> None:
    """``FactStatus(fact.status)`` is not needed: the field is the filter's enum already."""
    models = importlib.import_module("muster_client.models")
    list_facts = importlib.import_module("muster_client.api.facts.list_facts")
    list_waves = importlib.import_module("muster_client.api.waves.list_waves")
    client = python_client.Client(base_url=served, raise_on_unexpected_status=True)
    facts = list_facts.sync(client=client, limit=5)
    assert isinstance(facts, models.PageFactPublic)
    for fact in facts.data:
        assert isinstance(fact.status, models.FactStatus)
        assert isinstance(fact.kind, models.FactKind)
        assert isinstance(fact.rank, models.Rank)
        same = list_facts.sync(client=client, status=fact.status, kind=fact.kind, rank=fact.rank)
        assert isinstance(same, models.PageFactPublic)
        assert fact.id in {other.id for other in same.data}
    waves = list_waves.sync(client=client)
    assert isinstance(waves, models.PageWavePublic)
    for wave in waves.data:
        assert isinstance(wave.status, models.WaveStatus)
        same_waves = list_waves.sync(client=client, status=wave.status)
        assert isinstance(same_waves, models.PageWavePublic)
        assert wave.id in {other.id for other in same_waves.data}


def test_a_conditional_request_is_answered_by_a_documented_304(
    python_client: ModuleType, served: str
) -> None:
    """Revalidating with the ETag gives a 304 the client expects (no UnexpectedStatus), with no
    body and the headers of the 200."""
    list_facts = importlib.import_module("muster_client.api.facts.list_facts")
    client = python_client.Client(base_url=served, raise_on_unexpected_status=True)
    first = list_facts.sync_detailed(client=client, limit=5)
    assert first.status_code == 200
    conditional = client.with_headers({"If-None-Match": first.headers["etag"]})
    again = list_facts.sync_detailed(client=conditional, limit=5)
    assert again.status_code == 304
    assert again.parsed is None
    assert again.content == b""
    for name in ("etag", "x-data-version", "x-total-count"):
        assert again.headers[name] == first.headers[name], name


def test_an_error_of_each_status_parses_into_a_problem(
    python_client: ModuleType, served: str, tmp_path: Path
) -> None:
    problem = importlib.import_module("muster_client.models").Problem
    api = "muster_client.api"
    list_facts = importlib.import_module(f"{api}.facts.list_facts")
    get_force = importlib.import_module(f"{api}.forces.get_force")
    list_changes = importlib.import_module(f"{api}.changes.list_changes")
    readyz = importlib.import_module(f"{api}.meta.readyz")
    client = python_client.Client(base_url=served)
    answers = {
        400: list_facts.sync_detailed(client=client, limit=0),
        404: get_force.sync_detailed(client=client, force_id="no-such-force"),
        410: list_changes.sync_detailed(client=client, since="not-a-version-we-loaded"),
    }
    empty = f"sqlite:///{tmp_path / 'empty.db'}"
    migrate.upgrade(empty)
    with TestClient(create_app(Settings(database_url=empty))) as unloaded:
        answers[503] = readyz.sync_detailed(
            client=python_client.Client(base_url="http://testserver").set_httpx_client(unloaded)
        )
    for status, response in answers.items():
        assert response.status_code == status, (status, response.content[:300])
        assert isinstance(response.parsed, problem), status
        assert response.parsed.status == status
        assert response.parsed.detail


def test_typescript_types_check_strictly_and_the_script_runs(
    installed: Callable[[str], str], served: str
) -> None:
    npm = installed("npm")
    node = installed("node")
    script = (HERE / "check.mts").read_text(encoding="utf-8")
    code = re.sub(r"//.*", "", script)
    assert not re.search(r"\bas\s+(?!const\b)\w|<\w+>\s*\w|@ts-|\bany\b", code), "a cast"
    run = {"cwd": HERE, "capture_output": True, "text": True, "timeout": 300}
    ci = subprocess.run([npm, "ci", "--no-audit", "--no-fund"], **run)  # type: ignore[call-overload]
    assert ci.returncode == 0, ci.stderr
    tools = HERE / "node_modules" / ".bin"
    generated = subprocess.run(  # type: ignore[call-overload]
        [tools / "openapi-typescript", f"{served}/openapi.json", "-o", "generated/schema.d.ts"],
        **run,
    )
    assert generated.returncode == 0, generated.stderr
    checked = subprocess.run([tools / "tsc", "-p", "."], **run)  # type: ignore[call-overload]
    assert checked.returncode == 0, checked.stdout
    ran = subprocess.run([node, "built/check.mjs", served], **run)  # type: ignore[call-overload]
    assert ran.returncode == 0, ran.stderr
    found = json.loads(ran.stdout)
    total = httpx.get(f"{served}/v1/facts").json()["total"]
    force = httpx.get(f"{served}/v1/forces/jtf-north").json()
    assert found["facts"] == total > 20
    assert found["operations"] == [operation["id"] for operation in force["operations"]]
    assert found["firstQuantity"]
    wave = httpx.get(f"{served}/v1/waves", params={"limit": 1}).json()["data"][0]
    assert found["readBack"] == [found["readBack"][0], wave["status"], "active_duty", "forces"]
    assert found["sameStatusTotal"] >= 1
    version = httpx.get(f"{served}/").headers["x-data-version"]
    assert (found["notModified"], found["notModifiedVersion"]) == (304, version)
    assert found["notModifiedTagIsTheSame"]
    assert (found["problemStatus"], found["problemType"].rsplit("/", 1)[1]) == (404, "not-found")
