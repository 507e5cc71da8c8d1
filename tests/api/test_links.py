"""Next links a client can follow as they are: absolute URLs on the address the client used,
behind a proxy only when the proxy is one the settings trust."""

import httpx
import pytest
from fastapi.testclient import TestClient

from tests.robustness.server import muster_serve


def test_next_and_link_are_absolute_urls_on_the_address_asked(client: TestClient) -> None:
    response = client.get("/v1/facts", params={"limit": 2, "kind": "event"})
    next_url = response.json()["next"]
    assert next_url.startswith("http://testserver/v1/facts?")
    assert response.headers["link"] == f'<{next_url}>; rel="next"'
    following = client.get(next_url)
    assert following.status_code == 200
    assert {item["kind"] for item in following.json()["data"]} == {"event"}


def test_a_served_next_link_can_be_followed_by_httpx_as_it_is(served: str) -> None:
    with httpx.Client() as http:
        first = http.get(f"{served}/v1/forces", params={"limit": 3})
        assert first.links["next"]["url"].startswith(f"{served}/v1/forces?")
        second = http.get(first.links["next"]["url"])
    assert second.status_code == 200
    seen = [item["id"] for item in first.json()["data"] + second.json()["data"]]
    assert len(set(seen)) == 6


@pytest.mark.parametrize(
    ("trusted", "scheme"), [("127.0.0.1", "https"), ("192.0.2.1", "http")], ids=["trusted", "not"]
)
def test_forwarded_headers_count_only_from_a_trusted_proxy(
    served_database: str,
    tmp_path,
    monkeypatch: pytest.MonkeyPatch,
    trusted: str,
    scheme: str,
) -> None:
    monkeypatch.setenv("MUSTER_FORWARDED_ALLOW_IPS", trusted)
    with muster_serve(served_database, tmp_path) as server:
        response = httpx.get(
            f"{server.base_url}/v1/forces",
            params={"limit": 1},
            headers={"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.9"},
        )
    assert response.json()["next"].startswith(f"{scheme}://127.0.0.1:{server.port}/v1/forces?")


def test_a_cached_page_keeps_the_links_of_the_address_each_client_asked(
    client: TestClient,
) -> None:
    for host in ("one.example", "two.example", "one.example"):
        response = client.get("/v1/facts?limit=1", headers={"Host": host})
        assert response.json()["next"].startswith(f"http://{host}/v1/facts?")
