"""/v1/posture: the deployment as known on a day, its derived totals, and how ranks decide
between sources."""

import csv
import io
import json
from collections.abc import Iterator
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
from app.models.public import Posture
from tests.api import seed
from tests.conftest import ARTICLE_BUNDLE
from tests.data import LATER_FACT, LATER_REPORT, add_later_report, edit_fact

PUBLISHED = "2025-01-22"
ARTICLE_FACT = "fact-initial-wave-1500"
STANDING_FACT = "fact-standing-presence-2200"


def posture(client: TestClient, **params: str) -> dict[str, Any]:
    response = client.get("/v1/posture", params=params)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def figure_of(body: dict[str, Any], wave: str, part: str = "size") -> dict[str, Any]:
    [figure] = [f for f in body["figures"] if f["wave"]["id"] == wave and f["part"] == part]
    assert isinstance(figure, dict)
    return figure


def stated(fact_id: str) -> dict[str, Any]:
    quantity: dict[str, Any] = seed.by_id("facts")[fact_id]["quantity"]
    return quantity


def test_how_many_active_duty_troops_were_at_the_border_and_how_sure(client: TestClient) -> None:
    body = posture(client, as_of=PUBLISHED)
    [in_place] = [
        f for f in body["figures"] if f["status"] == "in_place" and f["component"] == "active_duty"
    ]
    assert in_place["wave"]["id"] == "standing-presence"
    assert in_place["force"]["id"] == "jtf-north"
    assert in_place["fact"]["id"] == STANDING_FACT
    quantity = stated(STANDING_FACT)
    assert in_place["quantity"]["value"] == quantity["value"]
    assert in_place["quantity"]["approximate"] is True  # "roughly": that is how sure
    assert in_place["quantity"]["text"] == quantity["text"]
    [citation] = in_place["citations"]
    assert quantity["text"] in citation["quote"]
    assert citation["attributed_to"] is None  # the reporters say it themselves
    assert in_place["rank"] == "normal"
    assert in_place["alternatives"] == []


def test_the_total_once_the_initial_wave_arrives_is_derived_not_typed_in(
    client: TestClient,
) -> None:
    body = posture(client, as_of=PUBLISHED)
    [total] = body["totals"]
    standing, initial = stated(STANDING_FACT), stated(ARTICLE_FACT)
    assert total["component"] == "active_duty"
    assert total["statuses"] == ["in_place", "ordered"]
    derived = total["quantity"]
    assert derived["derived"] is True
    assert derived["value"] == standing["value"] + initial["value"]
    assert (derived["min"], derived["max"]) == (None, None)
    assert derived["approximate"] is True
    assert derived["text"] == f"{standing['text']} + {initial['text']}"
    assert derived["in_words"] == f"roughly {standing['value'] + initial['value']:,} troops"
    assert derived["derived_from"] == [STANDING_FACT, ARTICLE_FACT]
    assert derived["derived_from_count"] == 2
    assert "approximate, because" in derived["rule"]
    assert total["citation_count"] == len(total["citations"])
    quotes = {c["quote"] for c in total["citations"]}
    for fact_id in derived["derived_from"]:
        assert {c["quote"] for c in seed.by_id("facts")[fact_id]["citations"]} <= quotes


def test_every_wave_is_there_in_status_order_with_the_figure_its_fact_gives(
    client: TestClient,
) -> None:
    body = posture(client, as_of=PUBLISHED)
    waves = seed.by_id("waves")
    sizes = [f for f in body["figures"] if f["part"] == "size"]
    assert sorted(f["wave"]["id"] for f in sizes) == sorted(waves)
    order = ["in_place", "ordered", "requested", "possible", "expected"]
    statuses = [f["status"] for f in body["figures"]]
    assert statuses == sorted(statuses, key=order.index)
    assert set(statuses) == set(order)
    for figure in sizes:
        wave = waves[figure["wave"]["id"]]
        assert figure["status"] == wave["status"]
        if wave["size_fact"] is None:
            # A wave of unknown size cites what the source does say of it.
            assert figure["quantity"] is None
            fact = seed.by_id("facts")[figure["fact"]["id"]]
            assert fact["about"][0] == wave["id"]
            assert [c["quote"] for c in figure["citations"]] == [
                c["quote"] for c in fact["citations"]
            ]
        else:
            assert figure["fact"]["id"] == wave["size_fact"]
            assert figure["quantity"] == {
                "min": None,
                "max": None,
                "per": None,
                "value": None,
                "approximate": False,
            } | stated(wave["size_fact"])
    # A force's share is listed beside its wave's size.
    marines = figure_of(body, "initial-wave", part="share")
    assert marines["force"]["id"] == "marines-camp-pendleton"
    assert marines["component"] == "active_duty"
    assert marines["quantity"]["text"] == stated("fact-initial-wave-500-marines")["text"]


def test_the_day_decides_what_is_known(client: TestClient) -> None:
    before = posture(client, as_of="2025-01-21")
    assert before["as_of"] == "2025-01-21"
    assert before["figures"] == []  # the article's facts do not exist yet
    assert before["totals"] == []
    default = posture(client)
    assert default["as_of"] == PUBLISHED  # the newest report's day
    assert default == posture(client, as_of=PUBLISHED)


def test_the_posture_as_csv_has_a_row_per_figure_and_per_total(client: TestClient) -> None:
    body = posture(client, as_of=PUBLISHED)

    def table(part: str) -> list[dict[str, str]]:
        response = client.get(
            "/v1/posture", params={"as_of": PUBLISHED, "format": "csv", "part": part}
        )
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/csv")
        return list(csv.DictReader(io.StringIO(response.text)))

    figures = table("figures")
    assert len(figures) == len(body["figures"])
    for row, figure in zip(figures, body["figures"], strict=True):
        assert row["wave"] == figure["wave"]["id"]
        assert row["fact"] == figure["fact"]["id"]
        assert json.loads(row["citations"]) == figure["citations"]
    [total] = table("totals")
    assert int(total["quantity_value"]) == body["totals"][0]["quantity"]["value"]
    assert total["quantity_derived"] == "true"
    derived_from = body["totals"][0]["quantity"]["derived_from"]
    assert json.loads(total["quantity_derived_from"]) == derived_from


def test_a_bad_parameter_is_a_400_problem(client: TestClient) -> None:
    for query, name in [
        ("as_of=yesterday", "as_of"),
        ("as_of=2025-02-30", "as_of"),
        ("asof=2025-01-22", "asof"),
    ]:
        response = client.get(f"/v1/posture?{query}")
        assert response.status_code == 400, query
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["invalid_params"][0]["name"] == name


# Two sources side by side: the article, and the invented later report of tests/data.


@pytest.fixture
def two_sources(seed_copy: Path) -> Path:
    add_later_report(seed_copy)
    return seed_copy


def serve(database_url: str, bundles: Path) -> Iterator[TestClient]:
    engine = make_engine(database_url)
    load_dataset(engine, read_dataset(bundles))
    engine.dispose()
    with TestClient(create_app(Settings(database_url=database_url))) as client:
        yield client


@pytest.fixture
def both(database_url: str, two_sources: Path) -> Iterator[TestClient]:
    yield from serve(database_url, two_sources)


def test_a_later_report_does_not_exist_before_its_day(both: TestClient) -> None:
    initial = figure_of(posture(both, as_of="2025-01-23"), "initial-wave")
    assert initial["fact"]["id"] == ARTICLE_FACT
    assert initial["alternatives"] == []


def test_a_preferred_later_figure_stands_and_the_article_s_is_listed_beside_it(
    both: TestClient,
) -> None:
    later = seed_fact_of_later_report()
    body = posture(both, as_of="2025-01-24")
    initial = figure_of(body, "initial-wave")
    assert initial["fact"]["id"] == LATER_FACT
    assert initial["rank"] == "preferred"
    assert initial["rank_reason"] == later["rank_reason"]
    assert initial["quantity"]["text"] == later["quantity"]["text"]
    assert initial["citations"][0]["source_id"] == "test-later-report"
    [alternative] = initial["alternatives"]
    assert alternative["id"] == ARTICLE_FACT
    assert alternative["citations"][0]["source_id"] == "cnn-2025-01-22"
    [total] = body["totals"]
    standing = stated(STANDING_FACT)
    assert total["quantity"]["value"] == standing["value"] + later["quantity"]["value"]
    assert total["quantity"]["derived_from"] == [STANDING_FACT, LATER_FACT]
    assert total["quantity"]["text"] == f"{standing['text']} + {later['quantity']['text']}"


def seed_fact_of_later_report() -> dict[str, Any]:
    facts = yaml.safe_load((LATER_REPORT / "facts.yaml").read_text(encoding="utf-8"))
    [fact] = [fact for fact in facts if fact["id"] == LATER_FACT]
    return dict(fact)


@pytest.mark.parametrize(
    ("later_rank", "article_rank", "stands", "set_aside"),
    [
        # With none preferred, the newest report stands.
        ({"rank": "normal", "rank_reason": None}, {}, LATER_FACT, ARTICLE_FACT),
        # A deprecated fact never stands, however new.
        (
            {"rank": "deprecated", "rank_reason": "withdrawn by its publisher"},
            {},
            ARTICLE_FACT,
            LATER_FACT,
        ),
        # A preferred fact stands over a newer normal one.
        ({"rank": "normal", "rank_reason": None}, {"rank": "preferred"}, ARTICLE_FACT, LATER_FACT),
    ],
    ids=["newest-normal", "deprecated-later", "preferred-older"],
)
def test_the_posture_follows_the_ranks(
    database_url: str,
    two_sources: Path,
    later_rank: dict[str, str | None],
    article_rank: dict[str, str],
    stands: str,
    set_aside: str,
) -> None:
    edit_fact(two_sources / "later-report", LATER_FACT, **later_rank)
    if article_rank:
        edit_fact(two_sources / ARTICLE_BUNDLE, ARTICLE_FACT, **article_rank)
    for client in serve(database_url, two_sources):
        initial = figure_of(posture(client, as_of="2025-01-24"), "initial-wave")
        assert initial["fact"]["id"] == stands
        [alternative] = initial["alternatives"]
        assert alternative["id"] == set_aside
        ranks: dict[str, dict[str, str | None]] = {
            LATER_FACT: later_rank,
            ARTICLE_FACT: {"rank": "normal", **article_rank},
        }
        assert alternative["rank"] == ranks[set_aside]["rank"]
        assert alternative["rank_reason"] == ranks[set_aside].get("rank_reason")


def test_the_figures_come_in_pages_of_waves_and_the_totals_on_every_page(
    client: TestClient,
) -> None:
    whole = client.get("/v1/posture").json()
    assert whole["next"] is None
    figures, url, pages = [], "/v1/posture?limit=2", 0
    while url:
        response = client.get(url)
        assert response.status_code == 200
        page = response.json()
        assert len({figure["wave"]["id"] for figure in page["figures"]}) <= 2
        assert page["totals"] == whole["totals"]
        figures += page["figures"]
        url, pages = page["next"], pages + 1
    assert figures == whole["figures"]
    assert pages == -(-len({figure["wave"]["id"] for figure in figures}) // 2)


@pytest.mark.parametrize("as_of", [None, "2025-01-21"], ids=["newest", "before-any-report"])
def test_every_page_of_figures_holds_some(client: TestClient, as_of: str | None) -> None:
    """Pages are of the waves known on the day: a wave no fact known then is about is not there
    yet, so no page is empty but a first one, when no wave is known at all."""
    url: str | None = "/v1/posture?limit=1" + (f"&as_of={as_of}" if as_of else "")
    pages = []
    while url:
        page = client.get(url).json()
        pages.append(page["figures"])
        url = page["next"]
    if as_of is None:
        assert all(pages)
        assert len(pages) > 1
    else:
        assert pages == [[]]


@pytest.mark.parametrize("format_", ["csv", "jsonl"])
def test_the_totals_table_is_whole_on_its_one_page(client: TestClient, format_: str) -> None:
    """The totals are over every wave, so the table of them has no next page: following one
    would repeat every row."""
    whole = client.get("/v1/posture").json()
    totals = client.get(f"/v1/posture?format={format_}&part=totals&limit=1")
    assert totals.status_code == 200
    assert "link" not in totals.headers
    lines = totals.text.splitlines()
    assert len(lines) == len(whole["totals"]) + (format_ == "csv")  # and the header
    figures = client.get(f"/v1/posture?format={format_}&part=figures&limit=1")
    assert 'rel="next"' in figures.headers["link"]


def test_the_posture_says_its_data_version_in_json_and_csv(client: TestClient) -> None:
    version = client.get("/").json()["data_version"]
    for params in ({}, {"format": "csv"}, {"format": "csv", "part": "totals"}):
        response = client.get("/v1/posture", params=params)
        assert response.status_code == 200
        assert response.headers["x-data-version"] == version, params


@pytest.mark.parametrize("as_of", [None, "2025-01-21", "2025-01-23", "2025-01-24"])
def test_the_posture_is_what_its_model_says_key_for_key(
    both: TestClient, as_of: str | None
) -> None:
    """The posture is put together from the stored documents, not from its models: each answer
    (whole, and a wave a page with its next links), read into ``Posture`` and written out again,
    is the same JSON, in the same order. On 2025-01-24 a figure has alternatives."""
    params = {"as_of": as_of} if as_of else {}
    for first_page in (params, {**params, "limit": "1"}):
        response = both.get("/v1/posture", params=first_page)
        while True:
            assert response.status_code == 200, response.text
            rewritten = Posture.model_validate_json(response.content).model_dump(mode="json")
            assert json.dumps(rewritten) == json.dumps(response.json())
            if response.json()["next"] is None:
                break
            response = both.get(response.json()["next"])


@pytest.mark.parametrize("part", ["figures", "totals"])
def test_each_column_of_the_posture_csv_is_named_once(client: TestClient, part: str) -> None:
    """A total counts all its citations and shows the first few: its CSV has the one count, the
    total's own, not a second column of the citations shown."""
    response = client.get("/v1/posture", params={"format": "csv", "part": part})
    assert response.status_code == 200
    header = next(csv.reader(io.StringIO(response.text)))
    assert len(header) == len(set(header)), header
    rows = list(csv.DictReader(io.StringIO(response.text)))
    for row, item in zip(rows, posture(client)[part], strict=True):
        assert int(row["citation_count"]) == item.get("citation_count", len(item["citations"]))
