"""What the document says a parameter takes is what the server takes."""

from fastapi.testclient import TestClient

from app.main import create_api


def test_a_cursor_is_documented_in_the_characters_the_server_issues(client: TestClient) -> None:
    spec = create_api().openapi()
    [cursor] = [p for p in spec["paths"]["/v1/facts"]["get"]["parameters"] if p["name"] == "cursor"]
    issued = client.get("/v1/facts?limit=1").json()["next"].split("cursor=")[1]
    assert cursor["schema"]["pattern"] == "^[A-Za-z0-9_-]*$"
    assert set(issued) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-")
    assert client.get("/v1/facts", params={"cursor": "é" * 10}).status_code == 400


def test_from_later_than_to_is_refused(client: TestClient) -> None:
    for path in ("/v1/facts", "/v1/timeline"):
        response = client.get(path, params={"from": "2025-02-01", "to": "2025-01-01"})
        assert response.status_code == 400, path
        assert [p["name"] for p in response.json()["invalid_params"]] == ["from"]
        same_day = client.get(path, params={"from": "2025-01-22", "to": "2025-01-22"})
        assert same_day.status_code == 200
