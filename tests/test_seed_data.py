"""The seed data read straight from its files, without Muster's loader."""

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import ARTICLE_BUNDLE, SEED_DATA


def bundles() -> list[Path]:
    return sorted(path.parent for path in SEED_DATA.glob("*/source.yaml"))


def source_text(bundle: Path) -> str:
    source = yaml.safe_load((bundle / "source.yaml").read_text(encoding="utf-8"))
    return (bundle / str(source["text_file"])).read_text(encoding="utf-8")


def facts(bundle: Path) -> list[dict[str, Any]]:
    path = bundle / "facts.yaml"
    return yaml.safe_load(path.read_text(encoding="utf-8")) if path.exists() else []


def all_citations() -> list[tuple[str, str, dict[str, Any]]]:
    """(bundle's source id, fact id, citation) for every citation of every bundle."""
    found = []
    for bundle in bundles():
        for fact in facts(bundle):
            found += [(bundle.name, fact["id"], citation) for citation in fact["citations"]]
    return found


@pytest.mark.parametrize(
    ("bundle_name", "fact_id", "citation"),
    all_citations(),
    ids=lambda value: value if isinstance(value, str) else "",
)
def test_every_quote_is_verbatim_at_its_offsets(
    bundle_name: str, fact_id: str, citation: dict[str, Any]
) -> None:
    text = source_text(SEED_DATA / (citation.get("source") or bundle_name))
    assert text[citation["start"] : citation["end"]] == citation["quote"], fact_id


def paragraphs(text: str) -> list[tuple[int, int, str]]:
    """(start, end, text) of each non-blank paragraph."""
    return [
        (match.start(), match.end(), match.group())
        for match in re.finditer(r"[^\n]+", text)
        if match.group().strip()
    ]


def holds_a_number_name_or_law(paragraph: str) -> bool:
    mid_sentence_capital = re.search(r"(?<![.!?“\"]\s)(?<!^)\b[A-Z][a-z]", paragraph.strip())
    return bool(
        re.search(r"\d", paragraph) or mid_sentence_capital or re.search(r"\blaws?\b", paragraph)
    )


def test_every_paragraph_with_a_number_name_or_law_is_cited() -> None:
    bundle = SEED_DATA / ARTICLE_BUNDLE
    text = source_text(bundle)
    spans = [
        (citation["start"], citation["end"])
        for fact in facts(bundle)
        for citation in fact["citations"]
        if citation.get("source", ARTICLE_BUNDLE) == ARTICLE_BUNDLE
    ]
    relevant = [p for p in paragraphs(text) if holds_a_number_name_or_law(p[2])]
    uncited = [
        body[:60]
        for start, end, body in relevant
        if not any(s < end and e > start for s, e in spans)
    ]
    assert len(relevant) >= 15
    assert uncited == []


def test_the_article_bundle_has_at_least_forty_facts() -> None:
    assert len(facts(SEED_DATA / ARTICLE_BUNDLE)) >= 40


def test_outside_facts_cite_only_their_own_source() -> None:
    """A statute's citation comes from the us-code source, never attributed to the article."""
    article = source_text(SEED_DATA / ARTICLE_BUNDLE)
    for bundle_name, fact_id, citation in all_citations():
        if "U.S.C." in citation["quote"]:
            assert bundle_name == "us-code", fact_id
    assert "U.S.C." not in article
