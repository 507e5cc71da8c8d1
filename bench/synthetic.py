"""Synthetic source bundles shaped like the seed data, at any scale factor.

Scale N writes N sources. Each is the seed article's bundle made over as a source of its own:

- its own id (``synthetic-00042``), a distinct published date (spread over a year from the seed's
  2025-01-22; distinct for up to 366 sources) and a generated text: a lead and a closing paragraph
  of generated sentences around the seed article, whose ISO dates move with the published date
  (an ISO date keeps its length, so no offset moves but by the lead's length);
- the seed's 56 article facts and its 42 entities, with ids made unique by the source's suffix
  (``-s00042``), dates moved with the published date (a week-precision date stays a Monday), and
  quotes verbatim at their offsets into the generated text;
- the seed's two United States Code citation facts, again with unique ids, quoting the shared
  ``us-code`` source: 58 facts a source in all, as at 1x.

The hub entities (``HUBS``: two forces, two agencies, two statutes) are defined once, in the first
source, and every source's facts, waves and activities cite them, so that at 1000x a hub force is
about thousands of facts. The first fact of each source also names a word made for that source
alone (``rare_word``), for searches that match one record.

The output is a pure function of the scale and the seed: two runs write the same bytes. The YAML
is written by a small emitter here, not by PyYAML, so that 1000x takes seconds:

    python bench/synthetic.py 1000 /tmp/bundles-1000x && muster check /tmp/bundles-1000x
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import random
import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parent.parent
SEED_DATA = REPO / "seed_data"
SEED_ARTICLE = "cnn-2025-01-22"
REFERENCE_SOURCE = "us-code"
SEED_PUBLISHED = dt.date(2025, 1, 22)
SPREAD_DAYS = 366  # published dates spread over a year from the seed's
SEED = 20250122

# Entities shared by every source: defined once, cited by all.
HUBS = {
    "forces": ("jtf-north", "us-northern-command"),
    "agencies": ("cbp", "dhs"),
    "authorities": ("posse-comitatus-act", "insurrection-act"),
}
ENTITY_KINDS = ("forces", "agencies", "waves", "authorities", "activities")

# The fields of each kind that name other records, by how they hold them.
_SINGLE_REFERENCES = {
    "forces": ("parent",),
    "waves": ("size_fact", "joins", "joins_fact"),
    "authorities": ("reference_source",),
}
_LIST_REFERENCES = {
    "forces": ("operations", "supports"),
    "waves": ("tasks",),
    "activities": ("forces",),
    "facts": ("about",),
}
_DATE_FIELDS = ("date", "valid_from", "valid_to")
_ISO_DATE = re.compile(r"\b(\d{4})-(\d{2})-(\d{2})\b")

_WORDS = [
    "troops",
    "convoy",
    "border",
    "patrol",
    "sector",
    "logistics",
    "officials",
    "briefing",
    "deployment",
    "mission",
    "command",
    "units",
    "readiness",
    "support",
    "engineers",
    "surveillance",
    "checkpoint",
    "aviation",
    "transport",
    "barracks",
    "orders",
    "governor",
    "federal",
    "state",
    "agency",
    "statement",
    "spokesperson",
    "week",
    "month",
    "report",
    "desert",
    "river",
    "crossing",
    "fencing",
    "vehicles",
    "radar",
    "sensors",
    "rotation",
    "reserve",
    "guard",
    "training",
    "equipment",
    "supplies",
    "camp",
]
_SYLLABLES = [
    "ka",
    "ze",
    "mi",
    "ro",
    "tu",
    "va",
    "ne",
    "lo",
    "si",
    "pa",
    "du",
    "fe",
    "gi",
    "ho",
    "ju",
    "ky",
    "la",
    "mo",
    "nu",
    "qi",
]


@dataclass(frozen=True)
class Generated:
    """What ``write_bundles`` wrote, for the tests and the benchmark that read it back."""

    root: Path
    scale: int
    sources: list[str]
    facts: int
    entities: int
    hubs: dict[str, tuple[str, ...]] = field(default_factory=lambda: dict(HUBS))
    rare_words: dict[str, str] = field(default_factory=dict)  # word -> the one fact naming it
    published: list[dt.date] = field(default_factory=list)


def rare_word(index: int) -> str:
    """A made-up word for source ``index`` alone: its digits in base 20, spelt in syllables."""
    syllables = []
    while True:
        index, digit = divmod(index, len(_SYLLABLES))
        syllables.append(_SYLLABLES[digit])
        if not index:
            break
    return "zor" + "".join(reversed(syllables)) + "x"


def published_on(index: int, scale: int) -> dt.date:
    return SEED_PUBLISHED + dt.timedelta(days=index * SPREAD_DAYS // scale)


# The seed, read once


@dataclass(frozen=True)
class _Seed:
    source: dict[str, Any]
    text: str
    entities: dict[str, list[dict[str, Any]]]
    facts: list[dict[str, Any]]
    reference_facts: list[dict[str, Any]]


def _read_seed(seed_data: Path) -> _Seed:
    article = seed_data / SEED_ARTICLE

    def records(folder: Path, name: str) -> list[dict[str, Any]]:
        path = folder / name
        loaded: list[dict[str, Any]] = yaml.safe_load(path.read_text()) if path.exists() else []
        return loaded

    source = yaml.safe_load((article / "source.yaml").read_text())
    return _Seed(
        source=source,
        text=(article / source["text_file"]).read_text(encoding="utf-8"),
        entities={kind: records(article, f"{kind}.yaml") for kind in ENTITY_KINDS},
        facts=records(article, "facts.yaml"),
        reference_facts=records(seed_data / REFERENCE_SOURCE, "facts.yaml"),
    )


# One source made over


class _Source:
    """How the seed changes for source ``index``: ids, dates and text."""

    def __init__(self, seed: _Seed, index: int, scale: int, rng: random.Random) -> None:
        self.index = index
        self.id = f"synthetic-{index:05d}"
        self.published = published_on(index, scale)
        self.shift = self.published - SEED_PUBLISHED
        self.rare_word = rare_word(index)
        hub_ids = {hub for hubs in HUBS.values() for hub in hubs}
        local_ids = [
            record["id"]
            for kind in ENTITY_KINDS
            for record in seed.entities[kind]
            if record["id"] not in hub_ids
        ]
        local_ids += [fact["id"] for fact in [*seed.facts, *seed.reference_facts]]
        self.renamed = {old: f"{old}-s{index:05d}" for old in local_ids}
        self.renamed[SEED_ARTICLE] = self.id
        self.lead = _paragraph(rng, self.rare_word) + "\n\n"
        self.text = self.lead + self.move_dates(seed.text) + "\n\n" + _paragraph(rng, None) + "\n"

    def ref(self, record_id: str) -> str:
        return self.renamed.get(record_id, record_id)

    def move_dates(self, words: str) -> str:
        """Every ISO date in free text moved by the source's shift (reference years stay)."""

        def moved(match: re.Match[str]) -> str:
            day = dt.date(*map(int, match.groups()))
            return (day + self.shift).isoformat() if day.year >= 2000 else match.group()

        return _ISO_DATE.sub(moved, words)

    def move_date_value(self, value: dict[str, Any]) -> dict[str, Any]:
        moved = dict(value)
        day: dt.date = value["date"]
        precision = value.get("precision", "day")
        if day.year >= 2000 and precision in ("day", "week"):
            day += self.shift
            if precision == "week":
                day -= dt.timedelta(days=day.weekday())  # a week is named by its Monday
        elif day.year >= 2000:
            day = (day + self.shift).replace(day=1)
            if precision == "year":
                day = day.replace(month=1)
        moved["date"] = day
        if value.get("latest"):  # a window of days ends as far after its start as before
            moved["latest"] = value["latest"] + (day - value["date"])
        if value.get("derivation"):
            moved["derivation"] = self.move_dates(value["derivation"])
        return moved

    def entity(self, kind: str, record: dict[str, Any]) -> dict[str, Any]:
        made = dict(record)
        made["id"] = self.ref(record["id"])
        made["name"] = f"{record['name']} ({self.id})"
        if record.get("description"):
            made["description"] = self.move_dates(record["description"])
        for name in _SINGLE_REFERENCES.get(kind, ()):
            if record.get(name):
                made[name] = self.ref(record[name])
        for name in _LIST_REFERENCES.get(kind, ()):
            if name in record:
                made[name] = [self.ref(ref) for ref in record[name]]
        if kind == "waves":
            made["composition"] = [
                {"force": self.ref(member["force"]), "fact": self.ref(member["fact"])}
                for member in record.get("composition", [])
            ]
            made["dates"] = [
                {**entry, "date": self.move_date_value(entry["date"])}
                for entry in record.get("dates", [])
            ]
        if kind == "activities":
            made["authorities"] = [
                {**link, "authority": self.ref(link["authority"])}
                for link in record.get("authorities", [])
            ]
        return made

    def fact(self, record: dict[str, Any], *, cites: str | None) -> dict[str, Any]:
        """The fact for this source; ``cites`` is the source its quotes are from when it is not
        the bundle's own, and then the quotes keep their offsets."""
        made = dict(record)
        made["id"] = self.ref(record["id"])
        made["statement"] = self.move_dates(record["statement"])
        made["about"] = [self.ref(ref) for ref in record["about"]]
        for name in _DATE_FIELDS:
            if record.get(name):
                made[name] = self.move_date_value(record[name])
        made["citations"] = [self.citation(citation, cites) for citation in record["citations"]]
        return made

    def citation(self, citation: dict[str, Any], cites: str | None) -> dict[str, Any]:
        made = dict(citation)
        if cites is not None:
            made["source"] = cites
            return made
        made["quote"] = self.move_dates(citation["quote"])
        made["start"] = citation["start"] + len(self.lead)
        made["end"] = citation["end"] + len(self.lead)
        if self.text[made["start"] : made["end"]] != made["quote"]:
            raise RuntimeError(f"{self.id}: a moved quote left its offsets: {made}")
        return made


def _paragraph(rng: random.Random, rare: str | None) -> str:
    sentences = []
    for _ in range(rng.randint(3, 6)):
        words = rng.choices(_WORDS, k=rng.randint(8, 16))
        sentences.append(" ".join(words).capitalize() + ".")
    if rare is not None:
        sentences.insert(rng.randint(0, len(sentences)), f"The desk filed it as {rare}.")
    return " ".join(sentences)


# Writing


def write_bundles(root: Path, scale: int, *, seed_data: Path = SEED_DATA) -> Generated:
    """Write ``scale`` synthetic sources and the shared us-code reference source under ``root``
    (made if missing; bundles already there are replaced)."""
    if scale < 1:
        raise ValueError("the scale is a whole number of sources, at least 1")
    seed = _read_seed(seed_data)
    rng = random.Random(SEED)
    root.mkdir(parents=True, exist_ok=True)
    reference = root / REFERENCE_SOURCE
    shutil.rmtree(reference, ignore_errors=True)
    shutil.copytree(seed_data / REFERENCE_SOURCE, reference)
    # The reference bundle's own facts are the first source's statute citations.
    facts = len(seed.reference_facts)
    entities = 0
    sources: list[str] = []
    rare_words: dict[str, str] = {}
    published: list[dt.date] = []
    for index in range(scale):
        source = _Source(seed, index, scale, rng)
        folder = root / source.id
        folder.mkdir(exist_ok=True)
        (folder / "article.txt").write_text(source.text, encoding="utf-8")
        (folder / "source.yaml").write_text(_emit(_source_record(seed, source)), encoding="utf-8")
        for kind in ENTITY_KINDS:
            records = [
                source.entity(kind, record)
                for record in seed.entities[kind]
                if index == 0 or record["id"] not in HUBS.get(kind, ())
            ]
            entities += len(records)
            (folder / f"{kind}.yaml").write_text(_emit_list(records), encoding="utf-8")
        made_facts = [source.fact(record, cites=None) for record in seed.facts]
        made_facts[0]["statement"] += f" The desk filed it as {source.rare_word}."
        if index > 0:
            made_facts += [
                source.fact(record, cites=REFERENCE_SOURCE) for record in seed.reference_facts
            ]
        facts += len(made_facts)
        (folder / "facts.yaml").write_text(_emit_list(made_facts), encoding="utf-8")
        sources.append(source.id)
        rare_words[source.rare_word] = made_facts[0]["id"]
        published.append(source.published)
    return Generated(
        root=root,
        scale=scale,
        sources=sources,
        facts=facts,
        entities=entities,
        rare_words=rare_words,
        published=published,
    )


def _source_record(seed: _Seed, source: _Source) -> dict[str, Any]:
    return {
        **seed.source,
        "id": source.id,
        "published": source.published,
        "title": f"Synthetic report {source.index} of the border deployment",
        "description": f"Synthetic source {source.index}, generated from the seed article "
        f"{SEED_ARTICLE} by bench/synthetic.py.",
        "text_file": "article.txt",
    }


# A block-style YAML emitter for what the seed holds: mappings, lists, strings, numbers,
# booleans, dates and nulls. Strings are double-quoted JSON strings, which YAML reads as written.


def _scalar(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    return json.dumps(value, ensure_ascii=False)


def _lines(value: Any, indent: str) -> Iterator[str]:
    if isinstance(value, dict):
        for key, item in value.items():
            if isinstance(item, dict | list) and item:
                yield f"{indent}{key}:"
                yield from _lines(item, indent + "  ")
            else:
                yield f"{indent}{key}: {_empty_or_scalar(item)}"
    else:
        for item in value:
            if isinstance(item, dict | list) and item:
                nested = list(_lines(item, indent + "  "))
                yield f"{indent}- {nested[0].lstrip()}"
                yield from nested[1:]
            else:
                yield f"{indent}- {_empty_or_scalar(item)}"


def _empty_or_scalar(value: Any) -> str:
    if isinstance(value, dict):
        return "{}"
    if isinstance(value, list):
        return "[]"
    return _scalar(value)


def _emit(mapping: dict[str, Any]) -> str:
    return "\n".join(_lines(mapping, "")) + "\n"


def _emit_list(records: list[dict[str, Any]]) -> str:
    if not records:
        return "[]\n"
    return "\n\n".join("\n".join(_lines([record], "")) for record in records) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("scale", type=int, help="how many sources: 1 is the seed's size")
    parser.add_argument("folder", type=Path, help="where to write the bundles")
    args = parser.parse_args()
    generated = write_bundles(args.folder, args.scale)
    print(
        f"wrote {len(generated.sources)} sources, {generated.facts} facts and "
        f"{generated.entities} entities to {generated.root}"
    )


if __name__ == "__main__":
    main()
