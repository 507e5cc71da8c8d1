"""Reading a folder of bundles into a checked dataset, or a list of every problem found.

``muster check`` and ``muster load`` both go through ``read_dataset``: what loads is exactly what
checks.
"""

import difflib
import hashlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ValidationError

from app.ingest.bundle import (
    ENTITY_FILES,
    FACTS_FILE,
    SOURCE_FILE,
    ActivityRecord,
    AgencyRecord,
    AuthorityRecord,
    Entity,
    FactRecord,
    ForceRecord,
    SourceRecord,
    WaveRecord,
)
from app.ingest.yaml_lines import YamlError, line_of, read_yaml
from app.models.common import Citation, Quantity, Rank
from app.models.kinds import ENTITY_KINDS
from app.services.as_of import overlap
from app.services.quantities import Measure, disagree, measure

RecordT = TypeVar("RecordT", bound=BaseModel)


@dataclass(frozen=True, order=True)
class Problem:
    """One thing wrong with the input, located by file and line."""

    path: Path
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.message}"


class InvalidBundlesError(Exception):
    """The bundles were refused; ``problems`` lists every reason, in file and line order."""

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems = sorted(problems)
        super().__init__("\n".join(str(problem) for problem in self.problems))


@dataclass(frozen=True)
class Located(Generic[RecordT]):
    """A record with the bundle it came from and where it was written."""

    record: RecordT
    source_id: str
    path: Path
    line: int


@dataclass(frozen=True)
class LoadedSource:
    record: SourceRecord
    text: str
    sha256: str
    path: Path


@dataclass
class Dataset:
    """Every record of every bundle, checked, and the content hash of the files they came from."""

    version: str = ""
    sources: dict[str, LoadedSource] = field(default_factory=dict)
    forces: list[Located[ForceRecord]] = field(default_factory=list)
    agencies: list[Located[AgencyRecord]] = field(default_factory=list)
    waves: list[Located[WaveRecord]] = field(default_factory=list)
    authorities: list[Located[AuthorityRecord]] = field(default_factory=list)
    activities: list[Located[ActivityRecord]] = field(default_factory=list)
    facts: list[Located[FactRecord]] = field(default_factory=list)

    def entities(self) -> Iterator[tuple[str, Located[Entity]]]:
        """Every entity with its kind, the name of its collection ("forces", "waves", ...)."""
        for kind in ENTITY_KINDS:
            for located in getattr(self, kind):
                yield kind, located

    def records(self) -> Iterator[tuple[str, Located[Any]]]:
        """Every entity and fact with its kind."""
        yield from self.entities()
        for fact in self.facts:
            yield "facts", fact


@dataclass
class _Reader:
    root: Path
    problems: list[Problem] = field(default_factory=list)
    hasher: Any = field(default_factory=hashlib.sha256)

    def problem(self, path: Path, line: int, message: str) -> None:
        self.problems.append(Problem(path, line, message))

    def read_file(self, path: Path) -> Any:
        """Parse one YAML file, hashing its bytes into the data version; None if unreadable."""
        self.hash_file(path)
        try:
            return read_yaml(path)
        except YamlError as error:
            self.problem(path, error.line, error.reason)
            return None

    def hash_file(self, path: Path) -> None:
        self.hasher.update(path.relative_to(self.root).as_posix().encode() + b"\0")
        self.hasher.update(path.read_bytes() + b"\0")

    def validate(self, model: type[RecordT], data: Any, path: Path) -> RecordT | None:
        try:
            return model.model_validate(data)
        except ValidationError as error:
            for detail in error.errors():
                where = ".".join(str(step) for step in detail["loc"]) or "record"
                self.problem(path, line_of(data, detail["loc"]), f"{where}: {detail['msg']}")
            return None

    def read_list(self, model: type[RecordT], path: Path, source_id: str) -> list[Located[RecordT]]:
        document = self.read_file(path)
        if document is None:
            return []
        if not isinstance(document, list):
            self.problem(path, getattr(document, "line", 1), "expected a YAML list of records")
            return []
        located = []
        for item in document:
            record = self.validate(model, item, path)
            if record is not None:
                located.append(Located(record, source_id, path, getattr(item, "line", 1)))
        return located


def _bundle_folders(root: Path) -> list[Path]:
    if (root / SOURCE_FILE).is_file():
        return [root]
    return sorted(folder for folder in root.iterdir() if (folder / SOURCE_FILE).is_file())


def _read_source(reader: _Reader, folder: Path) -> LoadedSource | None:
    path = folder / SOURCE_FILE
    document = reader.read_file(path)
    record = reader.validate(SourceRecord, document, path) if document is not None else None
    if record is None:
        return None
    text_path = folder / record.text_file
    if not text_path.is_file():
        line = line_of(document, ("text_file",))
        reader.problem(path, line, f"text_file: the source text {text_path} does not exist")
        return None
    reader.hash_file(text_path)
    raw = text_path.read_bytes()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        reader.problem(text_path, 1, f"the source text is not UTF-8: {error.reason}")
        return None
    return LoadedSource(record, text, hashlib.sha256(raw).hexdigest(), path)


def read_dataset(root: Path) -> Dataset:
    """Read and check every bundle under ``root``; on any problem raise ``InvalidBundlesError``."""
    reader = _Reader(root)
    dataset = Dataset()
    if not root.is_dir():
        raise InvalidBundlesError([Problem(root, 0, "not a folder of source bundles")])
    folders = _bundle_folders(root)
    if not folders:
        raise InvalidBundlesError(
            [Problem(root, 0, f"no bundle here: no folder holds a {SOURCE_FILE}")]
        )
    for folder in folders:
        source = _read_source(reader, folder)
        if source is None:
            continue
        source_id = source.record.id
        if source_id in dataset.sources:
            reader.problem(source.path, 1, f"duplicate source id {source_id!r}")
            continue
        dataset.sources[source_id] = source
        for file_name, model in ENTITY_FILES.items():
            if (folder / file_name).is_file():
                kind = file_name.removesuffix(".yaml")
                getattr(dataset, kind).extend(
                    reader.read_list(model, folder / file_name, source_id)
                )
        if (folder / FACTS_FILE).is_file():
            dataset.facts.extend(reader.read_list(FactRecord, folder / FACTS_FILE, source_id))
    _check_ids_and_references(reader, dataset)
    _check_citations(reader, dataset)
    _check_preferred_facts_agree(reader, dataset)
    if reader.problems:
        raise InvalidBundlesError(reader.problems)
    dataset.version = reader.hasher.hexdigest()[:16]
    return dataset


def _check_ids_and_references(reader: _Reader, dataset: Dataset) -> None:
    kind_of: dict[str, str] = {}
    for kind, located in dataset.records():
        record_id = located.record.id
        if record_id in kind_of:
            reader.problem(
                located.path,
                located.line,
                f"duplicate id {record_id!r}: already used by one of the {kind_of[record_id]}",
            )
        else:
            kind_of[record_id] = kind
    facts_by_id = {located.record.id: located.record for located in dataset.facts}

    def expect(located: Located[Any], field_name: str, ref: str | None, *kinds: str) -> None:
        """Report ``ref`` unless it names a record of one of ``kinds``."""
        if ref is None:
            return
        found = "sources" if ref in dataset.sources else kind_of.get(ref)
        if found not in kinds:
            reader.problem(
                located.path,
                located.line,
                f"{located.record.id}: {field_name} {ref!r} is not one of the {' or '.join(kinds)}",
            )

    for force in dataset.forces:
        expect(force, "parent", force.record.parent, "forces")
        for ref in force.record.operations:
            expect(force, "operations", ref, "forces")
        for ref in force.record.supports:
            expect(force, "supports", ref, "agencies")
    for wave in dataset.waves:
        expect(wave, "size_fact", wave.record.size_fact, "facts")
        expect(wave, "joins", wave.record.joins, "forces")
        for ref in wave.record.tasks:
            expect(wave, "tasks", ref, "activities")
        for member in wave.record.composition:
            expect(wave, "composition.force", member.force, "forces")
            expect(wave, "composition.fact", member.fact, "facts")
        for fact_id in [wave.record.size_fact, *(m.fact for m in wave.record.composition)]:
            fact = facts_by_id.get(fact_id or "")
            if fact is not None and fact.quantity is None:
                reader.problem(
                    wave.path, wave.line, f"{wave.record.id}: fact {fact_id!r} has no quantity"
                )
    for authority in dataset.authorities:
        expect(authority, "reference_source", authority.record.reference_source, "sources")
    for activity in dataset.activities:
        for ref in activity.record.forces:
            expect(activity, "forces", ref, "forces")
        for link in activity.record.authorities:
            expect(activity, "authorities", link.authority, "authorities")
    for located_fact in dataset.facts:
        for ref in located_fact.record.about:
            expect(located_fact, "about", ref, *ENTITY_KINDS)
        for citation in located_fact.record.citations:
            expect(located_fact, "citations.source", citation.source, "sources")


def closest_passage(text: str, quote: str) -> tuple[int, str]:
    """The stretch of ``text`` most like ``quote``, and the line it starts on."""
    matcher = difflib.SequenceMatcher(None, text, quote, autojunk=False)
    block = matcher.find_longest_match(0, len(text), 0, len(quote))
    start = max(0, min(block.a - block.b, len(text) - len(quote)))
    return text.count("\n", 0, start) + 1, text[start : start + len(quote)]


def _check_citations(reader: _Reader, dataset: Dataset) -> None:
    for located in dataset.facts:
        fact = located.record
        quotes = []
        for written in fact.citations:
            citation: Citation = written.resolve(located.source_id)
            source = dataset.sources.get(citation.source_id)
            if source is None:
                continue  # reported as an unknown reference already
            quotes.append(citation.quote)
            if source.text[citation.start : citation.end] == citation.quote:
                continue
            found_at = source.text.find(citation.quote)
            if found_at >= 0:
                where = f"it is at {found_at}-{found_at + len(citation.quote)}"
            else:
                line, passage = closest_passage(source.text, citation.quote)
                where = f"it is not in the text; closest passage (line {line}): {passage!r}"
            reader.problem(
                located.path,
                located.line,
                f"{fact.id}: quote not at {citation.start}-{citation.end} of "
                f"{source.record.text_file} ({citation.source_id}): {citation.quote!r}; {where}",
            )
        quantity = fact.quantity
        if quantity is not None and quotes and not any(quantity.text in quote for quote in quotes):
            reader.problem(
                located.path,
                located.line,
                f"{fact.id}: quantity text {quantity.text!r} is in none of the fact's quotes",
            )


def _check_preferred_facts_agree(reader: _Reader, dataset: Dataset) -> None:
    """Refuse two preferred facts that give different figures for the same measure at the same
    valid time: which one to use would be a guess."""
    preferred: dict[Measure, list[tuple[Located[FactRecord], Quantity]]] = {}
    for located in dataset.facts:
        fact = located.record
        key = measure(fact.about[0], fact.property, fact.quantity)
        if fact.rank is Rank.preferred and key is not None and fact.quantity is not None:
            preferred.setdefault(key, []).append((located, fact.quantity))
    for (subject, property_name, unit, _), facts in preferred.items():
        for index, (later, figure) in enumerate(facts):
            for earlier, earlier_figure in facts[:index]:
                first, second = earlier.record, later.record
                if disagree(earlier_figure, figure) and overlap(
                    (first.valid_from, first.valid_to), (second.valid_from, second.valid_to)
                ):
                    reader.problem(
                        later.path,
                        later.line,
                        f"{second.id}: preferred, like {first.id} ({earlier.path}:{earlier.line}),"
                        f" but they disagree about the {property_name} of {subject} in {unit} "
                        f"({figure.text!r} against {earlier_figure.text!r}) at the same valid "
                        "time; rank one normal or deprecated, or give them valid times that do "
                        "not overlap",
                    )
