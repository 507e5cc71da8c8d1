"""The synthetic bundles of bench/synthetic.py at 12x, loaded and read back over HTTP.

A test of correctness at a scale beyond the seed's, not of speed (bench/scale.py measures that):
what is generated checks, loads and is served whole, on both backends. The HTTP half uses only
public paths and JSON fields.
"""

import datetime as dt
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from fastapi.testclient import TestClient

from app import migrate
from app.config import Settings
from app.db import make_engine
from app.ingest.bundle import FactRecord
from app.ingest.check import Dataset, read_dataset
from app.ingest.loader import load_dataset
from app.main import create_app
from app.models.public import EMBEDDED
from bench.synthetic import Generated, write_bundles

# Two waves a source are in place or ordered: beyond 10 sources, a posture total adds up more
# figures than it shows (POSTURE_SHOWN).
SCALE = 12
HUB_FORCE = "jtf-north"
POSTURE_SHOWN = 20


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Generated:
    return write_bundles(tmp_path_factory.mktemp("synthetic") / "bundles", SCALE)


@pytest.fixture(scope="module")
def dataset(generated: Generated) -> Dataset:
    return read_dataset(generated.root)


@pytest.fixture
def client(empty_database_url: str, dataset: Dataset) -> Iterator[TestClient]:
    migrate.upgrade(empty_database_url)
    engine = make_engine(empty_database_url)
    load_dataset(engine, dataset)
    engine.dispose()
    settings = Settings(database_url=empty_database_url, response_cache=False)
    with TestClient(create_app(settings)) as test_client:
        yield test_client


def every_page(client: TestClient, path: str) -> Iterator[dict[str, Any]]:
    """Each page of a list, from ``path`` through its ``next`` links."""
    next_path: str | None = path
    while next_path is not None:
        response = client.get(next_path)
        assert response.status_code == 200, response.text
        page = response.json()
        yield page
        next_path = page["next"]


def source_texts(root: Path) -> dict[str, str]:
    texts = {}
    for source_file in root.glob("*/source.yaml"):
        source = yaml.safe_load(source_file.read_text(encoding="utf-8"))
        texts[source["id"]] = (source_file.parent / source["text_file"]).read_text("utf-8")
    return texts


def test_the_bundles_check_with_every_fact_and_a_source_each(
    generated: Generated, dataset: Dataset
):
    assert dataset.counts["facts"] == generated.facts == 58 * SCALE
    assert sorted(dataset.sources) == sorted([*generated.sources, "us-code"])
    assert len(set(generated.published)) == SCALE


def test_the_fact_list_pages_through_every_fact_once(client: TestClient, generated: Generated):
    pages = list(every_page(client, "/v1/facts?limit=200"))
    ids = [fact["id"] for page in pages for fact in page["data"]]
    assert len(pages) > 1
    assert {page["total"] for page in pages} == {generated.facts}
    assert len(ids) == len(set(ids)) == generated.facts


def test_every_quote_served_is_at_its_offsets(client: TestClient, generated: Generated):
    texts = source_texts(generated.root)
    citations = [
        citation
        for page in every_page(client, "/v1/facts?limit=200")
        for fact in page["data"]
        for citation in fact["citations"]
    ]
    assert len(citations) >= generated.facts
    misplaced = [
        citation
        for citation in citations
        if texts[citation["source_id"]][citation["start"] : citation["end"]] != citation["quote"]
    ]
    assert misplaced == []


def test_a_hub_force_is_about_facts_of_every_source(client: TestClient, dataset: Dataset):
    detail = client.get(f"/v1/forces/{HUB_FORCE}")
    assert detail.status_code == 200
    assert detail.json()["id"] == HUB_FORCE
    about_hub = [located for located in dataset.read("facts") if HUB_FORCE in located.record.about]
    assert {located.source_id for located in about_hub} >= set(dataset.sources) - {"us-code"}
    listed = client.get(f"/v1/facts?about={HUB_FORCE}&limit=1").json()
    assert listed["total"] == len(about_hub)


def test_search_finds_the_one_fact_that_names_a_rare_word(client: TestClient, generated: Generated):
    word, fact_id = list(generated.rare_words.items())[SCALE // 2]
    found = client.get(f"/v1/search?q={word}").json()
    assert [(match["kind"], match["id"]) for match in found["data"]] == [("facts", fact_id)]
    assert found["total"] == 1


def test_each_published_date_adds_what_its_source_reported(
    client: TestClient, generated: Generated
):
    totals = [
        client.get(f"/v1/facts?as_of={day.isoformat()}&limit=1").json()["total"]
        for day in generated.published
    ]
    assert totals == sorted(totals)
    assert len(set(totals)) == SCALE


# A relation that grows with the data, as a detail page embeds it: (path, list field, count
# field, field of the link to every one of them, or None where no list takes the filter).
RELATIONS = [
    (f"/v1/forces/{HUB_FORCE}", "activities", "activity_count", "activities_url"),
    (f"/v1/forces/{HUB_FORCE}", "waves", "wave_count", "waves_url"),
    ("/v1/authorities/posse-comitatus-act", "prohibits", "prohibits_count", "prohibits_url"),
    ("/v1/agencies/cbp", "supported_by", "supported_by_count", None),
]


def test_a_hub_embeds_the_first_of_each_relation_and_links_to_the_rest(client: TestClient):
    counts = []
    for path, field, count_field, url_field in RELATIONS:
        detail = client.get(path).json()
        embedded = [ref["id"] for ref in detail[field]]
        counts.append(detail[count_field])
        assert len(embedded) == min(EMBEDDED, detail[count_field]), (path, field)
        if url_field is None:
            continue
        every = [
            item["id"] for page in every_page(client, detail[url_field]) for item in page["data"]
        ]
        assert len(every) == detail[count_field], (path, field)
        assert embedded == every[:EMBEDDED], (path, field)
    assert max(counts) > EMBEDDED  # the bound is reached at this scale


def test_an_agency_counts_every_force_that_supports_it(client: TestClient):
    supporting = [
        force["id"]
        for page in every_page(client, "/v1/forces?limit=200")
        for force in page["data"]
        if "cbp" in [agency["id"] for agency in force["supports"]]
    ]
    detail = client.get("/v1/agencies/cbp").json()
    assert detail["supported_by_count"] == len(supporting)
    assert [ref["id"] for ref in detail["supported_by"]] == sorted(supporting)[:EMBEDDED]


def arrived_sizes(dataset: Dataset, day: dt.date) -> dict[str, list[tuple[str, FactRecord]]]:
    """Per component, the waves in place and ordered that the sources reported by ``day``, each
    with the fact of its size, in the posture's order (in place first, then by id): what the
    posture's totals add up, worked out from the bundles alone."""
    published = {source_id: s.record.published for source_id, s in dataset.sources.items()}
    facts = {located.record.id: located for located in dataset.read("facts")}
    component = {force.record.id: force.record.component for force in dataset.read("forces")}

    def known(fact_id: str) -> bool:
        reported = published[facts[fact_id].source_id]
        return reported is None or reported <= day

    order = {"in_place": 0, "ordered": 1}
    waves = sorted(
        (wave.record for wave in dataset.read("waves") if wave.record.status.value in order),
        key=lambda wave: (order[wave.status.value], wave.id),
    )
    sizes: dict[str, list[tuple[str, FactRecord]]] = defaultdict(list)
    for wave in waves:
        if wave.size_fact and known(wave.size_fact) and wave.joins and known(wave.joins_fact or ""):
            counted = component[wave.joins]
            if counted is not None:
                sizes[counted.value].append((wave.id, facts[wave.size_fact].record))
    return sizes


def test_the_posture_totals_add_up_every_arrived_wave_and_show_the_first(
    client: TestClient, dataset: Dataset, generated: Generated
):
    middle = sorted(generated.published)[SCALE // 2]
    for as_of in (middle, max(generated.published)):
        body = client.get(f"/v1/posture?as_of={as_of.isoformat()}").json()
        expected = arrived_sizes(dataset, as_of)
        assert {total["component"] for total in body["totals"]} == set(expected)
        for total in body["totals"]:
            operands = expected[total["component"]]
            derived = total["quantity"]
            values = [fact.quantity.value for _, fact in operands if fact.quantity]
            assert derived["value"] == sum(value or 0 for value in values), as_of
            assert derived["derived_from_count"] == len(operands)
            shown = [fact.id for _, fact in operands][:POSTURE_SHOWN]
            assert derived["derived_from"] == shown
            citations = [c for _, fact in operands for c in fact.citations]
            assert total["citation_count"] == len(citations)
            assert [c["quote"] for c in total["citations"]] == [
                c.quote for c in citations[:POSTURE_SHOWN]
            ]
            waves = [wave_id for wave_id, _ in operands]
            assert ", ".join(waves[:POSTURE_SHOWN]) in derived["rule"]
            if len(waves) > POSTURE_SHOWN:
                assert waves[-1] not in derived["rule"]
                assert f"and {len(waves) - POSTURE_SHOWN} more" in derived["rule"]
    # Past 10 sources the bound is reached: the last day adds up more than it shows.
    assert derived["derived_from_count"] > POSTURE_SHOWN
    assert total["citation_count"] > POSTURE_SHOWN
    assert derived["text"].count(" + ") == POSTURE_SHOWN  # the first figures, then how many more
