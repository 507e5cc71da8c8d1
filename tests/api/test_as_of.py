"""``as_of``: the facts, and the records that embed them, as the data stood on a past day."""

from fastapi.testclient import TestClient

from tests.api import seed

PUBLISHED = "2025-01-22"
ENTITY_KINDS = ("forces", "agencies", "waves", "authorities", "activities")


def undated_facts() -> list[str]:
    """Facts of the undated reference source (us-code): known on every day."""
    undated = {s["id"] for s in seed.records("sources") if s.get("published") is None}
    return [fact["id"] for fact in seed.records("facts") if fact["source"] in undated]


def fact_ids(client: TestClient, **params: str) -> list[str]:
    response = client.get("/v1/facts", params={"limit": 200, **params})
    assert response.status_code == 200, response.text
    return [fact["id"] for fact in response.json()["data"]]


def test_only_facts_reported_by_the_day_are_listed(client: TestClient) -> None:
    assert undated_facts()
    assert sorted(fact_ids(client, as_of="2025-01-21")) == sorted(undated_facts())
    assert fact_ids(client, as_of="1066-10-14") == fact_ids(client, as_of="2025-01-21")
    assert fact_ids(client, as_of=PUBLISHED) == fact_ids(client)
    assert fact_ids(client, as_of="2030-01-01") == fact_ids(client)
    assert sorted(fact_ids(client)) == sorted(seed.ids("facts"))


def test_as_of_combines_with_the_other_filters(client: TestClient) -> None:
    about = "posse-comitatus-act"
    early = fact_ids(client, as_of="2025-01-21", about=about)
    assert early == [f for f in fact_ids(client, about=about) if f in undated_facts()]
    assert early


def test_a_fact_not_yet_reported_is_not_found_and_says_when_it_was(client: TestClient) -> None:
    response = client.get("/v1/facts/fact-initial-wave-1500", params={"as_of": "2025-01-21"})
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    assert "first reported on 2025-01-22" in response.json()["detail"]
    assert client.get("/v1/facts/fact-initial-wave-1500", params={"as_of": PUBLISHED}).is_success


def test_a_detail_embeds_only_the_facts_known_on_the_day(client: TestClient) -> None:
    for kind in ENTITY_KINDS:
        for record_id in seed.ids(kind):
            url = f"/v1/{kind}/{record_id}"
            early = client.get(url, params={"as_of": "2025-01-21"}).json()
            now = client.get(url).json()
            assert [f["id"] for f in early["facts"]] == [
                f["id"] for f in now["facts"] if f["id"] in undated_facts()
            ]
            on_publication = client.get(url, params={"as_of": PUBLISHED}).json()
            assert on_publication.pop("facts_url") == f"{now.pop('facts_url')}&as_of={PUBLISHED}"
            assert on_publication == now


def test_a_wave_s_size_is_unknown_before_it_was_reported(client: TestClient) -> None:
    wave = client.get("/v1/waves/initial-wave", params={"as_of": "2025-01-21"}).json()
    assert wave["size"] is None
    assert wave["size_fact"] is None
    assert wave["composition"] == []


def test_as_of_must_be_a_date(client: TestClient) -> None:
    response = client.get("/v1/facts", params={"as_of": "last week"})
    assert response.status_code == 400
    assert response.json()["invalid_params"][0]["name"] == "as_of"


def test_every_list_takes_as_of(client: TestClient) -> None:
    """One day for a whole notebook: every list, search and the timeline take the same as_of."""
    lists: list[tuple[str, dict[str, str]]] = [
        (f"/v1/{kind}", {}) for kind in (*ENTITY_KINDS, "sources", "facts")
    ]
    for path, params in [*lists, ("/v1/timeline", {}), ("/v1/search", {"q": "troops"})]:
        on_the_day = client.get(path, params={**params, "as_of": PUBLISHED, "limit": 200})
        assert on_the_day.status_code == 200, (path, on_the_day.text)
        now = client.get(path, params={**params, "limit": 200}).json()
        assert on_the_day.json()["data"] == now["data"], path
        assert on_the_day.json()["total"] == now["total"], path


def test_the_timeline_holds_only_the_events_reported_by_the_day(client: TestClient) -> None:
    early = client.get("/v1/timeline", params={"as_of": "2025-01-21", "limit": 200}).json()
    now = client.get("/v1/timeline", params={"limit": 200}).json()
    assert [e["id"] for e in early["data"]] == [
        e["id"] for e in now["data"] if e["id"] in undated_facts()
    ]
    assert early["data"]
    assert early["total"] == len(early["data"]) < now["total"]


def test_search_finds_only_what_was_known_on_the_day(client: TestClient) -> None:
    params = {"q": "act", "limit": 200}
    now = client.get("/v1/search", params=params).json()
    early = client.get("/v1/search", params={**params, "as_of": "2025-01-21"}).json()
    undated_sources = {s["id"] for s in seed.records("sources") if s.get("published") is None}
    known = [
        hit
        for hit in now["data"]
        if (hit["kind"] != "facts" or hit["id"] in undated_facts())
        and (hit["kind"] != "sources" or hit["id"] in undated_sources)
    ]
    assert early["data"] == known
    assert early["total"] == len(known) < now["total"]
    assert any(hit["kind"] == "facts" for hit in early["data"])


def test_a_source_not_yet_published_is_not_listed_or_found(client: TestClient) -> None:
    undated = sorted(s["id"] for s in seed.records("sources") if s.get("published") is None)
    listed = client.get("/v1/sources", params={"as_of": "2025-01-21"}).json()
    assert [source["id"] for source in listed["data"]] == undated
    response = client.get("/v1/sources/cnn-2025-01-22", params={"as_of": "2025-01-21"})
    assert response.status_code == 404
    assert "2025-01-22" in response.json()["detail"]
    assert client.get("/v1/sources/us-code", params={"as_of": "2025-01-21"}).is_success
    on_the_day = client.get("/v1/sources/cnn-2025-01-22", params={"as_of": PUBLISHED})
    assert on_the_day.json() == client.get("/v1/sources/cnn-2025-01-22").json()


def test_a_wave_in_the_list_is_as_its_detail_on_the_day(client: TestClient) -> None:
    listed = client.get("/v1/waves", params={"as_of": "2025-01-21"}).json()["data"]
    assert listed
    for wave in listed:
        detail = client.get(wave["url"], params={"as_of": "2025-01-21"}).json()
        assert {name: detail[name] for name in wave} == wave
    initial = next(wave for wave in listed if wave["id"] == "initial-wave")
    assert initial["size"] is None
    assert initial["composition"] == []


def test_a_wave_s_tie_to_a_force_is_unknown_before_it_was_reported(client: TestClient) -> None:
    """The fact that a wave joins a force is known from its report on, like its size."""
    for wave in seed.records("waves"):
        if not wave.get("joins"):
            continue
        early = client.get(f"/v1/waves/{wave['id']}", params={"as_of": "2025-01-21"}).json()
        assert (early["joins"], early["joins_status"], early["joins_fact"]) == (None, None, None)
        now = client.get(f"/v1/waves/{wave['id']}").json()
        assert now["joins"]["id"] == wave["joins"]
