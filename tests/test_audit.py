"""What the independent audit of the article bundle found (issue 16), read from the seed files.

Each test reads the YAML as written, without Muster's loader, and checks one finding against the
article's text: the wrong Marines record, the hedges lost in structured fields, and the smaller
points (bounds, attribution, timing, date windows).
"""

import datetime as dt
import itertools
import re
from typing import Any

import pytest
import yaml

from tests.conftest import ARTICLE_BUNDLE, SEED_DATA

BUNDLE = SEED_DATA / ARTICLE_BUNDLE
ARTICLE = (BUNDLE / "article.txt").read_text(encoding="utf-8")
PUBLISHED = dt.date(2025, 1, 22)  # a Wednesday


def records(file_name: str) -> dict[str, dict[str, Any]]:
    items = yaml.safe_load((BUNDLE / file_name).read_text(encoding="utf-8"))
    return {item["id"]: item for item in items}


FACTS = records("facts.yaml")
FORCES = records("forces.yaml")
WAVES = records("waves.yaml")
ACTIVITIES = records("activities.yaml")
AUTHORITIES = records("authorities.yaml")

MARINES = "marines-camp-pendleton"


def citations() -> list[tuple[str, dict[str, Any]]]:
    return [(fact_id, c) for fact_id, fact in FACTS.items() for c in fact["citations"]]


# The wrong record: the 500-Marine contingent.


def test_the_marine_contingent_is_not_aliased_as_its_division_or_its_base() -> None:
    aliases = FORCES[MARINES].get("aliases", [])
    assert "1st Marine Division" not in aliases
    assert "Camp Pendleton" not in aliases


def test_the_marines_origin_is_the_articles_phrase_and_no_base_is_inferred() -> None:
    force = FORCES[MARINES]
    assert force.get("base") is None
    assert force["origin"] in ARTICLE
    assert "500 Marines from " + force["origin"] in ARTICLE


def test_the_mission_wide_2500_is_not_the_contingents() -> None:
    assert "2,500" not in FORCES[MARINES]["description"]
    growth = WAVES["marines-growth-2500"]
    assert MARINES not in [member["force"] for member in growth.get("composition", [])]
    assert MARINES not in FACTS[growth["size_fact"]]["about"]


# Overstatements: a hedge lost in a structured field.


def test_ice_going_back_is_a_capacity_not_an_expectation() -> None:
    fact = FACTS["fact-ice-back-to-interior"]
    assert "able to" in fact["citations"][0]["quote"]
    assert "able to" in fact["statement"]
    assert fact["status"] == "possible"


def test_no_fact_is_firmer_about_a_wave_than_the_wave_itself() -> None:
    """Later waves are only expected: a fact about them cannot be ordered, planned or requested."""
    firm = {"reported", "ordered", "planned", "requested"}
    soft_waves = {key for key, wave in WAVES.items() if wave["status"] in {"expected", "possible"}}
    overstated = [
        (fact_id, wave_id)
        for fact_id, fact in FACTS.items()
        for wave_id in soft_waves & set(fact["about"])
        if fact["status"] in firm and fact["kind"] == "quantity"
    ]
    assert overstated == []
    assert "later-waves" not in FACTS["fact-additional-troops-thousands"]["about"]


@pytest.mark.parametrize(
    "fact_id",
    [
        "fact-transcom-told-to-prepare-repatriation-flights",
        "fact-repatriation-assets-include-aircraft",
    ],
)
def test_an_instruction_to_prepare_is_not_a_plan_to_fly(fact_id: str) -> None:
    fact = FACTS[fact_id]
    assert fact["status"] not in {"planned", "ordered", "reported"}
    assert fact["kind"] != "plan"
    assert "instructed to prepare" in fact["citations"][0]["quote"]
    assert ACTIVITIES["repatriation-flights"]["status"] == "unclear"


def test_a_waves_tie_to_a_force_has_the_status_its_evidence_gives() -> None:
    wave = WAVES["initial-wave"]
    evidence = FACTS[wave["joins_fact"]]
    assert wave["joins"] == "jtf-north"
    assert wave["joins_status"] == "expected"
    assert "expected to feed into" in evidence["citations"][0]["quote"]
    for joining in WAVES.values():
        if joining.get("joins"):
            assert joining["joins"] in FACTS[joining["joins_fact"]]["about"]


def test_being_dropped_off_by_helicopter_is_not_doing_air_operations() -> None:
    assert MARINES not in ACTIVITIES["air-operations"]["forces"]
    assert "air-operations" not in FACTS["fact-marines-may-arrive-by-helicopter"]["about"]


def test_an_open_question_no_one_raised_says_so_and_names_no_speaker() -> None:
    fact = FACTS["fact-later-waves-size-unknown"]
    assert fact["raised_by"] == "muster"
    assert [c["attributed_to"] for c in fact["citations"]] == [None]
    # The open questions the article raises itself say so in its words: "not clear", "whether".
    for other in FACTS.values():
        if other["kind"] == "open_question" and other.get("raised_by", "source") == "source":
            quoted = " ".join(c["quote"] for c in other["citations"])
            assert re.search(r"\bnot (yet )?clear\b|\bwhether\b", quoted), other["id"]


def test_the_national_emergency_says_it_rests_on_one_passing_remark() -> None:
    authority = AUTHORITIES["national-emergency"]
    assert "one defense official's passing remark" in authority["status"]
    assert "in passing" in FACTS["fact-national-emergency-declared"]["statement"]


# Smaller points.


def test_within_90_days_is_a_bound() -> None:
    quantity = FACTS["fact-insurrection-act-decision-within-90-days"]["quantity"]
    assert quantity.get("value") is None
    assert quantity["max"] == 90
    assert quantity["text"] == "within 90 days"


def test_could_ultimately_climb_is_a_possible_value_in_its_own_words() -> None:
    fact = FACTS["fact-marines-could-climb-to-2500"]
    assert fact["quantity"].get("max") is None
    assert fact["quantity"]["value"] == 2500
    assert fact["quantity"]["text"] == "could ultimately climb to 2,500"
    assert fact["status"] == "possible"


def sentences() -> list[tuple[int, int]]:
    """(start, end) of each sentence of the article: split after . ! ? or a closing quote."""
    spans, start = [], 0
    for match in re.finditer(r"[.!?][”\"]?(?=\s|$)", ARTICLE):
        spans.append((start, match.end()))
        start = match.end()
    return [(s + len(ARTICLE[s:e]) - len(ARTICLE[s:e].lstrip()), e) for s, e in spans]


def test_attribution_carries_into_a_sentence_that_continues_the_one_before() -> None:
    """The rule in the bundle's README.md: a sentence with no attribution of its own that carries
    on the account of the sentence before ("They ...", "The troops are also ...", "The Marines
    are ...") takes that sentence's attribution, across a paragraph break too."""
    speakers = {c["attributed_to"] for _, c in citations() if c["attributed_to"]}
    spans = sentences()

    def attribution(span: tuple[int, int]) -> set[str | None]:
        return {
            c["attributed_to"]
            for _, c in citations()
            if c.get("source", ARTICLE_BUNDLE) == ARTICLE_BUNDLE and span[0] <= c["start"] < span[1]
        }

    checked = 0
    for before, sentence in itertools.pairwise(spans):
        text = ARTICLE[sentence[0] : sentence[1]]
        continues = re.match(r"(They|The troops are also|The Marines are)\b", text)
        if not continues or any(speaker in text for speaker in speakers):
            continue
        checked += 1
        assert attribution(sentence) == attribution(before), text
    assert checked >= 3


def test_every_speaker_is_named_as_the_article_names_them() -> None:
    for fact_id, citation in citations():
        said_by = citation["attributed_to"]
        if said_by is None or citation.get("source"):
            continue
        assert said_by != "the official", fact_id  # ambiguous beside "the first official"
        assert said_by in ARTICLE, fact_id


@pytest.mark.parametrize(
    ("fact_id", "timing"),
    [
        ("fact-more-troops-expected", "in the coming weeks and months"),
        ("fact-readiness-request-up-to-10000", "immediately"),
        ("fact-marines-arrive-imminently", "imminently"),
    ],
)
def test_the_articles_timing_words_are_kept(fact_id: str, timing: str) -> None:
    fact = FACTS[fact_id]
    assert fact["timing"] == timing
    assert any(timing in c["quote"] for c in fact["citations"])


def test_every_timing_is_in_its_facts_quotes() -> None:
    for fact_id, fact in FACTS.items():
        if fact.get("timing"):
            assert any(fact["timing"] in c["quote"] for c in fact["citations"]), fact_id


def dates_derived_from(words: str) -> list[dict[str, Any]]:
    found = []
    for fact in FACTS.values():
        found += [fact[key] for key in ("date", "valid_from", "valid_to") if fact.get(key)]
    for wave in WAVES.values():
        found += [step["date"] for step in wave.get("dates", [])]
    return [d for d in found if words in (d.get("derivation") or "")]


def test_earlier_this_week_on_a_wednesday_is_monday_or_tuesday() -> None:
    windows = dates_derived_from('"earlier this week"')
    assert len(windows) >= 2
    for window in windows:
        assert window["date"] == dt.date(2025, 1, 20)
        assert window["latest"] == PUBLISHED - dt.timedelta(days=1)
        assert window.get("precision", "day") == "day"
    request = FACTS["fact-readiness-request-up-to-10000"]
    assert request["valid_from"]["latest"] == dt.date(2025, 1, 21)


def test_searches_are_tied_only_to_the_laws_the_article_names_for_them() -> None:
    """Searches appear once, barred by "other laws and regulations"; the article's examples of a
    law enforcement role, which posse comitatus bars, are arrests and drug seizures."""
    [sentence] = [s for s in re.split(r"(?<=\.)\s+", ARTICLE) if "search" in s]
    assert sentence.startswith("Other laws and regulations")
    assert [a["authority"] for a in ACTIVITIES["searches"]["authorities"]] == [
        "other-laws-and-regulations"
    ]
    assert "like perform arrests or seize drugs" in ARTICLE
