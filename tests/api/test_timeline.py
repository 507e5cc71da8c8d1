"""/v1/timeline: the dated facts in date order, with from, to and about."""

import csv
import datetime as dt
import io
import json
from typing import Any

from fastapi.testclient import TestClient

from tests.api import seed


def timeline(client: TestClient, **params: object) -> list[dict[str, Any]]:
    response = client.get("/v1/timeline", params={"limit": 200, **params})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["total"] == len(body["data"])
    return list(body["data"])


def test_every_dated_fact_is_an_event_in_date_order(client: TestClient) -> None:
    events = timeline(client)
    facts = {fact["id"]: fact for fact in seed.dated_facts()}
    assert sorted(event["id"] for event in events) == sorted(facts)
    days = [dt.date.fromisoformat(event["date"]["date"]) for event in events]
    assert days == sorted(days)
    for event in events:
        fact = facts[event["id"]]
        assert event["date"] == {
            "date": seed.fact_day(fact).isoformat(),
            "precision": fact["date"].get("precision", "day"),
            "derivation": fact["date"].get("derivation"),
            "latest": latest.isoformat() if (latest := fact["date"].get("latest")) else None,
        }
        assert event["statement"] == fact["statement"]
        assert [ref["id"] for ref in event["about"]] == fact["about"]
        assert [c["quote"] for c in event["citations"]] == [c["quote"] for c in fact["citations"]]
        assert event["url"] == f"/v1/facts/{fact['id']}"


def test_the_events_the_issue_names_are_on_the_timeline(client: TestClient) -> None:
    events = timeline(client)
    about = {(event["date"]["date"], ref["id"]) for event in events for ref in event["about"]}
    assert ("2025-04-20", "insurrection-act") in about  # the decision deadline
    assert ("1807-01-01", "insurrection-act") in about  # enacted, from the us-code source
    assert ("1878-01-01", "posse-comitatus-act") in about
    assert {event["date"]["precision"] for event in events} >= {"day", "week", "year"}


def test_from_and_to_keep_the_events_of_those_days(client: TestClient) -> None:
    days = sorted({seed.fact_day(fact) for fact in seed.dated_facts()})
    middle = days[len(days) // 2]
    for start, end in [(middle, None), (None, middle), (days[1], days[-2]), (middle, middle)]:
        params = {name: day.isoformat() for name, day in (("from", start), ("to", end)) if day}
        expected = {
            fact["id"]
            for fact in seed.dated_facts()
            if (start is None or seed.fact_day(fact) >= start)
            and (end is None or seed.fact_day(fact) <= end)
        }
        assert expected, params
        assert {event["id"] for event in timeline(client, **params)} == expected, params


def test_from_and_to_keep_the_events_of_one_record_of_those_days(client: TestClient) -> None:
    """With about, the days are asked of the record's own index of its facts."""
    about = [fact for fact in seed.dated_facts() if "initial-wave" in fact["about"]]
    for start, end in [("2025-01-21", None), (None, "2025-01-21"), ("2025-01-20", "2025-01-20")]:
        params = {name: day for name, day in (("from", start), ("to", end)) if day}
        expected = {
            fact["id"]
            for fact in about
            if (start is None or seed.fact_day(fact).isoformat() >= start)
            and (end is None or seed.fact_day(fact).isoformat() <= end)
        }
        assert expected, params
        events = timeline(client, about="initial-wave", **params)
        assert {event["id"] for event in events} == expected, params


def test_about_keeps_the_events_about_one_record(client: TestClient) -> None:
    expected = {fact["id"] for fact in seed.dated_facts() if "insurrection-act" in fact["about"]}
    assert {event["id"] for event in timeline(client, about="insurrection-act")} == expected


def test_newest_first_is_the_reverse_order(client: TestClient) -> None:
    assert timeline(client, sort="-date") == timeline(client)[::-1]


def test_the_timeline_as_csv(client: TestClient) -> None:
    response = client.get("/v1/timeline", params={"format": "csv", "limit": 200})
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    rows = list(csv.DictReader(io.StringIO(response.text)))
    events = timeline(client)
    assert [row["id"] for row in rows] == [event["id"] for event in events]
    for row, event in zip(rows, events, strict=True):
        assert row["date_date"] == event["date"]["date"]
        assert row["date_precision"] == event["date"]["precision"]
        assert row["citation_count"] == str(len(event["citations"]))
        assert json.loads(row["citations"]) == event["citations"]


def test_a_bad_filter_is_a_400_problem_naming_it(client: TestClient) -> None:
    for params in [{"from": "yesterday"}, {"to": "2025-13-01"}, {"sort": "x"}]:
        response = client.get("/v1/timeline", params=params)
        assert response.status_code == 400, params
        assert [param["name"] for param in response.json()["invalid_params"]] == list(params)
