"""/v1/search: every kind of record by its words, the same on SQLite and PostgreSQL."""

import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from fastapi.testclient import TestClient
from sqlalchemy import text

from app import migrate
from app.config import Settings
from app.db import make_engine
from app.ingest.check import read_dataset
from app.ingest.loader import load_dataset
from app.main import create_app
from app.models.public import SearchHit
from app.services import render
from app.services import search as search_service
from tests.api import seed
from tests.conftest import ARTICLE_BUNDLE, SEED_DATA
from tests.helpers import add_a_rare_word, facts_file

QUERIES = [
    "Lonestar",
    "Lone Star",
    "Pendleton",
    "marine",
    "posse comitatus",
    "1385",
    "El Paso",
    "officials familiar",
    "Texas Military Department",
    "Marines San Diego",  # in a name and a description: the snippet is of the description
    # Words of 1 to 4 characters, which SQLite reads from its prefix indexes (migration 0011)
    "t",
    "ma",
    "tex mil",
    "1385 us",
]


def search(client: TestClient, q: str, **params: object) -> list[dict[str, Any]]:
    response = client.get("/v1/search", params={"q": q, "limit": 200, **params})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["next"] is None
    assert body["total"] == len(body["data"])
    return list(body["data"])


def expected_hits(query: str) -> set[tuple[str, str]]:
    return {
        (kind, record["id"])
        for kind in seed.LIST_KINDS
        for record in seed.records(kind)
        if seed.holds_every_word(seed.searched_texts(record), query)
    }


def test_both_spellings_of_lone_star_find_the_operation_first(client: TestClient) -> None:
    operation = seed.by_id("forces")["operation-lone-star"]
    for query in ["Lonestar", "Lone Star", "lonestar", "LONE  star", "Lone-Star"]:
        first = search(client, query)[0]
        assert first == {
            **first,
            "kind": "forces",
            "id": "operation-lone-star",
            "name": operation["name"],
            "url": "/v1/forces/operation-lone-star",
        }, query


def test_pendleton_finds_the_marines_first(client: TestClient) -> None:
    first = search(client, "Pendleton")[0]
    assert (first["kind"], first["id"]) == ("forces", "marines-camp-pendleton")
    assert "«Pendleton»" in first["snippet"]


def test_a_search_finds_exactly_the_records_that_hold_every_word(client: TestClient) -> None:
    for query in QUERIES:
        hits = [(hit["kind"], hit["id"]) for hit in search(client, query)]
        assert set(hits) == expected_hits(query), query
        assert len(hits) == len(set(hits)), query


def test_hits_come_best_first_with_the_matching_words_marked(client: TestClient) -> None:
    for query in QUERIES:
        check_ranks_and_snippets(client, query)


def check_ranks_and_snippets(client: TestClient, query: str) -> None:
    hits = search(client, query)
    assert [hit["rank"] for hit in hits] == sorted((hit["rank"] for hit in hits), reverse=True)
    terms = seed.words(query)
    for hit in hits:
        assert list(hit) == list(SearchHit.model_fields), hit  # its fields, in its order
        assert SearchHit.model_validate(hit).model_dump(mode="json") == hit
        record = seed.by_id(hit["kind"])[hit["id"]]
        if hit["rank"] == 3:
            assert seed.holds_every_word([record["name"]], query), hit
        if hit["rank"] >= 2:
            names = [record["name"], *record.get("aliases", [])]
            assert seed.holds_every_word(names, query), hit
        marked = [piece.split("»")[0] for piece in hit["snippet"].split("«")[1:]]
        assert marked, hit
        assert all(any(word.casefold().startswith(t) for t in terms) for word in marked), hit
        unmarked = hit["snippet"].replace("«", "").replace("»", "").strip("…")
        texts = seed.searched_texts(record)
        assert any(unmarked in text for text in texts), hit
        if "…" not in hit["snippet"]:  # a whole text, of those holding the most of the words
            marked_terms = {t for t in terms if any(w.casefold().startswith(t) for w in marked)}
            assert len(marked_terms) == max(len(terms_in(text, terms)) for text in texts), hit
        assert hit["url"] == f"/v1/{hit['kind']}/{hit['id']}"
        assert client.get(hit["url"]).status_code == 200


def terms_in(text: str, terms: list[str]) -> set[str]:
    return {term for term in terms if seed.holds_every_word([text], term)}


def test_query_syntax_is_only_words(client: TestClient) -> None:
    """Operators, quotes, stars and control characters are separators, never syntax."""
    for query in [
        '"Lone" OR star',
        "lone* NEAR(star)",
        "words:lone AND NOT star",
        "lone:* & !star | (texas)",
        "'); DROP TABLE search_index; --",
        "Lone\x01Star\x1f",
        'lone"star',
        "^lone",
    ]:
        plain = " ".join(seed.words(query))
        assert search(client, query) == search(client, plain), query
    assert search(client, "Lonestar")


def test_kind_keeps_hits_of_one_collection(client: TestClient) -> None:
    hits = search(client, "Lone Star", kind="facts")
    assert {(hit["kind"], hit["id"]) for hit in hits} == {
        hit for hit in expected_hits("Lone Star") if hit[0] == "facts"
    }


def test_a_kind_with_no_records_holds_no_hit(seeded_database_url: str) -> None:
    """The range of places of a kind that has no records holds none, though places run below 0
    (the last source's is -1): every record holds "the", and none is of this kind."""
    engine = make_engine(seeded_database_url)
    with engine.connect() as connection:
        found = search_service.matcher(connection, "the")
        assert search_service.count(connection, found, None) > 0
        assert search_service.count(connection, found, "no-such-kind") == 0
        assert search_service.hits(connection, found, "no-such-kind", None, limit=5) == []
    engine.dispose()


def test_a_bad_query_is_a_400_problem_naming_the_parameter(client: TestClient) -> None:
    for params, reason in [
        ({"q": ""}, "at least 1 character"),
        ({"q": " !? ,;"}, "no letters or digits"),
        ({"q": "\x01\x02"}, "no letters or digits"),
        ({"q": "lone\x00star"}, "holds a NUL character"),
        ({}, "required"),
        ({"q": "x" * 201}, "at most 200 characters"),
        ({"q": "lone", "kind": "people"}, "forces"),
    ]:
        response = client.get("/v1/search", params=params)
        assert response.status_code == 400, params
        assert response.headers["content-type"] == "application/problem+json"
        problem = response.json()
        assert problem["status"] == 400
        name = "kind" if "kind" in params else "q"
        assert [param["name"] for param in problem["invalid_params"]] == [name], params
        assert reason in problem["detail"], params
        assert "x" * 201 not in response.text


def test_an_unknown_parameter_is_refused(client: TestClient) -> None:
    response = client.get("/v1/search", params={"q": "lone", "qq": "star"})
    assert response.status_code == 400
    problem = response.json()
    assert problem["invalid_params"] == [{"name": "qq", "reason": "unknown parameter"}]
    assert {"q", "kind", "limit", "cursor", "format"} <= set(problem["accepted_params"])


def test_a_database_without_its_search_index_answers_503(loaded_url: str) -> None:
    engine = make_engine(loaded_url)
    with engine.begin() as connection:
        connection.execute(text("DROP TABLE search_index"))
    engine.dispose()
    with TestClient(create_app(Settings(database_url=loaded_url))) as client:
        response = client.get("/v1/search", params={"q": "Lonestar"})
        assert response.status_code == 503
        assert response.headers["content-type"] == "application/problem+json"
        assert "the database cannot be read" in response.json()["detail"]
        assert client.get("/v1/forces").status_code == 200


def test_a_change_of_the_rendering_code_renders_the_same_data_again(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The index is rendered by the load: when the code that renders it changes, the next load of
    unchanged data renders it again rather than keeping the old index."""
    engine = make_engine(database_url)
    load_dataset(engine, read_dataset(SEED_DATA))
    with TestClient(create_app(Settings(database_url=database_url))) as client:
        assert search(client, "zzrendered") == []

    original = search_service.fields_of

    def with_a_marker(record: Any) -> search_service.Fields:
        fields = original(record)
        return search_service.Fields(fields.name, fields.aliases, [*fields.texts, "zzrendered"])

    monkeypatch.setattr(search_service, "fields_of", with_a_marker)
    monkeypatch.setattr(render, "RENDER_VERSION", "a-new-rendering")
    report = load_dataset(engine, read_dataset(SEED_DATA))
    engine.dispose()
    assert report.rendered_again
    assert not report.unchanged
    with TestClient(create_app(Settings(database_url=database_url))) as client:
        response = client.get("/v1/search", params={"q": "zzrendered", "limit": 1})
        kinds = ("sources", "forces", "agencies", "waves", "authorities", "activities", "facts")
        assert response.json()["total"] == sum(len(seed.records(kind)) for kind in kinds)


def seeded_sqlite(tmp_path: Path) -> str:
    """A migrated SQLite database holding the seed data, tmp_path / "muster.db", for tests of
    SQLite's file locks."""
    url = f"sqlite:///{tmp_path / 'muster.db'}"
    migrate.upgrade(url)
    engine = make_engine(url)
    load_dataset(engine, read_dataset(SEED_DATA))
    engine.dispose()
    return url


def test_searches_leave_the_file_free_for_a_load_to_commit(tmp_path: Path, seed_copy: Path) -> None:
    """The search's own SQLite connection holds no lock between requests: a load commits while
    the server runs, and the next search finds what it loaded."""
    rare_fact = add_a_rare_word(seed_copy / ARTICLE_BUNDLE)
    url = seeded_sqlite(tmp_path)
    engine = make_engine(url)
    with TestClient(create_app(Settings(database_url=url, response_cache=False))) as client:
        assert search(client, "Lonestar")
        assert search(client, "zyzzogeton") == []
        load_dataset(engine, read_dataset(seed_copy))
        assert [hit["id"] for hit in search(client, "zyzzogeton")] == [rare_fact]
    engine.dispose()


def test_a_hit_says_its_collection_and_relevance_by_their_own_names(client: TestClient) -> None:
    """``kind`` is a record's type and ``rank`` a fact's word elsewhere: a hit says collection and
    relevance, and keeps kind and rank, the same values, for the clients that read them."""
    hits = client.get("/v1/search", params={"q": "Lonestar"}).json()["data"]
    assert hits
    for hit in hits:
        assert hit["collection"] == hit["kind"]
        assert hit["url"].startswith(f"/v1/{hit['collection']}/")
        assert hit["relevance"] == hit["rank"] in (1, 2, 3)
    ref = client.get("/v1/forces/jtf-north").json()["parent"]
    assert ref["collection"] == ref["kind"] == "forces"
    schemas = client.get("/openapi.json").json()["components"]["schemas"]
    for schema, deprecated in (("Ref", "kind"), ("SearchHit", "kind"), ("SearchHit", "rank")):
        assert schemas[schema]["properties"][deprecated]["deprecated"] is True


def test_snippets_mark_every_word_a_term_begins_whatever_its_letters(
    tmp_path: Path, seed_copy: Path
) -> None:
    """A word is marked as the index folds it: with accents, in full-width letters, beside curly
    quotes, section signs and trademark signs; and no word the term does not begin."""
    quotes, section = "\N{LEFT DOUBLE QUOTATION MARK}\N{RIGHT DOUBLE QUOTATION MARK}", "§"
    apostrophe, trademark = "\N{RIGHT SINGLE QUOTATION MARK}", "\N{TRADE MARK SIGN}"
    full_width = "".join(chr(ord(letter) + 0xFEE0) for letter in "MARINES")
    statements = [
        f"Zyzzogeton: {quotes[0]}Marines{apostrophe} {section}marine submarine marine_corps "
        f"Marines2{quotes[1]}.",
        f"Zyzzogeton: Marinés, {full_width} and Marines{trademark} at sea.",
    ]
    path = facts_file(seed_copy / ARTICLE_BUNDLE)
    facts = yaml.safe_load(path.read_text(encoding="utf-8"))
    for fact, statement in zip(facts, statements, strict=False):
        fact["statement"] = statement
    path.write_text(yaml.safe_dump(facts, allow_unicode=True, sort_keys=False), encoding="utf-8")
    url = f"sqlite:///{tmp_path / 'muster.db'}"
    migrate.upgrade(url)
    engine = make_engine(url)
    load_dataset(engine, read_dataset(seed_copy))
    engine.dispose()
    with TestClient(create_app(Settings(database_url=url))) as client:
        snippets = {hit["snippet"] for hit in search(client, "zyzzogeton marine")}
    assert snippets == {
        f"«Zyzzogeton»: {quotes[0]}«Marines»{apostrophe} {section}«marine» submarine "
        f"«marine»_corps «Marines2»{quotes[1]}.",
        f"«Zyzzogeton»: «Marinés», «{full_width}» and «Marines»{trademark} at sea.",
    }


def test_what_the_ascii_path_takes_for_a_separator_separates_as_the_index_folds() -> None:
    """Every character outside ASCII that lets a text's words be found as ASCII ones separates
    ASCII words as the index sees them, after one and before another: the index finds the same
    words (NFKC makes no letter of it, nor joins it to a neighbour), and so do the marks."""
    separators = [
        character
        for character in map(chr, range(0x80, sys.maxunicode + 1))
        if search_service._separates_alone(character)
    ]
    assert {"\N{RIGHT SINGLE QUOTATION MARK}", "§", "\N{NO-BREAK SPACE}"} <= set(separators)
    marks = search_service.Marks(["ab"])
    for character in separators:
        text = f"ab{character}abc{character}xab"
        assert search_service.words(text) == ("ab", "abc", "xab"), hex(ord(character))
        assert marks.held(text) == 1, hex(ord(character))
        assert marks.spans(text) == [(0, 2), (3, 6)], hex(ord(character))


def test_the_facts_words_parameter_names_every_text_it_searches(client: TestClient) -> None:
    """A fact is found by who its quotes are attributed to as well as by its statement and
    quotes, and the parameter's description says so."""
    spec = client.get("/openapi.json").json()
    [q] = [p for p in spec["paths"]["/v1/facts"]["get"]["parameters"] if p["name"] == "q"]
    facts = client.get("/v1/facts", params={"q": "familiar", "limit": 200}).json()["data"]
    only_by_speaker = [
        fact
        for fact in facts
        if not seed.holds_every_word(
            [fact["statement"], *(c["quote"] for c in fact["citations"])], "familiar"
        )
    ]
    assert only_by_speaker, "the seed has a fact found only by whom it is attributed to"
    assert "attributed" in q["description"]
