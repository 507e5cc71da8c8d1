"""CSV a spreadsheet or pandas reads back as it was: lists as JSON arrays, every citation kept,
no cell a spreadsheet would run as a formula, one table per CSV, a detail's row like its list's."""

import csv
import io
import json

from fastapi.testclient import TestClient

from app.api.formats import to_csv


def rows(client: TestClient, path: str) -> list[dict[str, str]]:
    response = client.get(path)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    return list(csv.DictReader(io.StringIO(response.text)))


def test_a_list_cell_is_a_json_array_that_reads_back_whatever_it_holds() -> None:
    aliases = ["semi;colon alias", "comma, alias", 'quote " alias']
    written = to_csv([{"id": "x", "aliases": aliases}], ["id", "aliases"]).decode()
    [row] = csv.DictReader(io.StringIO(written))
    assert json.loads(row["aliases"]) == aliases


def test_references_in_a_list_cell_are_their_ids(client: TestClient) -> None:
    wave = client.get("/v1/waves/initial-wave").json()
    [row] = [row for row in rows(client, "/v1/waves?format=csv") if row["id"] == "initial-wave"]
    assert json.loads(row["tasks"]) == [task["id"] for task in wave["tasks"]]
    assert json.loads(row["aliases"]) == wave["aliases"]


def test_a_list_cell_keeps_every_field_of_its_items(client: TestClient) -> None:
    """A wave's dates keep their days, its composition its numbers, an activity's authorities
    what each does (permits, prohibits): a cell names references by id and drops nothing else."""
    wave = client.get("/v1/waves/initial-wave").json()
    [row] = [row for row in rows(client, "/v1/waves?format=csv") if row["id"] == "initial-wave"]
    dates = json.loads(row["dates"])
    assert [(one["event"], one["date"]) for one in dates] == [
        (one["event"], one["date"]) for one in wave["dates"]
    ]
    composition = json.loads(row["composition"])
    assert [(share["force"], share["quantity"], share["fact"]) for share in composition] == [
        (share["force"]["id"], share["quantity"], share["fact"]["id"])
        for share in wave["composition"]
    ]
    activities = client.get("/v1/activities?limit=200").json()["data"]
    cells = {row["id"]: row for row in rows(client, "/v1/activities?format=csv&limit=200")}
    governed = [activity for activity in activities if activity["authorities"]]
    assert governed
    for activity in governed:
        assert json.loads(cells[activity["id"]]["authorities"]) == [
            {"authority": one["authority"]["id"], "effect": one["effect"]}
            for one in activity["authorities"]
        ]


def test_every_citation_is_kept(client: TestClient) -> None:
    facts = client.get("/v1/facts", params={"limit": 200}).json()["data"]
    by_id = {row["id"]: row for row in rows(client, "/v1/facts?format=csv&limit=200")}
    assert any(len(fact["citations"]) > 1 for fact in facts)
    for fact in facts:
        assert json.loads(by_id[fact["id"]]["citations"]) == fact["citations"]


def test_a_cell_a_spreadsheet_would_run_as_a_formula_is_neutralised() -> None:
    texts = ["=HYPERLINK(1)", "+1+1", "-2+3", "@SUM(A1)", "\tx", "plain"]
    written = to_csv([{"id": text} for text in texts], ["id"]).decode()
    read = [row["id"] for row in csv.DictReader(io.StringIO(written))]
    assert read == ["'=HYPERLINK(1)", "'+1+1", "'-2+3", "'@SUM(A1)", "'\tx", "plain"]


def test_a_detail_csv_has_its_lists_columns(client: TestClient) -> None:
    for path in ("/v1/forces", "/v1/waves", "/v1/agencies", "/v1/sources", "/v1/facts"):
        listed = client.get(f"{path}?format=csv&limit=1").text.splitlines()[0]
        item = client.get(f"{path}?limit=1").json()["data"][0]
        detail = client.get(f"{path}/{item['id']}?format=csv").text.splitlines()
        assert detail[0] == listed, path
        assert len(detail) == 2, path


def test_the_posture_csv_holds_one_table_a_part_names(client: TestClient) -> None:
    posture = client.get("/v1/posture").json()
    figures = rows(client, "/v1/posture?format=csv")
    totals = rows(client, "/v1/posture?format=csv&part=totals")
    assert len(figures) == len(posture["figures"])
    assert len(totals) == len(posture["totals"])
    assert "in_words" not in figures[0]
    assert "quantity_in_words" in totals[0]
    assert "wave" not in totals[0]
