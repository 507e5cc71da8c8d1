"""Reading a folder of bundles into a checked dataset, or a list of every problem found.

``muster check`` and ``muster load`` both go through ``read_dataset``: what loads is exactly what
checks.
"""

import difflib
import gc
import hashlib
import math
import multiprocessing
import os
from collections.abc import Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ValidationError

from app.ingest import hedges
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


class Lines:
    """The lines of records, found by reading their file again with lines (``read_yaml``): the
    first read keeps plain data, as lines are wanted only for a problem or a warning. The last few
    files read so are kept, as problems come in file order."""

    KEPT_FILES = 4

    def __init__(self) -> None:
        self._documents: dict[Path, Any] = {}

    def document(self, path: Path) -> Any:
        if path not in self._documents:
            if len(self._documents) >= self.KEPT_FILES:
                del self._documents[next(iter(self._documents))]
            try:
                self._documents[path] = read_yaml(path)
            except (OSError, YamlError):  # changed since it was read: no line to give
                self._documents[path] = None
        return self._documents[path]

    def line_of(self, path: Path, item: int | None, location: tuple[int | str, ...]) -> int:
        """The line of ``location`` (a Pydantic error loc) in ``path``'s document, or in its item
        ``item`` when the document is a list of records."""
        document = self.document(path)
        if item is not None:
            if not isinstance(document, list) or item >= len(document):
                return 1
            document = document[item]
        return line_of(document, location)


@dataclass(frozen=True)
class Located(Generic[RecordT]):
    """A record with the bundle it came from and where it was written: its file and its place in
    that file's list."""

    record: RecordT
    source_id: str
    path: Path
    item: int
    lines: Lines = field(compare=False, repr=False)

    @property
    def line(self) -> int:
        """The line the record starts on."""
        return self.line_at()

    def line_at(self, *location: int | str) -> int:
        """The line of one of the record's fields, e.g. ``("citations", 0, "start")``."""
        return self.lines.line_of(self.path, self.item, location)


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
    warnings: list[Problem] = field(default_factory=list)
    """What the check reports without refusing the data (see ``app.ingest.hedges``)."""

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
    """Reads bundles, collecting problems, and remembers what it could not read so that one
    problem is reported once: a reference to a record that was refused, to a file that is not
    valid YAML or to a source whose text is missing is no second problem."""

    root: Path
    problems: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)
    hashed: list[bytes] = field(default_factory=list)
    """What the data version hashes, in order: each file's path and bytes."""
    refused_ids: set[str] = field(default_factory=set)
    unreadable_kinds: set[str] = field(default_factory=set)
    textless_sources: set[str] = field(default_factory=set)
    lines: Lines = field(default_factory=Lines)

    def problem(self, path: Path, line: int, message: str) -> None:
        self.problems.append(Problem(path, line, message))

    def warning(self, path: Path, line: int, message: str) -> None:
        self.warnings.append(Problem(path, line, f"warning: {message}"))

    def unknown(self, ref: str, kinds: tuple[str, ...]) -> bool:
        """Whether ``ref`` may name a record that was not read because of another problem."""
        return ref in self.refused_ids or bool(self.unreadable_kinds & set(kinds))

    def read_file(self, path: Path, kind: str | None = None) -> Any:
        """Parse one YAML file, without lines (``Lines`` finds them), hashing its bytes into the
        data version; None if unreadable."""
        self.hash_file(path)
        try:
            return read_yaml(path, lines=False)
        except YamlError as error:
            self.problem(path, error.line, error.reason)
            if kind is not None:
                self.unreadable_kinds.add(kind)
            return None

    def hash_file(self, path: Path) -> None:
        self.hashed.append(path.relative_to(self.root).as_posix().encode() + b"\0")
        self.hashed.append(path.read_bytes() + b"\0")

    def validate(
        self, model: type[RecordT], data: Any, path: Path, item: int | None = None
    ) -> RecordT | None:
        """``data`` (item ``item`` of the file's list, or the whole file) as a ``model``."""
        try:
            return model.model_validate(data)
        except ValidationError as error:
            for detail in error.errors():
                where = ".".join(str(step) for step in detail["loc"]) or "record"
                line = self.lines.line_of(path, item, detail["loc"])
                self.problem(path, line, f"{where}: {detail['msg']}")
            return None

    def read_list(
        self, model: type[RecordT], path: Path, source_id: str, kind: str
    ) -> list[Located[RecordT]]:
        document = self.read_file(path, kind)
        if document is None:
            return []
        if not isinstance(document, list):
            self.problem(
                path, self.lines.line_of(path, None, ()), "expected a YAML list of records"
            )
            self.unreadable_kinds.add(kind)
            return []
        located = []
        for index, item in enumerate(document):
            record = self.validate(model, item, path, index)
            if record is not None:
                located.append(Located(record, source_id, path, index, self.lines))
            elif isinstance(item, dict) and isinstance(item.get("id"), str):
                self.refused_ids.add(item["id"])
            else:
                self.unreadable_kinds.add(kind)  # a record without an id may be any of them
        return located


def _bundle_folders(root: Path) -> list[Path]:
    if (root / SOURCE_FILE).is_file():
        return [root]
    return sorted(folder for folder in root.iterdir() if (folder / SOURCE_FILE).is_file())


def _read_source(reader: _Reader, folder: Path) -> tuple[str, LoadedSource | None]:
    """The bundle's source id and its source, or None (reported) if it cannot be read. The id
    falls back to the folder's name, so that the bundle's records are still read and checked
    and other bundles may still refer to them."""
    path = folder / SOURCE_FILE
    document = reader.read_file(path)
    record = reader.validate(SourceRecord, document, path) if document is not None else None
    if record is None:
        raw_id = document.get("id") if isinstance(document, dict) else None
        source_id = raw_id if isinstance(raw_id, str) else folder.name
        reader.textless_sources.add(source_id)
        return source_id, None
    text_path = folder / record.text_file
    if not text_path.is_file():
        line = reader.lines.line_of(path, None, ("text_file",))
        reader.problem(path, line, f"text_file: the source text {text_path} does not exist")
        reader.textless_sources.add(record.id)
        return record.id, None
    reader.hash_file(text_path)
    raw = text_path.read_bytes()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        reader.problem(text_path, 1, f"the source text is not UTF-8: {error.reason}")
        reader.textless_sources.add(record.id)
        return record.id, None
    return record.id, LoadedSource(record, text, hashlib.sha256(raw).hexdigest(), path)


@dataclass
class _BundleRead:
    """One bundle folder, read and checked on its own (in a worker process, when there are
    many): its records with their files and places, and what its reader found."""

    source_id: str
    source: LoadedSource | None
    records: dict[str, list[tuple[Any, Path, int]]]
    hashed: list[bytes]
    problems: list[Problem]
    warnings: list[Problem]
    refused_ids: set[str]
    unreadable_kinds: set[str]
    textless_sources: set[str]


def _read_bundle(root: Path, folder: Path) -> _BundleRead:
    reader = _Reader(root)
    source_id, source = _read_source(reader, folder)
    records: dict[str, list[tuple[Any, Path, int]]] = {}
    for file_name, model in ENTITY_FILES.items():
        if (folder / file_name).is_file():
            kind = file_name.removesuffix(".yaml")
            entities = reader.read_list(model, folder / file_name, source_id, kind)
            records[kind] = [(one.record, one.path, one.item) for one in entities]
    if (folder / FACTS_FILE).is_file():
        facts = reader.read_list(FactRecord, folder / FACTS_FILE, source_id, "facts")
        _check_fact_hedges(reader, facts)
        records["facts"] = [(one.record, one.path, one.item) for one in facts]
    return _BundleRead(
        source_id,
        source,
        records,
        reader.hashed,
        reader.problems,
        reader.warnings,
        reader.refused_ids,
        reader.unreadable_kinds,
        reader.textless_sources,
    )


FOLDERS_PER_PROCESS = 100
"""Bundles enough to pay for a worker process: below, they are read in this one (the seed data's
two bundles would wait longer on starting a process than on reading)."""


def _usable_cores() -> int:
    """The cores this process may run on (taskset, a container's cpuset), where the system says;
    else all of them (macOS has no affinity)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def _read_bundles(root: Path, folders: list[Path]) -> Iterator[_BundleRead]:
    """Every folder's bundle, in order; read by worker processes, one for each core this process
    may run on, when there are bundles enough: at 1000x, on two cores, ``muster check`` took a
    median 7.3 s (11.9 s of CPU time) against 13.1 s (12.5 s) read in one process
    (``bench/load_speed.py 1000 --against main --rounds 3``)."""
    # Forked, the workers start at once with the modules imported; the check runs no threads.
    # Where there is no fork (Windows), the bundles are read in this process.
    forking = "fork" in multiprocessing.get_all_start_methods()
    processes = min(_usable_cores(), math.ceil(len(folders) / FOLDERS_PER_PROCESS))
    if processes <= 1 or not forking:
        yield from (_read_bundle(root, folder) for folder in folders)
        return
    context = multiprocessing.get_context("fork")
    with ProcessPoolExecutor(processes, mp_context=context) as pool:
        yield from pool.map(partial(_read_bundle, root), folders, chunksize=8)


def read_dataset(root: Path) -> Dataset:
    """Read and check every bundle under ``root``; on any problem raise ``InvalidBundlesError``."""
    # Reading makes millions of objects and keeps them, and none of them in reference cycles, so
    # the cyclic collector would only walk them again and again: at 1000x the seed, that was a
    # third of the time. It runs again once the dataset is read.
    collecting = gc.isenabled()
    gc.disable()
    try:
        return _read_dataset(root)
    finally:
        if collecting:
            gc.enable()


def _read_dataset(root: Path) -> Dataset:
    reader = _Reader(root)
    dataset = Dataset()
    if not root.exists():
        raise InvalidBundlesError([Problem(root, 0, "the path does not exist")])
    if not root.is_dir():
        raise InvalidBundlesError([Problem(root, 0, "not a folder of source bundles")])
    folders = _bundle_folders(root)
    if not folders:
        raise InvalidBundlesError(
            [Problem(root, 0, f"no bundle here: no folder holds a {SOURCE_FILE}")]
        )
    hasher = hashlib.sha256()
    for bundle in _read_bundles(root, folders):
        if bundle.source is not None and bundle.source_id in dataset.sources:
            # Its records are left out, as duplicates of the first bundle's, and so are their
            # problems; the data version does not matter, as the data is refused.
            reader.problem(bundle.source.path, 1, f"duplicate source id {bundle.source_id!r}")
            continue
        if bundle.source is not None:
            dataset.sources[bundle.source_id] = bundle.source
        for chunk in bundle.hashed:
            hasher.update(chunk)
        reader.problems.extend(bundle.problems)
        reader.warnings.extend(bundle.warnings)
        reader.refused_ids |= bundle.refused_ids
        reader.unreadable_kinds |= bundle.unreadable_kinds
        reader.textless_sources |= bundle.textless_sources
        for kind, read in bundle.records.items():
            getattr(dataset, kind).extend(
                Located(record, bundle.source_id, path, item, reader.lines)
                for record, path, item in read
            )
    _check_ids_and_references(reader, dataset)
    _check_citations(reader, dataset)
    _check_origins(reader, dataset)
    _check_preferred_facts_agree(reader, dataset)
    _check_relation_hedges(reader, dataset)
    if reader.problems:
        raise InvalidBundlesError(reader.problems)
    dataset.version = hasher.hexdigest()[:16]
    dataset.warnings = sorted(reader.warnings)
    return dataset


def _check_ids_and_references(reader: _Reader, dataset: Dataset) -> None:
    kind_of: dict[str, str] = {}
    for kind, located in dataset.records():
        record_id = located.record.id
        if record_id in kind_of:
            reader.problem(
                located.path,
                located.line_at("id"),
                f"duplicate id {record_id!r}: already used by one of the {kind_of[record_id]}",
            )
        else:
            kind_of[record_id] = kind
    facts_by_id = {located.record.id: located.record for located in dataset.facts}

    def expect(
        located: Located[Any], where: tuple[int | str, ...], ref: str | None, *kinds: str
    ) -> None:
        """Report ``ref`` (the field at ``where``) unless it names a record of one of ``kinds``,
        or one that another problem kept from being read."""
        if ref is None:
            return
        found = "sources" if ref in dataset.sources else kind_of.get(ref)
        if found in kinds or reader.unknown(ref, kinds):
            return
        if "sources" in kinds and ref in reader.textless_sources:
            return
        field_name = ".".join(str(step) for step in where if isinstance(step, str))
        reader.problem(
            located.path,
            located.line_at(*where),
            f"{located.record.id}: {field_name} {ref!r} is not one of the {' or '.join(kinds)}",
        )

    for force in dataset.forces:
        expect(force, ("parent",), force.record.parent, "forces")
        for index, ref in enumerate(force.record.operations):
            expect(force, ("operations", index), ref, "forces")
        for index, ref in enumerate(force.record.supports):
            expect(force, ("supports", index), ref, "agencies")
    for wave in dataset.waves:
        w = wave.record
        expect(wave, ("size_fact",), w.size_fact, "facts")
        expect(wave, ("joins",), w.joins, "forces")
        expect(wave, ("joins_fact",), w.joins_fact, "facts")
        for index, ref in enumerate(w.tasks):
            expect(wave, ("tasks", index), ref, "activities")
        for index, member in enumerate(w.composition):
            expect(wave, ("composition", index, "force"), member.force, "forces")
            expect(wave, ("composition", index, "fact"), member.fact, "facts")
        quantified = [(("size_fact",), w.size_fact)] + [
            (("composition", index, "fact"), m.fact) for index, m in enumerate(w.composition)
        ]
        for where, fact_id in quantified:
            fact = facts_by_id.get(fact_id or "")
            if fact is not None and fact.quantity is None:
                reader.problem(
                    wave.path, wave.line_at(*where), f"{w.id}: fact {fact_id!r} has no quantity"
                )
        joins_fact = facts_by_id.get(w.joins_fact or "")
        if joins_fact is not None and not {w.id, w.joins} <= set(joins_fact.about):
            reader.problem(
                wave.path,
                wave.line_at("joins_fact"),
                f"{w.id}: joins_fact {w.joins_fact!r} is not about both the wave and {w.joins!r}",
            )
    for authority in dataset.authorities:
        expect(authority, ("reference_source",), authority.record.reference_source, "sources")
    for activity in dataset.activities:
        for index, ref in enumerate(activity.record.forces):
            expect(activity, ("forces", index), ref, "forces")
        for index, link in enumerate(activity.record.authorities):
            expect(activity, ("authorities", index, "authority"), link.authority, "authorities")
    for located_fact in dataset.facts:
        for index, ref in enumerate(located_fact.record.about):
            expect(located_fact, ("about", index), ref, *ENTITY_KINDS)
        for index, citation in enumerate(located_fact.record.citations):
            expect(located_fact, ("citations", index, "source"), citation.source, "sources")


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
        for index, written in enumerate(fact.citations):
            citation: Citation = written.resolve(located.source_id)
            source = dataset.sources.get(citation.source_id)
            if source is None:
                continue  # reported already: an unknown source, or one whose text is missing
            quotes.append(citation.quote)
            if source.text[citation.start : citation.end] == citation.quote:
                continue
            found_at = source.text.find(citation.quote)
            if found_at >= 0:
                where = f"it is at {found_at}-{found_at + len(citation.quote)}"
                line = located.line_at("citations", index, "start")
            else:
                passage_line, passage = closest_passage(source.text, citation.quote)
                where = f"it is not in the text; closest passage (line {passage_line}): {passage!r}"
                line = located.line_at("citations", index, "quote")
            reader.problem(
                located.path,
                line,
                f"{fact.id}: quote not at {citation.start}-{citation.end} of "
                f"{source.record.text_file} ({citation.source_id}): {citation.quote!r}; {where}",
            )
        if not quotes:
            continue
        quantity = fact.quantity
        if quantity is not None and not any(quantity.text in quote for quote in quotes):
            reader.problem(
                located.path,
                located.line_at("quantity", "text"),
                f"{fact.id}: quantity text {quantity.text!r} is in none of the fact's quotes",
            )
        if fact.timing is not None and not any(fact.timing in quote for quote in quotes):
            reader.problem(
                located.path,
                located.line_at("timing"),
                f"{fact.id}: timing {fact.timing!r} is in none of the fact's quotes",
            )


def _check_origins(reader: _Reader, dataset: Dataset) -> None:
    """A force's origin is the source's own words: it must be in its bundle's text."""
    for located in dataset.forces:
        origin = located.record.origin
        source = dataset.sources.get(located.source_id)
        if origin is not None and source is not None and origin not in source.text:
            reader.problem(
                located.path,
                located.line_at("origin"),
                f"{located.record.id}: origin {origin!r} is not in {source.record.text_file}",
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
                        later.line_at("rank"),
                        f"{second.id}: preferred, like {first.id} ({earlier.path}:{earlier.line}),"
                        f" but they disagree about the {property_name} of {subject} in {unit} "
                        f"({figure.text!r} against {earlier_figure.text!r}) at the same valid "
                        "time; rank one normal or deprecated, or give them valid times that do "
                        "not overlap",
                    )


def _check_fact_hedges(reader: _Reader, facts: list[Located[FactRecord]]) -> None:
    """No fact firmer than its quotes: ``app.ingest.hedges`` says what is refused."""
    for located in facts:
        fact = located.record
        quotes = [citation.quote for citation in fact.citations]
        errors, warnings = hedges.check_fact(fact, quotes)
        for finding in errors:
            reader.problem(
                located.path, located.line_at(*finding.where), f"{fact.id}: {finding.message}"
            )
        for finding in warnings:
            reader.warning(
                located.path, located.line_at(*finding.where), f"{fact.id}: {finding.message}"
            )


def _check_relation_hedges(reader: _Reader, dataset: Dataset) -> None:
    """No relation firmer than the quotes of the fact that gives it (``app.ingest.hedges``)."""
    facts_by_id = {located.record.id: located.record for located in dataset.facts}
    for wave in dataset.waves:
        evidence = facts_by_id.get(wave.record.joins_fact or "")
        if evidence is None:
            continue  # reported as an unknown reference already
        quotes = [citation.quote for citation in evidence.citations]
        for finding in hedges.check_relation(wave.record, evidence, quotes):
            reader.problem(
                wave.path, wave.line_at(*finding.where), f"{wave.record.id}: {finding.message}"
            )
