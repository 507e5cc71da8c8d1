"""Fixtures for the robustness tests: the API over the seed data, built once per session."""

import asyncio
from collections.abc import Callable, Iterator
from typing import Any, NamedTuple
from urllib.parse import unquote

import pytest
from fastapi.testclient import TestClient

from app.config import Settings
from app.main import create_app
from tests.helpers import fill


@pytest.fixture(scope="session")
def seed_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A SQLite database holding the seed data, shared by tests that only read it."""
    url = f"sqlite:///{tmp_path_factory.mktemp('seed') / 'muster.db'}"
    fill(url)
    return url


OpenClient = Callable[..., TestClient]


@pytest.fixture(scope="session")
def serve(seed_url: str) -> Iterator[OpenClient]:
    """Open a client on the API over the seed data with some settings changed."""
    clients: list[TestClient] = []

    def open_client(**changes: Any) -> TestClient:
        client = TestClient(create_app(Settings(database_url=seed_url, **changes)))
        clients.append(client.__enter__())
        return client

    yield open_client
    for client in clients:
        client.__exit__(None, None, None)


@pytest.fixture(scope="module", params=[True, False], ids=["cached", "uncached"])
def api(serve: OpenClient, request: pytest.FixtureRequest) -> TestClient:
    """The API over the seed data, with the response cache on and off: both must hold up."""
    return serve(response_cache=request.param)


class RawResponse(NamedTuple):
    status: int
    headers: dict[str, str]
    body: bytes


def call(
    app: Any,
    method: str,
    raw_path: bytes,
    query_string: bytes = b"",
    headers: list[tuple[bytes, bytes]] | None = None,
    body_chunks: list[bytes] | None = None,
) -> RawResponse:
    """Send one request straight to an ASGI app, past any client's own limits on URLs."""
    received: dict[str, Any] = {"body": b""}
    chunks = list(body_chunks or [b""])

    async def receive() -> dict[str, Any]:
        if chunks:
            return {"type": "http.request", "body": chunks.pop(0), "more_body": bool(chunks)}
        await asyncio.Event().wait()  # the client waits for its answer; it never leaves
        raise AssertionError("unreachable")

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            received["status"] = message["status"]
            received["headers"] = {k.decode(): v.decode() for k, v in message["headers"]}
        else:
            received["body"] += message.get("body", b"")

    scope = {
        "type": "http",
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": unquote(raw_path.decode("latin-1")),
        "raw_path": raw_path,
        "query_string": query_string,
        "root_path": "",
        "headers": [(b"host", b"testserver"), *(headers or [])],
        "client": ("127.0.0.1", 50000),
        "server": ("testserver", 80),
    }
    asyncio.run(app(scope, receive, send))
    return RawResponse(received["status"], received["headers"], received["body"])
