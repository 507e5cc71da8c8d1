"""The front page links every collection and every other top-level read of the API."""

from fastapi.testclient import TestClient


def test_every_parameterless_read_is_linked_and_every_link_answers(client: TestClient) -> None:
    index = client.get("/").json()
    paths = client.get("/openapi.json").json()["paths"]
    reads = {
        path
        for path, operations in paths.items()
        if "get" in operations and "{" not in path and path.startswith("/v1/")
    }
    linked = set(index["links"].values())
    assert reads - linked == set()
    for link in linked - {"/v1/search", "/v1/changes"}:  # these two need a parameter
        assert client.get(link).status_code == 200, link
    assert client.get("/v1/search", params={"q": "Marines"}).status_code == 200
    assert client.get("/v1/changes", params={"since": index["data_version"]}).status_code == 200
