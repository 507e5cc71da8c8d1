"""Limits on a request, each a setting with a safe default, refused before routing."""

import socket
from pathlib import Path

import orjson
import pytest
from fastapi.testclient import TestClient

from app.config import Settings
from tests.helpers import fill
from tests.robustness.conftest import OpenClient, call
from tests.robustness.server import muster_serve

WRITE_METHODS = ["POST", "PUT", "PATCH", "DELETE"]


def test_the_limits_have_safe_defaults() -> None:
    settings = Settings()
    assert settings.max_url_bytes <= 16384
    assert settings.max_query_bytes <= 8192
    assert settings.max_body_bytes == 1024 * 1024
    assert settings.max_page_size == 200


@pytest.mark.parametrize("method", WRITE_METHODS)
@pytest.mark.parametrize("path", ["/v1/forces", "/v1/forces/jtf-north", "/", "/healthz"])
def test_a_write_method_is_not_allowed_and_says_what_is(
    api: TestClient, method: str, path: str
) -> None:
    response = api.request(method, path, content=b'{"name": "x"}')
    assert response.status_code == 405
    assert response.headers["content-type"] == "application/problem+json"
    assert {m.strip() for m in response.headers["allow"].split(",")} == {"GET", "HEAD"}
    assert response.json()["status"] == 405


@pytest.mark.parametrize("method", ["GET", *WRITE_METHODS])
def test_a_body_over_the_limit_is_refused_before_routing(api: TestClient, method: str) -> None:
    response = api.request(method, "/v1/forces", content=b"x" * (1024 * 1024 + 1))
    assert response.status_code == 413
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["status"] == 413


def test_a_chunked_body_over_the_limit_is_refused(serve: OpenClient) -> None:
    client = serve(max_body_bytes=1000)
    chunks = [b"x" * 600, b"x" * 600]
    chunked = [(b"transfer-encoding", b"chunked")]
    response = call(client.app, "POST", b"/v1/forces", headers=chunked, body_chunks=chunks)
    assert response.status == 413
    within = call(client.app, "GET", b"/v1/forces", headers=chunked, body_chunks=[b"x" * 600])
    assert within.status == 200


def test_a_query_string_over_its_limit_is_refused(serve: OpenClient) -> None:
    client = serve(max_query_bytes=100)
    assert client.get("/v1/facts", params={"q": "a" * 90}).status_code == 200
    response = client.get("/v1/facts", params={"q": "a" * 100})
    assert response.status_code == 414
    assert "at most 100" in response.json()["detail"]


def test_a_url_over_its_limit_is_refused(serve: OpenClient) -> None:
    client = serve(max_url_bytes=300)
    assert client.get("/v1/forces/" + "a" * 200).status_code == 404
    response = client.get("/v1/forces/" + "a" * 300)
    assert response.status_code == 414
    assert "at most 300" in response.json()["detail"]


def test_a_page_holds_at_most_the_page_size_set(serve: OpenClient) -> None:
    client = serve(max_page_size=2)
    walked = []
    url: str | None = "/v1/forces?limit=200"
    while url:
        page = client.get(url).json()
        assert len(page["data"]) <= 2
        walked += [item["id"] for item in page["data"]]
        url = page["next"]
    everything = serve().get("/v1/forces?limit=200").json()
    assert walked == [item["id"] for item in everything["data"]]
    assert len(walked) == everything["total"] > 2


def test_a_limit_past_the_contract_is_refused(api: TestClient) -> None:
    response = api.get("/v1/forces", params={"limit": 201})
    assert response.status_code == 400
    assert orjson.loads(response.content)["invalid_params"][0]["name"] == "limit"


def test_a_real_server_refuses_a_70_kb_query_string_with_a_short_4xx(tmp_path: Path) -> None:
    """Up to 64 KiB the request reaches Muster, which answers a 414 problem; past that, uvicorn's
    HTTP parser refuses it first with its own short plain-text 400."""
    url = f"sqlite:///{tmp_path / 'muster.db'}"
    fill(url)
    with muster_serve(url, tmp_path) as served:
        for size, status in ((60_000, 414), (70_000, 400)):
            with socket.create_connection(("127.0.0.1", served.port)) as connection:
                target = b"/v1/facts?q=" + b"a" * size
                request = b"GET %s HTTP/1.1\r\nHost: muster\r\nConnection: close\r\n\r\n"
                connection.sendall(request % target)
                head, _, body = _read_until_closed(connection).partition(b"\r\n\r\n")
            assert head.startswith(b"HTTP/1.1 %d " % status), size
            assert len(body) < 2048, size


def _read_until_closed(connection: socket.socket) -> bytes:
    connection.settimeout(10)
    received = b""
    while chunk := connection.recv(65536):
        received += chunk
    return received
