"""Next links through the deployment README describes: nginx (deploy/nginx.conf) in front of
``muster serve`` replicas that share one database and no MUSTER_CURSOR_KEY."""

from collections.abc import Iterator

import httpx
import pytest

from tests.helpers import fill
from tests.robustness.proxy import Proxy, nginx_in_front, require_nginx
from tests.robustness.server import Served, muster_serve


@pytest.fixture(scope="module", autouse=True)
def _nginx_installed() -> None:
    require_nginx()


@pytest.fixture(scope="module")
def replicas(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Served, Served]]:
    url = f"sqlite:///{tmp_path_factory.mktemp('replicas') / 'muster.db'}"
    fill(url)
    logs = tmp_path_factory.mktemp("replica-logs")
    with pytest.MonkeyPatch.context() as patch:
        patch.delenv("MUSTER_CURSOR_KEY", raising=False)  # as compose.yaml runs them
        with muster_serve(url, logs) as first, muster_serve(url, logs) as second:
            yield first, second


@pytest.fixture(scope="module")
def front(replicas: tuple[Served, Served]) -> Iterator[Proxy]:
    with nginx_in_front(replicas[0].port) as proxy:
        yield proxy


def test_a_next_link_through_nginx_keeps_the_port_the_client_used(front: Proxy) -> None:
    page = httpx.get(f"{front.base_url}/v1/facts", params={"limit": 2})
    assert page.status_code == 200, page.text
    next_url = page.json()["next"]
    assert next_url.startswith(f"{front.base_url}/v1/facts?"), next_url
    following = httpx.get(next_url)
    assert following.status_code == 200, following.text
    assert following.json()["data"] != page.json()["data"]


def test_replicas_of_one_database_take_each_other_s_next_links(
    replicas: tuple[Served, Served],
) -> None:
    """Behind a round-robin proxy, any replica may get the request for the next page."""
    first, second = replicas
    host = {"Host": "api.example"}  # as a proxy passes it: the next links are built on it

    def get(replica: Served, target: str) -> httpx.Response:
        response = httpx.get(f"{replica.base_url}{target}", headers=host)
        assert response.status_code == 200, response.text
        return response

    page = get(first, "/v1/facts?limit=2")
    following = page.json()["next"].removeprefix("http://api.example")
    assert get(second, following).json() == get(first, following).json()
    assert get(second, "/v1/facts?limit=2").headers["etag"] == page.headers["etag"]
