"""Security headers, CORS and a request id on every response; a JSON access-log line for each."""

import json
import logging
import logging.config
import time

import pytest
from fastapi.testclient import TestClient
from httpx import Response

from app.api.edge import API_CSP
from app.config import Settings
from app.logging import JsonFormatter, log_config
from tests.robustness.conftest import OpenClient

SECURITY = {
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "no-referrer",
}
PREFLIGHT = {
    "Origin": "https://elsewhere.example",
    "Access-Control-Request-Method": "GET",
    "Access-Control-Request-Headers": "if-none-match, x-request-id",
}

# (method, path, headers) of responses of every kind: data, cached data, docs, errors, preflight.
REQUESTS: dict[str, tuple[str, str, dict[str, str]]] = {
    "front page": ("GET", "/", {}),
    "health": ("GET", "/healthz", {}),
    "readiness": ("GET", "/readyz", {}),
    "list": ("GET", "/v1/forces", {}),
    "CSV": ("GET", "/v1/forces?format=csv", {}),
    "gzip": ("GET", "/v1/facts", {"Accept-Encoding": "gzip"}),
    "detail": ("GET", "/v1/forces/jtf-north", {}),
    "HEAD": ("HEAD", "/v1/forces", {}),
    "not modified": ("GET", "/v1/forces", {"If-None-Match": "*"}),
    "not found": ("GET", "/v1/forces/no-such-force", {}),
    "no such path": ("GET", "/nowhere", {}),
    "bad parameter": ("GET", "/v1/forces?limit=0", {}),
    "unknown parameter": ("GET", "/v1/forces?limt=5", {}),
    "not allowed": ("DELETE", "/v1/forces", {}),
    "URL too long": ("GET", "/v1/facts?q=" + "a" * 9000, {}),
    "OpenAPI": ("GET", "/openapi.json", {}),
    "docs": ("GET", "/docs", {}),
    "ReDoc": ("GET", "/redoc", {}),
    "preflight": ("OPTIONS", "/v1/forces", PREFLIGHT),
}


def send(client: TestClient, name: str) -> Response:
    method, path, headers = REQUESTS[name]
    response: Response = client.request(method, path, headers=headers)
    return response


@pytest.mark.parametrize("name", REQUESTS)
def test_every_response_carries_the_security_headers_cors_and_a_request_id(
    api: TestClient, name: str
) -> None:
    for attempt in ("first", "again, perhaps from the cache"):
        response = send(api, name)
        assert response.status_code < 500, (attempt, response.text)
        assert {key: response.headers.get(key) for key in SECURITY} == SECURITY
        assert response.headers["content-security-policy"]
        assert response.headers["access-control-allow-origin"] == "*"
        assert "access-control-allow-credentials" not in response.headers
        assert len(response.headers["x-request-id"]) == 32


def test_the_api_forbids_every_content_and_framing_the_docs_allow_their_own(
    api: TestClient,
) -> None:
    assert api.get("/v1/forces").headers["content-security-policy"] == API_CSP.decode()
    docs_policy = api.get("/docs").headers["content-security-policy"]
    assert docs_policy != API_CSP.decode()
    assert "frame-ancestors 'none'" in docs_policy


def test_a_page_on_any_origin_may_read_the_headers_a_client_needs(api: TestClient) -> None:
    response = api.get("/v1/forces", headers={"Origin": "https://elsewhere.example"})
    assert response.headers["access-control-allow-origin"] == "*"
    exposed = {
        h.strip().lower() for h in response.headers["access-control-expose-headers"].split(",")
    }
    assert {"etag", "link", "x-data-version", "x-request-id", "x-total-count"} <= exposed


@pytest.mark.parametrize("path", ["/v1/forces", "/v1/forces/jtf-north", "/nowhere"])
def test_a_preflight_allows_reads_with_the_headers_the_api_reads_and_no_credentials(
    api: TestClient, path: str
) -> None:
    response = api.options(path, headers=PREFLIGHT)
    assert response.status_code == 204
    assert response.content == b""
    assert response.headers["access-control-allow-origin"] == "*"
    assert "GET" in response.headers["access-control-allow-methods"]
    allowed = {
        h.strip().lower() for h in response.headers["access-control-allow-headers"].split(",")
    }
    assert {"accept", "if-none-match", "x-request-id"} <= allowed
    assert int(response.headers["access-control-max-age"]) > 0
    assert "access-control-allow-credentials" not in response.headers


def test_a_preflight_does_not_echo_the_headers_it_is_asked_about(api: TestClient) -> None:
    asked = ", ".join(f"x-made-up-{number}" for number in range(20_000))  # about 300 KB
    response = api.options(
        "/v1/forces", headers={**PREFLIGHT, "Access-Control-Request-Headers": asked}
    )
    assert response.status_code == 204
    assert "x-made-up" not in response.headers.get("access-control-allow-headers", "")
    assert len(str(response.headers)) < 2048


def test_an_options_request_that_is_no_preflight_is_not_allowed(api: TestClient) -> None:
    response = api.options("/v1/forces")
    assert response.status_code == 405
    assert response.headers["allow"] == "GET, HEAD"


def test_an_allow_list_lets_only_its_origins_read_cached_or_not(serve: OpenClient) -> None:
    client = serve(cors_origins=["https://allowed.example"])
    for _ in range(2):  # the second answer comes from the response cache
        allowed = client.get("/v1/forces", headers={"Origin": "https://allowed.example"})
        assert allowed.headers["access-control-allow-origin"] == "https://allowed.example"
        assert "Origin" in allowed.headers.get_list("vary")
        other = client.get("/v1/forces", headers={"Origin": "https://other.example"})
        assert other.status_code == 200
        assert "access-control-allow-origin" not in other.headers
        assert "Origin" in other.headers.get_list("vary")
    preflight = client.options("/v1/forces", headers=PREFLIGHT)
    assert preflight.status_code == 403
    assert preflight.headers["content-type"] == "application/problem+json"
    allowed_preflight = client.options(
        "/v1/forces", headers={**PREFLIGHT, "Origin": "https://allowed.example"}
    )
    assert allowed_preflight.status_code == 204
    assert allowed_preflight.headers["access-control-allow-origin"] == "https://allowed.example"


def test_the_allow_list_is_read_comma_separated(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MUSTER_CORS_ORIGINS", "https://a.example, https://b.example")
    assert Settings().cors_origins == ["https://a.example", "https://b.example"]


@pytest.mark.parametrize("incoming", ["abc-123", "0f9e.trace:span_1", "A" * 128])
def test_a_sane_incoming_request_id_is_kept(api: TestClient, incoming: str) -> None:
    assert (
        api.get("/v1/forces", headers={"X-Request-ID": incoming}).headers["x-request-id"]
        == incoming
    )


@pytest.mark.parametrize("incoming", ["", "has space", "a" * 129, "semi;colon", "ümlaut"])
def test_an_insane_incoming_request_id_is_replaced(api: TestClient, incoming: str) -> None:
    headers = {"X-Request-ID": incoming.encode()}
    generated = {api.get("/healthz", headers=headers).headers["x-request-id"] for _ in range(2)}
    assert len(generated) == 2
    assert all(len(request_id) == 32 and request_id != incoming for request_id in generated)


def test_each_request_is_one_json_access_log_line(
    api: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="muster.access")
    responses = [
        api.get("/v1/forces", headers={"X-Request-ID": "first"}),
        api.get("/v1/forces", headers={"If-None-Match": "*"}),
        api.delete("/v1/forces/jtf-north"),
    ]
    # A request's line is logged at the end of the event loop's turn that answered it, which may
    # come just after the client has its response.
    deadline = time.monotonic() + 5
    while len(_access_records(caplog)) < len(responses) and time.monotonic() < deadline:
        time.sleep(0.01)
    records = _access_records(caplog)
    assert len(records) == len(responses)
    for record, response in zip(records, responses, strict=True):
        line = json.loads(JsonFormatter().format(record))
        assert line["request_id"] == response.headers["x-request-id"]
        assert (line["method"], line["path"]) == (response.request.method, response.url.path)
        assert line["status"] == response.status_code
        assert line["duration_ms"] >= 0
        assert line["level"] == "info"
        assert line["time"].endswith("+00:00")
    assert [line["status"] for line in map(json.loads, map(JsonFormatter().format, records))] == [
        200,
        304,
        405,
    ]


def _access_records(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [record for record in caplog.records if record.name == "muster.access"]


@pytest.mark.parametrize("log_format", ["json", "text"])
def test_serve_logs_to_stderr_in_the_format_set(
    log_format: str, capsys: pytest.CaptureFixture[str]
) -> None:
    root = logging.getLogger()
    saved = (root.level, root.handlers[:])
    try:
        logging.config.dictConfig(log_config(Settings(log_format=log_format, log_level="WARNING")))
        logging.getLogger("muster.access").info("not at this level")
        logging.getLogger("muster").warning("a %s", "warning", extra={"fields": {"answer": 42}})
    finally:
        root.setLevel(saved[0])
        root.handlers[:] = saved[1]
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 1
    if log_format == "json":
        assert json.loads(lines[0]) | {"time": None} == {
            "time": None,
            "level": "warning",
            "logger": "muster",
            "message": "a warning",
            "answer": 42,
        }
    else:
        assert lines[0].endswith("WARNING muster: a warning")
