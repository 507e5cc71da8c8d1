"""The response cache keeps to its bound in bytes whatever is asked: many small answers to new
query strings count their keys, headers and the objects around them, not only their bodies."""

from fastapi.testclient import TestClient

from app.config import Settings
from app.main import create_app


def test_many_small_answers_stay_within_the_bound(seed_url: str) -> None:
    bound = 200_000
    # A long timeout: on a busy machine one of the thousand searches outlived the default 2 s
    # (503), which is not what this test is about.
    settings = Settings(database_url=seed_url, response_cache_bytes=bound, query_timeout_seconds=60)
    edge = create_app(settings)
    cache = edge.api.state.response_cache
    assert cache is not None
    padding = "é" * 190
    with TestClient(edge) as client:
        for number in range(1000):  # each a new query string, each an answer of no hits
            response = client.get("/v1/search", params={"q": f"zq{number}{padding}"})
            assert response.status_code == 200
            assert response.json()["total"] == 0
    assert 0 < cache.size <= bound
    key_bytes = len("q=zq0" + "%C3%A9" * 190)  # each entry's key alone, percent-encoded
    assert len(cache) * key_bytes <= bound
