"""An error Muster did not expect, in a route or in the edge around the routes, is answered with a
500 problem that carries every response's headers, and logged once with its traceback."""

import logging
from collections.abc import Iterator

import httpx
import pytest
from fastapi.testclient import TestClient

from app.api.response_cache import ResponseCache
from app.config import Settings
from app.main import create_app

ALLOWED_ORIGIN = "https://newsroom.example"


@pytest.fixture
def client(seeded_database_url: str) -> Iterator[TestClient]:
    settings = Settings(database_url=seeded_database_url, cors_origins=[ALLOWED_ORIGIN])
    app = create_app(settings)

    async def broken_route() -> None:
        raise RuntimeError("a bug in a route")

    app.api.add_api_route("/v1/broken", broken_route)
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client


def assert_unexpected_error_problem(response: httpx.Response, path: str) -> None:
    assert response.status_code == 500
    headers = response.headers
    assert headers["content-type"] == "application/problem+json"
    assert headers["cache-control"] == "no-store"
    assert headers["x-request-id"]
    assert headers["x-content-type-options"] == "nosniff"
    problem = response.json()
    assert problem["status"] == 500
    assert problem["instance"] == path
    assert "a bug" not in problem["detail"]  # the error's own words stay in the log


def test_a_route_that_fails_answers_a_problem_and_logs_it(
    client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.ERROR, logger="muster"):
        response = client.get("/v1/broken")
    assert_unexpected_error_problem(response, "/v1/broken")
    logged = [record for record in caplog.records if record.exc_info]
    assert len(logged) == 1
    assert "/v1/broken" in logged[0].getMessage()


def test_an_edge_that_fails_answers_a_problem_and_logs_it(
    client: TestClient, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken_get(*_: object) -> None:
        raise RuntimeError("a bug in the response cache")

    # The cache is asked once the load being served is known, which a first read learns in its
    # thread (DataStore.known).
    assert client.get("/v1/agencies").status_code == 200
    monkeypatch.setattr(ResponseCache, "get", broken_get)
    with caplog.at_level(logging.ERROR, logger="muster"):
        response = client.get("/v1/forces")
    assert_unexpected_error_problem(response, "/v1/forces")
    logged = [record for record in caplog.records if record.exc_info]
    assert len(logged) == 1
    assert "a bug in the response cache" in str(logged[0].exc_info[1])  # type: ignore[index]


def test_a_failure_is_readable_by_an_allowed_origin_and_bodiless_to_head(
    client: TestClient,
) -> None:
    response = client.get("/v1/broken", headers={"Origin": ALLOWED_ORIGIN})
    assert_unexpected_error_problem(response, "/v1/broken")
    assert response.headers["access-control-allow-origin"] == ALLOWED_ORIGIN
    head = client.head("/v1/broken")
    assert head.status_code == 500
    assert head.content == b""
