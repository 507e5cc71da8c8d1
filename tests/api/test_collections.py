"""The collections: every record listed and detailed, the filters, paging and CSV."""

import csv
import datetime as dt
import io
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from fastapi.testclient import TestClient

from app.config import Settings
from app.db import make_engine
from app.ingest.check import read_dataset
from app.ingest.loader import load_dataset
from app.main import create_app
from app.services import records
from tests.api import seed
from tests.conftest import ARTICLE_BUNDLE

LIMITS = (1, 2, 7, 50, 200)
# Every list, and a query each that selects part of it.
LISTS = [f"/v1/{kind}" for kind in seed.LIST_KINDS] + [
    "/v1/facts?about=initial-wave",
    "/v1/facts?sort=-date",
    "/v1/facts?q=troops",
    "/v1/facts?q=troops&sort=-date",
    "/v1/facts?about=jtf-north&q=troops",
    "/v1/forces?sort=-name",
    "/v1/search?q=troops",
    "/v1/timeline",
    "/v1/activities?force=jtf-north",
    "/v1/activities?authority=posse-comitatus-act&sort=-name",
]


def everything(client: TestClient, path: str) -> dict[str, Any]:
    separator = "&" if "?" in path else "?"
    response = client.get(f"{path}{separator}limit=200")
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    assert body["next"] is None, path
    return body


def listed_ids(client: TestClient, path: str, **params: object) -> list[str]:
    response = client.get(path, params={"limit": 200, **params})
    assert response.status_code == 200, response.text
    return [item["id"] for item in response.json()["data"]]


def test_every_record_of_the_seed_is_listed_once(client: TestClient) -> None:
    for kind in seed.LIST_KINDS:
        body = everything(client, f"/v1/{kind}")
        assert sorted(item["id"] for item in body["data"]) == sorted(seed.ids(kind)), kind
        assert body["total"] == len(seed.ids(kind)), kind


def test_every_record_has_a_detail_page_that_answers_who_says_so(client: TestClient) -> None:
    for kind in seed.LIST_KINDS:
        for record in seed.records(kind):
            response = client.get(f"/v1/{kind}/{record['id']}")
            assert response.status_code == 200, (kind, record["id"])
            detail = response.json()
            assert detail["id"] == record["id"]
            assert detail["url"] == f"/v1/{kind}/{record['id']}"
            for fact in detail.get("facts", []):
                assert record["id"] in [ref["id"] for ref in fact["about"]]
                assert fact["citations"], fact["id"]


def test_a_detail_holds_every_fact_about_the_record(client: TestClient) -> None:
    for kind in seed.ENTITY_KINDS:
        for record in seed.records(kind):
            expected = {f["id"] for f in seed.records("facts") if record["id"] in f["about"]}
            detail = client.get(f"/v1/{kind}/{record['id']}").json()
            assert {fact["id"] for fact in detail["facts"]} == expected, record["id"]


def test_the_first_wave_says_how_many_marines_and_who_said_so(client: TestClient) -> None:
    member = seed.by_id("waves")["initial-wave"]["composition"][0]
    fact = seed.by_id("facts")[member["fact"]]
    wave = client.get("/v1/waves/initial-wave").json()
    share = wave["composition"][0]
    assert share["force"]["id"] == member["force"]
    assert share["quantity"]["value"] == fact["quantity"]["value"]
    cited = client.get(share["fact"]["url"]).json()["citations"]
    assert [c["attributed_to"] for c in cited] == [c["attributed_to"] for c in fact["citations"]]


def test_entity_filters_keep_the_records_with_that_value(client: TestClient) -> None:
    for kind, field in [
        ("waves", "status"),
        ("forces", "component"),
        ("forces", "kind"),
        ("activities", "status"),
        ("activities", "category"),
        ("authorities", "kind"),
        ("agencies", "level"),
    ]:
        values = {record.get(field) for record in seed.records(kind)} - {None}
        assert values, (kind, field)
        for value in values:
            expected = sorted(r["id"] for r in seed.records(kind) if r.get(field) == value)
            got = listed_ids(client, f"/v1/{kind}", **{field: value})
            assert sorted(got) == expected, (kind, field, value)


def test_relation_filters_keep_the_records_tied_to_that_record(client: TestClient) -> None:
    activities, waves = seed.records("activities"), seed.records("waves")
    for force in seed.ids("forces"):
        doing = sorted(a["id"] for a in activities if force in a.get("forces", []))
        assert listed_ids(client, "/v1/activities", force=force, sort="id") == doing, force
        tied = sorted(
            w["id"]
            for w in waves
            if w.get("joins") == force or force in [m["force"] for m in w.get("composition", [])]
        )
        assert listed_ids(client, "/v1/waves", force=force) == tied, force
    links = {
        (link["authority"], link["effect"]) for a in activities for link in a.get("authorities", [])
    }
    assert len({effect for _, effect in links}) > 1
    for authority, effect in links:
        governed = sorted(
            a["id"]
            for a in activities
            if {"authority": authority, "effect": effect} in a.get("authorities", [])
        )
        got = listed_ids(client, "/v1/activities", authority=authority, effect=effect, sort="id")
        assert got == governed, (authority, effect)
        bearing = {
            a["id"]
            for a in activities
            if authority in [x["authority"] for x in a.get("authorities", [])]
        }
        assert set(listed_ids(client, "/v1/activities", authority=authority)) == bearing


def test_the_activities_of_a_record_keep_the_list_s_order(client: TestClient) -> None:
    """A force's or an authority's activities (read from their links) come in the order of the
    whole list, by name and by id, either way; of both, those of the one and the other."""
    activities = seed.records("activities")
    queries: list[dict[str, str]] = [
        *({"force": force} for force in seed.ids("forces")),
        *({"authority": authority} for authority in seed.ids("authorities")),
        {"force": "jtf-north", "authority": "posse-comitatus-act"},
    ]
    for sort in ("name", "-name", "id", "-id"):
        whole = listed_ids(client, "/v1/activities", sort=sort)
        for params in queries:
            kept = {a["id"] for a in activities if _tied(a, params)}
            got = listed_ids(client, "/v1/activities", **params, sort=sort)
            assert got == [i for i in whole if i in kept], (params, sort)


def test_the_activities_of_an_effect_and_the_waves_of_a_force_keep_the_list_s_order(
    client: TestClient,
) -> None:
    """``effect`` alone keeps each activity that some authority bears on so, once however many
    do (two authorities prohibit arrests in the seed); ``force`` keeps each wave that the force
    is part of or that joins it. Either comes in the order of the whole list, each way, with its
    total."""
    activities, waves = seed.records("activities"), seed.records("waves")
    by_effect = {
        effect: {
            a["id"]
            for a in activities
            for link in a.get("authorities", [])
            if link["effect"] == effect
        }
        for effect in {link["effect"] for a in activities for link in a.get("authorities", [])}
    }
    assert any(
        len([x for x in a.get("authorities", []) if x["effect"] == "prohibits"]) > 1
        for a in activities
    )
    by_force = {
        force: {
            w["id"]
            for w in waves
            if w.get("joins") == force or force in [m["force"] for m in w.get("composition", [])]
        }
        for force in seed.ids("forces")
    }
    cases = [
        ("/v1/activities", "effect", by_effect),
        ("/v1/waves", "force", by_force),
    ]
    for path, name, kept_by in cases:
        for sort in ("name", "-name", "id", "-id"):
            whole = listed_ids(client, path, sort=sort)
            for value, kept in kept_by.items():
                body = client.get(path, params={name: value, "sort": sort, "limit": 200}).json()
                got = [item["id"] for item in body["data"]]
                assert got == [i for i in whole if i in kept], (path, value, sort)
                assert body["total"] == len(kept), (path, value, sort)


def test_a_force_with_an_effect_or_a_status_keeps_what_is_both(client: TestClient) -> None:
    """``force`` and ``effect`` (no authority) keep the activities the force does that some
    authority bears on so, once each; ``force`` and ``status`` keep the force's waves in that
    status. Each in the order of the whole list, with its total."""
    activities, waves = seed.records("activities"), seed.records("waves")

    def effects_on(activity: dict[str, Any]) -> set[str]:
        return {link["effect"] for link in activity.get("authorities", [])}

    def forces_of(wave: dict[str, Any]) -> set[str]:
        return {wave.get("joins"), *(member["force"] for member in wave.get("composition", []))}

    cases = [
        (
            "/v1/activities",
            {"force": force, "effect": effect},
            {
                a["id"]
                for a in activities
                if force in a.get("forces", []) and effect in effects_on(a)
            },
        )
        for force in seed.ids("forces")
        for effect in {effect for a in activities for effect in effects_on(a)}
    ] + [
        (
            "/v1/waves",
            {"force": force, "status": status},
            {w["id"] for w in waves if force in forces_of(w) and w["status"] == status},
        )
        for force in seed.ids("forces")
        for status in {w["status"] for w in waves}
    ]
    for path in ("/v1/activities", "/v1/waves"):  # each pair keeps some and not all, somewhere
        kept_counts = {len(kept) for at, _, kept in cases if at == path}
        assert max(kept_counts) > 0
        assert 0 in kept_counts
    for sort in ("name", "-id"):
        wholes = {
            path: listed_ids(client, path, sort=sort) for path in ("/v1/activities", "/v1/waves")
        }
        for path, params, kept in cases:
            body = client.get(path, params={**params, "sort": sort, "limit": 200}).json()
            assert [item["id"] for item in body["data"]] == [
                i for i in wholes[path] if i in kept
            ], (path, params, sort)
            assert body["total"] == len(kept), (path, params, sort)


def test_a_wave_that_joins_one_of_its_own_members_is_listed_once_for_it(
    database_url: str, seed_copy: Path
) -> None:
    waves_file = seed_copy / ARTICLE_BUNDLE / "waves.yaml"
    waves = yaml.safe_load(waves_file.read_text(encoding="utf-8"))
    wave = next(w for w in waves if w.get("joins") and w.get("composition"))
    member = {"force": wave["joins"], "fact": wave["size_fact"]}  # a quantity, as a member needs
    wave["composition"].append(member)
    waves_file.write_text(yaml.safe_dump(waves, allow_unicode=True, sort_keys=False), "utf-8")
    engine = make_engine(database_url)
    load_dataset(engine, read_dataset(seed_copy))
    engine.dispose()
    with TestClient(create_app(Settings(database_url=database_url))) as client:
        body = client.get("/v1/waves", params={"force": wave["joins"], "limit": 200}).json()
        listed = client.get(f"/v1/waves/{wave['id']}").json()
    ids = [item["id"] for item in body["data"]]
    assert ids.count(wave["id"]) == 1
    assert body["total"] == len(ids)
    members = [(m["force"]["id"], m["fact"]["id"]) for m in listed["composition"]]
    assert (member["force"], member["fact"]) in members


def _tied(activity: dict[str, Any], params: dict[str, str]) -> bool:
    authorities = [link["authority"] for link in activity.get("authorities", [])]
    return ("force" not in params or params["force"] in activity.get("forces", [])) and (
        "authority" not in params or params["authority"] in authorities
    )


def _dated_between(fact: dict[str, Any], start: str | None, end: str | None) -> bool:
    if not fact.get("date"):
        return False
    day = seed.fact_day(fact).isoformat()
    return (start is None or day >= start) and (end is None or day <= end)


def test_fact_filters_keep_the_facts_that_match(client: TestClient) -> None:
    facts = seed.records("facts")
    day = seed.fact_day(seed.dated_facts()[0])
    cases: list[tuple[dict[str, str], Callable[[dict[str, Any]], bool]]] = [
        ({"about": "operation-lone-star"}, lambda f: "operation-lone-star" in f["about"]),
        ({"kind": "quantity"}, lambda f: f["kind"] == "quantity"),
        ({"status": "possible"}, lambda f: f["status"] == "possible"),
        ({"rank": "normal"}, lambda f: f.get("rank", "normal") == "normal"),
        ({"source": "us-code"}, lambda f: f["source"] == "us-code"),
        # Once each, though some cite the article twice or more.
        ({"source": ARTICLE_BUNDLE}, lambda f: f["source"] == ARTICLE_BUNDLE),
        (
            {"source": ARTICLE_BUNDLE, "to": "2025-01-21"},
            lambda f: f["source"] == ARTICLE_BUNDLE and _dated_between(f, None, "2025-01-21"),
        ),
        (
            {"source": ARTICLE_BUNDLE, "about": "initial-wave"},
            lambda f: f["source"] == ARTICLE_BUNDLE and "initial-wave" in f["about"],
        ),
        ({"from": day.isoformat()}, lambda f: bool(f.get("date")) and seed.fact_day(f) >= day),
        ({"to": day.isoformat()}, lambda f: bool(f.get("date")) and seed.fact_day(f) <= day),
        (
            {"about": "initial-wave", "from": "2025-01-21"},
            lambda f: "initial-wave" in f["about"] and _dated_between(f, "2025-01-21", None),
        ),
        (
            {"about": "initial-wave", "to": "2025-01-21"},
            lambda f: "initial-wave" in f["about"] and _dated_between(f, None, "2025-01-21"),
        ),
        ({"q": "Marines Pendleton"}, lambda f: _says(f, "marines") and _says(f, "pendleton")),
        (
            {"q": "troops", "about": "jtf-north"},
            lambda f: _says(f, "troops") and "jtf-north" in f["about"],
        ),
        (
            {"q": "troops", "kind": "quantity"},
            lambda f: _says(f, "troops") and f["kind"] == "quantity",
        ),
    ]
    for params, keep in cases:
        expected = sorted(fact["id"] for fact in facts if keep(fact))
        assert expected, params
        assert sorted(listed_ids(client, "/v1/facts", **params)) == expected, params


def test_facts_that_hold_words_are_listed_in_the_order_of_telling(client: TestClient) -> None:
    """Words keep the list's order: the facts a list with words holds (whose default order is
    the search index's own) come in the order of the same list without the words."""
    for params in [
        {"q": "troops"},
        {"q": "the"},
        {"q": "t"},
        {"q": "troops", "about": "jtf-north"},
    ]:
        holding = set(listed_ids(client, "/v1/facts", **params, sort="id"))
        assert holding, params
        unfiltered = {name: value for name, value in params.items() if name != "q"}
        in_order = [i for i in listed_ids(client, "/v1/facts", **unfiltered) if i in holding]
        assert listed_ids(client, "/v1/facts", **params) == in_order, params


def paged_ids(client: TestClient, path: str, **params: object) -> list[str]:
    """The ids of every page of a list, following its next links, seven at a time."""
    ids: list[str] = []
    response = client.get(path, params={"limit": 7, **params})
    while True:
        assert response.status_code == 200, response.text
        body = response.json()
        ids += [item["id"] for item in body["data"]]
        if body["next"] is None:
            return ids
        response = client.get(body["next"])


# Held by a fifth of the facts or more, so that a page of them in another order is read by a
# walk of the order's index (records.Walk); and held by fewer, so found, then sorted.
WALKED_WORDS = ("the", "troops")
FOUND_WORDS = ("Marines", "Insurrection Act")
# Each filter a walk passes facts by: the order's own index (about's, a range of days), or a look
# at each fact (kind, status, source, the day it was known on).
FACT_FILTERS: list[dict[str, str]] = [
    {},
    {"kind": "quantity"},
    {"about": "initial-wave"},
    {"status": "reported"},
    {"source": "us-code"},
    {"to": "2025-01-21"},
    {"as_of": "2025-01-21"},
]


@pytest.mark.parametrize("sort", ["date", "-date", "id", "-id"])
def test_facts_that_hold_words_keep_the_order_a_sort_names(client: TestClient, sort: str) -> None:
    """In another order than the default, the facts that hold the words come as the same list
    without the words orders them, page after page, with every filter."""
    for filters in FACT_FILTERS:
        in_order = paged_ids(client, "/v1/facts", sort=sort, **filters)
        walked = False
        for words in (*WALKED_WORDS, *FOUND_WORDS):
            holding = set(listed_ids(client, "/v1/facts", q=words, **filters))
            expected = [fact_id for fact_id in in_order if fact_id in holding]
            listed = paged_ids(client, "/v1/facts", q=words, sort=sort, **filters)
            assert listed == expected, (words, filters)
            walked |= bool(holding) and words in WALKED_WORDS
        assert walked, filters  # a walked page with this filter, not only empty ones


@pytest.mark.parametrize("sort", ["source", "date", "-id"])
def test_facts_that_hold_words_are_the_same_list_walked_or_found(
    seeded_database_url: str, monkeypatch: pytest.MonkeyPatch, sort: str
) -> None:
    """Walked along the other filters' facts, or found by the words, a list of the facts that
    hold some words is the same, page after page, and a cursor of one way goes on in the other:
    in the order of telling, a fact's place in the search index is its told_at."""

    def walk_always(always: bool) -> None:
        monkeypatch.setattr(records, "FEW_SHARE", 1.0 if always else -1.0)
        monkeypatch.setattr(records, "WALK_SHARE", 0.0 if always else 2.0)

    def begun_one_way_ended_the_other(
        client: TestClient, params: dict[str, str], walked_first: bool
    ) -> list[str]:
        walk_always(walked_first)
        first = client.get("/v1/facts", params={"limit": 2, **params}).json()
        walk_always(not walked_first)
        ids, next_page = [item["id"] for item in first["data"]], first["next"]
        while next_page is not None:
            body = client.get(next_page).json()
            ids += [item["id"] for item in body["data"]]
            next_page = body["next"]
        return ids

    settings = Settings(database_url=seeded_database_url, response_cache=False)
    with TestClient(create_app(settings)) as client:
        for filters in FACT_FILTERS:
            for words in (*WALKED_WORDS, *FOUND_WORDS):
                params = {"q": words, "sort": sort, **filters}
                walk_always(False)
                found = paged_ids(client, "/v1/facts", **params)
                walk_always(True)
                assert paged_ids(client, "/v1/facts", **params) == found, params
                for walked_first in (False, True):
                    ended = begun_one_way_ended_the_other(client, params, walked_first)
                    assert ended == found, (params, walked_first)


def test_the_words_above_take_both_ways_to_a_page(client: TestClient) -> None:
    every_fact = client.get("/v1/facts", params={"limit": 1}).json()["total"]
    for words in (*WALKED_WORDS, *FOUND_WORDS):
        holding = client.get("/v1/facts", params={"q": words, "limit": 1}).json()["total"]
        walked = holding >= records.WALK_SHARE * every_fact
        assert holding > 0, words
        assert walked == (words in WALKED_WORDS), (words, holding, every_fact)


def _says(fact: dict[str, Any], word: str) -> bool:
    texts = [fact["statement"], *(citation["quote"] for citation in fact["citations"])]
    return word in " ".join(texts).casefold()


def test_sort_orders_by_the_named_field_either_way(client: TestClient) -> None:
    for kind in seed.ENTITY_KINDS:
        names = {record["id"]: record["name"].casefold() for record in seed.records(kind)}
        by_name = listed_ids(client, f"/v1/{kind}", sort="name")
        assert [names[i] for i in by_name] == sorted(names.values()), kind
        assert listed_ids(client, f"/v1/{kind}", sort="-id") == sorted(names, reverse=True)
    dated = listed_ids(client, "/v1/facts", sort="date")
    days = {fact["id"]: fact.get("date") and seed.fact_day(fact) for fact in seed.records("facts")}
    keys = [days[i] or dt.date.min for i in dated]
    assert keys == sorted(keys)


def test_paging_through_at_any_limit_yields_every_item_once(client: TestClient) -> None:
    for path in LISTS:
        whole = everything(client, path)
        expected = [(item.get("kind"), item["id"]) for item in whole["data"]]
        for limit in LIMITS:
            seen: list[tuple[str | None, str]] = []
            separator = "&" if "?" in path else "?"
            url: str | None = f"{path}{separator}limit={limit}"
            while url is not None:
                response = client.get(url)
                assert response.status_code == 200, (url, response.text)
                page = response.json()
                assert len(page["data"]) <= limit
                assert page["total"] == whole["total"]
                seen += [(item.get("kind"), item["id"]) for item in page["data"]]
                link = response.headers.get("link")
                assert link == (f'<{page["next"]}>; rel="next"' if page["next"] else None)
                url = page["next"]
            assert seen == expected, (path, limit)


def test_a_cursor_belongs_to_its_query(client: TestClient) -> None:
    cursor = client.get("/v1/facts", params={"limit": 1}).json()["next"].split("cursor=")[1]
    for params in [{"cursor": cursor, "kind": "event"}, {"cursor": "not-a-cursor"}]:
        response = client.get("/v1/facts", params=params)
        assert response.status_code == 400, params
        assert response.json()["type"].endswith("/invalid-cursor")


def test_every_list_as_csv_holds_the_same_rows(client: TestClient) -> None:
    for path in LISTS:
        whole = everything(client, path)
        separator = "&" if "?" in path else "?"
        by_parameter = client.get(f"{path}{separator}limit=200&format=csv")
        by_accept = client.get(f"{path}{separator}limit=200", headers={"Accept": "text/csv"})
        assert by_parameter.content == by_accept.content, path
        assert by_parameter.headers["content-type"] == "text/csv; charset=utf-8"
        rows = list(csv.DictReader(io.StringIO(by_parameter.text)))
        assert [row["id"] for row in rows] == [item["id"] for item in whole["data"]], path


def test_csv_flattens_quantities_and_citations(client: TestClient) -> None:
    waves = everything(client, "/v1/waves")["data"]
    rows = list(csv.DictReader(io.StringIO(client.get("/v1/waves?format=csv").text)))
    for wave, row in zip(waves, rows, strict=True):
        size = wave["size"] or {}
        for field in ("value", "min", "max", "text"):
            shown = size.get(field)
            assert row[f"size_{field}"] == ("" if shown is None else str(shown)), wave["id"]
    facts = everything(client, "/v1/facts")["data"]
    rows = list(csv.DictReader(io.StringIO(client.get("/v1/facts?format=csv&limit=200").text)))
    for fact, row in zip(facts, rows, strict=True):
        assert row["citation_count"] == str(len(fact["citations"]))
        assert json.loads(row["citations"]) == fact["citations"]
        assert json.loads(row["about"]) == [ref["id"] for ref in fact["about"]]
