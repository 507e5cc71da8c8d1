"""Reading a folder of bundles into a checked dataset, or a list of every problem found.

``muster check`` and ``muster load`` both go through ``read_dataset``: what loads is exactly what
checks. Each bundle is read and checked on its own, in a worker process when there are many;
what the checks across bundles need of its records (ids, the references it cannot resolve, its
quotes of other sources) comes back, and the records stay in their files. A load reads them
again, file by file (``Dataset.read``), and refuses a file that changed since it was checked.
"""

import ctypes
import difflib
import gc
import hashlib
import math
import multiprocessing
import os
import signal
import sys
import threading
from collections import Counter, defaultdict, deque
from collections.abc import Callable, Container, Iterable, Iterator, Mapping
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field, fields, replace
from functools import partial
from pathlib import Path
from typing import Any, Generic, NamedTuple, TypeVar

from pydantic import BaseModel, ValidationError

from app.ingest import hedges
from app.ingest.bundle import (
    ENTITY_FILES,
    FACTS_FILE,
    SOURCE_FILE,
    FactRecord,
    ForceRecord,
    SourceRecord,
    WaveRecord,
)
from app.ingest.yaml_lines import YamlError, line_of, read_yaml
from app.models.common import Citation, DateValue, Quantity, Rank
from app.models.kinds import ENTITY_KINDS
from app.services.as_of import overlap
from app.services.quantities import Measure, disagree, measure

RecordT = TypeVar("RecordT", bound=BaseModel)
MadeT = TypeVar("MadeT")


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

    def __reduce__(self) -> tuple[type["Lines"], tuple[()]]:
        # A cache: sent to another process, it starts empty rather than carry its documents.
        return Lines, ()

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

    def line_at(self, *location: int | str) -> int:
        """The line of one of the record's fields, e.g. ``("citations", 0, "start")``."""
        return self.lines.line_of(self.path, self.item, location)


CHANGED = "changed since it was checked: check the bundles and load them again"
CHANGED_WHILE_CHECKED = "changed while it was being checked: check the bundles again"


@dataclass(frozen=True)
class LoadedSource:
    """A bundle's source, checked: its record, and its text's hash and length. The text is read
    where a check needs it and not kept: a load holds no source's text."""

    record: SourceRecord
    sha256: str
    length: int
    path: Path
    text_path: Path

    def text(self) -> str:
        """The text, read again; refused if it is not the text that was checked."""
        raw = self.text_path.read_bytes() if self.text_path.is_file() else b""
        if hashlib.sha256(raw).hexdigest() != self.sha256:
            raise InvalidBundlesError([Problem(self.text_path, 1, CHANGED)])
        return raw.decode("utf-8")


class FactTelling(NamedTuple):
    """What the order of telling needs of a fact (``render.Renderer``): the sources its citations
    name, in order and once each, and where its first quote starts."""

    fact_id: str
    cited_sources: tuple[str, ...]
    first_start: int


@dataclass
class Relations:
    """Each entity's relations to the others, from the side the bundles write them on; each list
    in the order of the related records' ids once ``sort`` has run."""

    activities_of: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    effects_of: dict[tuple[str, str], list[str]] = field(default_factory=lambda: defaultdict(list))
    waves_of: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    supporters_of: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))

    def add(self, kind: str, record: Any) -> None:
        if kind == "activities":
            for force_id in record.forces:
                self.activities_of[force_id].append(record.id)
            for link in record.authorities:
                self.effects_of[(link.authority, link.effect.value)].append(record.id)
        elif kind == "waves":
            for force_id in record.forces_tied():
                self.waves_of[force_id].append(record.id)
        elif kind == "forces":
            for agency_id in record.supports:
                self.supporters_of[agency_id].append(record.id)

    def merge(self, other: "Relations") -> None:
        for mine, theirs in zip(self._lists(), other._lists(), strict=True):
            for key, ids in theirs.items():
                mine[key].extend(ids)

    def sort(self) -> None:
        for lists in self._lists():
            for ids in lists.values():
                ids.sort()

    def _lists(self) -> tuple[dict[Any, list[str]], ...]:
        return (self.activities_of, self.effects_of, self.waves_of, self.supporters_of)


RECORD_MODELS: dict[str, type[BaseModel]] = {
    **{file_name.removesuffix(".yaml"): model for file_name, model in ENTITY_FILES.items()},
    FACTS_FILE.removesuffix(".yaml"): FactRecord,
}
"""Each kind of record ("forces", ..., "facts"), whose file is its name with ``.yaml``."""


@dataclass
class Dataset:
    """A checked folder of bundles: what the check found, and what rendering any one record
    needs (``render.Renderer``): names, relations, the order of telling, counts. The records
    stay in their files, and ``read`` reads them again, file by file: a load holds a file's
    records, not the dataset's."""

    version: str = ""
    sources: dict[str, LoadedSource] = field(default_factory=dict)
    folders: list[tuple[str, Path]] = field(default_factory=list)
    """Each bundle's source id and folder, in the order they were read."""
    counts: Counter[str] = field(default_factory=Counter)
    """How many records of each kind ("forces", ..., "facts") the bundles hold."""
    names: dict[str, tuple[str, str]] = field(default_factory=dict)
    """Each entity's kind and name, by id."""
    tellings: list[FactTelling] = field(default_factory=list)
    fact_counts: Counter[str] = field(default_factory=Counter)
    """How many facts are about each entity, and how many cite each source."""
    relations: Relations = field(default_factory=Relations)
    warnings: list[Problem] = field(default_factory=list)
    """What the check reports without refusing the data (see ``app.ingest.hedges``)."""
    file_digests: dict[Path, str] = field(default_factory=dict)
    """The SHA-256 of each record file checked, so that ``read`` reads what was checked."""

    def read(self, kind: str) -> Iterator[Located[Any]]:
        """Every record of one kind, read again from the bundles' files, in the order they were
        checked; refused (``InvalidBundlesError``) if a file changed since."""
        for records in self.read_files(kind, _same):
            yield from records

    def read_files(self, kind: str, make: Callable[[list[Located[Any]]], MadeT]) -> Iterator[MadeT]:
        """``make`` of each bundle's records of one kind, read again from its file, in the order
        the files were checked: run in the worker processes that read them, when there are many
        (``_in_workers``). Refused (``InvalidBundlesError``) if a file changed since it was
        checked."""
        file_name = f"{kind}.yaml"
        expected = [
            (self.file_digests.get(folder / file_name), (source_id, folder))
            for source_id, folder in self.folders
        ]
        read = partial(_read_records, RECORD_MODELS[kind], file_name, make)
        for (_, folder), made in zip(self.folders, _in_workers(read, expected), strict=True):
            if isinstance(made, _Changed):
                raise InvalidBundlesError([Problem(folder / file_name, 1, CHANGED)])
            yield made


class _Changed:
    """What reading a file of records gives when the file is not the one that was checked."""


def _same(records: list[Located[Any]]) -> list[Located[Any]]:
    return records


def _read_records(
    model: type[BaseModel],
    file_name: str,
    make: Callable[[list[Located[Any]]], MadeT],
    expected: tuple[str | None, tuple[str, Path]],
) -> MadeT | _Changed:
    """``make`` of the valid records in one bundle's file, each with its place in the file's
    list; or ``_Changed`` if the file's SHA-256 is not the ``expected`` one (None: no file). A
    dataset that loads refused nothing, so there every record is valid; a check that reads a file
    again for its waves skips what it reported."""
    digest, (source_id, folder) = expected
    path = folder / file_name
    raw = path.read_bytes() if path.is_file() else None
    if (hashlib.sha256(raw).hexdigest() if raw is not None else None) != digest:
        return _Changed()
    lines = Lines()
    try:
        document = read_yaml(path, lines=False, content=raw) if raw is not None else None
    except YamlError:
        document = None
    records = []
    for item, data in enumerate(document if isinstance(document, list) else []):
        try:
            records.append(Located(model.model_validate(data), source_id, path, item, lines))
        except ValidationError:
            continue
    return make(records)


@dataclass
class _Findings:
    """What reading found besides the records: problems and warnings, what it could not read
    (so that one problem is reported once: a reference to a record that was refused, to a file
    that is not valid YAML or to a source whose text is missing is no second problem), and the
    files read."""

    problems: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)
    refused_ids: set[str] = field(default_factory=set)
    unreadable_kinds: set[str] = field(default_factory=set)
    textless_sources: set[str] = field(default_factory=set)
    hashed: list[bytes] = field(default_factory=list)
    """What the data version hashes, in order: each file's path and bytes."""
    file_digests: dict[Path, str] = field(default_factory=dict)

    def findings(self) -> "_Findings":
        """These findings alone, without what a subclass holds besides."""
        return _Findings(**{one.name: getattr(self, one.name) for one in fields(_Findings)})

    def add(self, other: "_Findings") -> None:
        """Take the problems, warnings and unread records of ``other``; its ``hashed`` and
        ``file_digests`` are left to the caller, which hashes them into the data version."""
        self.problems += other.problems
        self.warnings += other.warnings
        self.refused_ids |= other.refused_ids
        self.unreadable_kinds |= other.unreadable_kinds
        self.textless_sources |= other.textless_sources


@dataclass
class _Reader(_Findings):
    """Reads bundles under ``root``, collecting what it finds."""

    root: Path = field(kw_only=True)
    lines: Lines = field(default_factory=Lines)

    def problem(self, path: Path, line: int, message: str) -> None:
        self.problems.append(Problem(path, line, message))

    def changed_while_checked(self, changed: InvalidBundlesError) -> None:
        """Report the files that a second read found changed since the first (``CHANGED``)."""
        self.problems += [
            replace(problem, message=CHANGED_WHILE_CHECKED) for problem in changed.problems
        ]

    def warning(self, path: Path, line: int, message: str) -> None:
        self.warnings.append(Problem(path, line, f"warning: {message}"))

    def unknown(self, ref: str, kinds: tuple[str, ...]) -> bool:
        """Whether ``ref`` may name a record that was not read because of another problem."""
        return ref in self.refused_ids or bool(self.unreadable_kinds & set(kinds))

    def read_file(self, path: Path, kind: str | None = None) -> Any:
        """Parse one YAML file, without lines (``Lines`` finds them), hashing its bytes into the
        data version; None if unreadable."""
        raw = self.hash_file(path)
        self.file_digests[path] = hashlib.sha256(raw).hexdigest()
        try:
            return read_yaml(path, lines=False, content=raw)
        except YamlError as error:
            self.problem(path, error.line, error.reason)
            if kind is not None:
                self.unreadable_kinds.add(kind)
            return None

    def hash_file(self, path: Path) -> bytes:
        """The file's bytes, hashed with its path into the data version."""
        raw = path.read_bytes()
        self.hashed.append(path.relative_to(self.root).as_posix().encode() + b"\0")
        self.hashed.append(raw + b"\0")
        return raw

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


def _read_source(reader: _Reader, folder: Path) -> tuple[str, LoadedSource | None, str | None]:
    """The bundle's source id, its source and its text, or None (reported) if it cannot be read.
    The id falls back to the folder's name, so that the bundle's records are still read and
    checked and other bundles may still refer to them."""
    path = folder / SOURCE_FILE
    document = reader.read_file(path)
    record = reader.validate(SourceRecord, document, path) if document is not None else None
    if record is None:
        raw_id = document.get("id") if isinstance(document, dict) else None
        source_id = raw_id if isinstance(raw_id, str) else folder.name
        reader.textless_sources.add(source_id)
        return source_id, None, None
    text_path = folder / record.text_file
    if not text_path.is_file():
        line = reader.lines.line_of(path, None, ("text_file",))
        reader.problem(path, line, f"text_file: the source text {text_path} does not exist")
        reader.textless_sources.add(record.id)
        return record.id, None, None
    raw = reader.hash_file(text_path)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        reader.problem(text_path, 1, f"the source text is not UTF-8: {error.reason}")
        reader.textless_sources.add(record.id)
        return record.id, None, None
    source = LoadedSource(record, hashlib.sha256(raw).hexdigest(), len(text), path, text_path)
    return record.id, source, text


class _Reference(NamedTuple):
    """A reference that its bundle does not resolve on its own, checked once every bundle is
    read: the record's file, place and id, the field (a Pydantic loc), and the kinds it may
    name."""

    path: Path
    item: int
    where: tuple[int | str, ...]
    ref: str
    kinds: tuple[str, ...]
    record_id: str


class _ForeignCitation(NamedTuple):
    """A citation of another bundle's source, checked against that text once every bundle is
    read."""

    path: Path
    item: int
    position: int
    """The citation's place among the fact's citations."""
    fact_id: str
    citation: Citation


class _QuotedWords(NamedTuple):
    """A fact's quantity text and timing, which must be in its quotes, each quote with the id of
    the source it quotes. A fact that quotes other bundles' sources is checked once every bundle
    is read, as only the quotes of sources that were read count."""

    path: Path
    item: int
    fact_id: str
    quantity_text: str | None
    timing: str | None
    quotes: list[tuple[str, str]]


class _Preferred(NamedTuple):
    """A preferred fact that gives a figure, to compare with the others of the same measure: its
    measure, figure and valid time, and where it is written."""

    measure: Measure
    fact_id: str
    figure: Quantity
    valid: tuple[DateValue | None, DateValue | None]
    path: Path
    item: int


@dataclass
class _BundleRead:
    """One bundle folder, read and checked on its own (in a worker process, when there are
    many): what the checks across bundles and the rendering need of its records, and what its
    reader found. Its records themselves stay behind."""

    folder: Path
    source_id: str
    source: LoadedSource | None
    records: list[tuple[str, str, int]] = field(default_factory=list)
    """The kind, id and place in its file of each record read."""
    names: dict[str, tuple[str, str]] = field(default_factory=dict)
    tellings: list[FactTelling] = field(default_factory=list)
    fact_counts: Counter[str] = field(default_factory=Counter)
    relations: Relations = field(default_factory=Relations)
    references: list[_Reference] = field(default_factory=list)
    foreign_citations: list[_ForeignCitation] = field(default_factory=list)
    quoting_other_sources: list[_QuotedWords] = field(default_factory=list)
    waves_naming_other_facts: list[Located[WaveRecord]] = field(default_factory=list)
    """Waves that name facts of other bundles: checked against them once every bundle is read."""
    preferred: list[_Preferred] = field(default_factory=list)
    found: _Findings = field(default_factory=_Findings)


def _read_bundle(root: Path, folder: Path) -> _BundleRead:
    """Read one bundle and check what it holds on its own: each record, its quotes of its own
    source, its hedges, and its waves' facts when they are its own."""
    reader = _Reader(root=root)
    source_id, source, text = _read_source(reader, folder)
    located: dict[str, list[Located[Any]]] = {}
    for kind, model in RECORD_MODELS.items():
        path = folder / f"{kind}.yaml"
        if path.is_file():
            located[kind] = reader.read_list(model, path, source_id, kind)
    bundle = _BundleRead(folder, source_id, source)
    facts: list[Located[FactRecord]] = located.get("facts", [])
    _check_fact_hedges(reader, facts)
    for fact in facts:
        _check_own_quotes(reader, bundle, fact, source, text)
    _check_origins(reader, located.get("forces", []), source, text)
    own_facts = {fact.record.id: fact.record for fact in facts}
    for wave in located.get("waves", []):
        named = wave.record.facts_named()
        if all(fact_id in own_facts or fact_id in reader.refused_ids for fact_id in named):
            _check_wave_facts(reader, wave, own_facts)
        else:  # kept without the reader's lines, which hold whole documents
            bundle.waves_naming_other_facts.append(replace(wave, lines=Lines()))
    _summarize(bundle, located)
    bundle.found = reader.findings()
    return bundle


def _summarize(bundle: _BundleRead, located: dict[str, list[Located[Any]]]) -> None:
    """What the checks across bundles and the rendering need of the bundle's records."""
    own_kinds = {one.record.id: kind for kind, records in located.items() for one in records}
    if bundle.source is not None:
        own_kinds[bundle.source_id] = "sources"
    for kind, records in located.items():
        for one in records:
            record = one.record
            bundle.records.append((kind, record.id, one.item))
            for where, ref, kinds in _references(kind, record):
                if ref is not None and own_kinds.get(ref) not in kinds:
                    bundle.references.append(
                        _Reference(one.path, one.item, where, ref, kinds, record.id)
                    )
            if kind == "facts":
                cited = tuple(dict.fromkeys(c.source or one.source_id for c in record.citations))
                bundle.tellings.append(FactTelling(record.id, cited, record.citations[0].start))
                bundle.fact_counts.update(record.about)
                bundle.fact_counts.update(cited)
                key = measure(record.about[0], record.property, record.quantity)
                if record.rank is Rank.preferred and key is not None:
                    assert record.quantity is not None  # it has a measure, so a figure
                    valid = (record.valid_from, record.valid_to)
                    bundle.preferred.append(
                        _Preferred(key, record.id, record.quantity, valid, one.path, one.item)
                    )
            else:
                bundle.names[record.id] = (kind, record.name)
                bundle.relations.add(kind, record)


def _references(
    kind: str, record: Any
) -> Iterator[tuple[tuple[int | str, ...], str | None, tuple[str, ...]]]:
    """Each reference a record makes: its field (a Pydantic loc), the id, the kinds it may name."""
    if kind == "forces":
        yield ("parent",), record.parent, ("forces",)
        for index, ref in enumerate(record.operations):
            yield ("operations", index), ref, ("forces",)
        for index, ref in enumerate(record.supports):
            yield ("supports", index), ref, ("agencies",)
    elif kind == "waves":
        yield ("size_fact",), record.size_fact, ("facts",)
        yield ("joins",), record.joins, ("forces",)
        yield ("joins_fact",), record.joins_fact, ("facts",)
        for index, ref in enumerate(record.tasks):
            yield ("tasks", index), ref, ("activities",)
        for index, member in enumerate(record.composition):
            yield ("composition", index, "force"), member.force, ("forces",)
            yield ("composition", index, "fact"), member.fact, ("facts",)
    elif kind == "authorities":
        yield ("reference_source",), record.reference_source, ("sources",)
    elif kind == "activities":
        for index, ref in enumerate(record.forces):
            yield ("forces", index), ref, ("forces",)
        for index, link in enumerate(record.authorities):
            yield ("authorities", index, "authority"), link.authority, ("authorities",)
    elif kind == "facts":
        for index, ref in enumerate(record.about):
            yield ("about", index), ref, ENTITY_KINDS
        for index, citation in enumerate(record.citations):
            yield ("citations", index, "source"), citation.source, ("sources",)


FOLDERS_PER_PROCESS = 100
"""Bundles enough to pay for a worker process: below, they are read in this one (the seed data's
two bundles would wait longer on starting a process than on reading)."""

READS_AHEAD = 16
"""Folders read by the workers ahead of the one being used: enough to keep them busy, few enough
that memory holds a few folders' results, not every one's."""

ItemT = TypeVar("ItemT")
ResultT = TypeVar("ResultT")


def _can_fork() -> bool:
    """Whether worker processes may be forked from this one: not where there is no fork
    (Windows), nor beside another thread (a server's, say), as a fork copies only the thread
    that calls it, and a lock another thread held would stay held in the worker."""
    return "fork" in multiprocessing.get_all_start_methods() and threading.active_count() == 1


def _usable_cores() -> int:
    """The cores this process may run on (taskset, a container's cpuset), where the system says;
    else all of them (macOS has no affinity)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def _in_workers(work: Callable[[ItemT], ResultT], items: list[ItemT]) -> Iterator[ResultT]:
    """``work`` on every item (a bundle folder, or what names one), in order; by worker
    processes, one for each ``FOLDERS_PER_PROCESS`` items up to one for each core this process
    may run on. At 1000x, on two cores, ``muster check`` took a median 8.1 s against 13.6 s in
    one process, and ``muster load`` 29.1 s against 46.6 s (``bench/load_speed.py 1000 --against
    c6642b7 --beside-cores 0 --rounds 3``)."""
    # Forked, the workers start at once with the modules imported, and each is handed ``work``
    # as it is, not pickled: a load's work holds what rendering needs of the whole dataset.
    processes = min(_usable_cores(), math.ceil(len(items) / FOLDERS_PER_PROCESS))
    if processes <= 1 or not _can_fork():
        yield from map(work, items)
        return
    context = multiprocessing.get_context("fork")
    initargs = (work, os.getpid(), _open_descriptors())
    with ProcessPoolExecutor(
        processes, mp_context=context, initializer=_take_work, initargs=initargs
    ) as pool:
        ahead: deque[Future[ResultT]] = deque()
        for item in items:
            ahead.append(pool.submit(_do_work, item))
            if len(ahead) > READS_AHEAD:
                yield ahead.popleft().result()
        while ahead:
            yield ahead.popleft().result()


_work: Callable[[Any], Any] | None = None
"""In a worker process of ``_in_workers``: what it does to each item it is sent."""


PR_SET_PDEATHSIG = 1
"""prctl's option (linux/prctl.h) for the signal a process gets when its parent ends."""


def _open_descriptors() -> list[int]:
    """This process's open file descriptors past stdin, stdout and stderr (the one that lists
    them is closed by then, and fails fstat)."""
    listed = (int(name) for name in os.listdir("/dev/fd"))
    return [fd for fd in listed if fd > 2 and _is_open(fd)]


def _is_open(fd: int) -> bool:
    try:
        os.fstat(fd)
    except OSError:
        return False
    return True


def _take_work(work: Callable[[Any], Any], parent: int, inherited: list[int]) -> None:
    global _work  # the worker's own, set once as it starts
    _work = work
    # A worker blocks on a pipe that it holds open itself, so a parent killed, by SIGKILL even,
    # would leave it for good, holding what it inherited: the load's lock file (the next load
    # would wait forever) and its database connection (on PostgreSQL, a transaction left open).
    # So it is killed when its parent ends (Linux; the parent's forking thread, which is the
    # load's), and lets go of what it inherited beside the pool's own pipes, which it never uses.
    # Each is pointed at /dev/null rather than closed: its number stays taken, so an inherited
    # object that closes its descriptor when collected cannot close a file the worker opened.
    if sys.platform == "linux":
        ctypes.CDLL(None).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
        if os.getppid() != parent:  # it ended before prctl
            os._exit(1)
    nothing = os.open(os.devnull, os.O_RDWR)
    for fd in inherited:
        os.dup2(nothing, fd)
    os.close(nothing)


def _do_work(item: Any) -> Any:
    assert _work is not None  # set by _take_work as the worker started
    return _work(item)


def read_dataset(root: Path) -> Dataset:
    """Read and check every bundle under ``root``; on any problem raise ``InvalidBundlesError``."""
    # Reading makes many objects, and none of them in reference cycles, so the cyclic collector
    # would only walk them again and again, here and in the worker processes forked from here:
    # at 1000x, a check took a median 6.03 s with it off against 6.98 s on (three runs of each,
    # alternated, timed in the process, by hand on 2026-12-03). It runs again once the dataset
    # is read.
    collecting = gc.isenabled()
    gc.disable()
    try:
        return _read_dataset(root)
    finally:
        if collecting:
            gc.enable()


def _read_dataset(root: Path) -> Dataset:
    reader = _Reader(root=root)
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
    kind_of: dict[str, str] = {}
    """The kind of the first record read with each id, in the folders' order."""
    also_of: dict[str, set[str]] = defaultdict(set)
    """The other kinds of an id that is used again: a reference to any of them is resolved, as
    the duplicate is the problem."""
    references: list[_Reference] = []
    foreign_citations: list[_ForeignCitation] = []
    quoting_other_sources: list[_QuotedWords] = []
    waves_naming_other_facts: list[Located[WaveRecord]] = []
    preferred: list[_Preferred] = []
    for bundle in _in_workers(partial(_read_bundle, root), folders):
        if bundle.source is not None and bundle.source_id in dataset.sources:
            # Its records are left out, as duplicates of the first bundle's, and so are their
            # problems; the data version does not matter, as the data is refused.
            reader.problem(bundle.source.path, 1, f"duplicate source id {bundle.source_id!r}")
            continue
        if bundle.source is not None:
            dataset.sources[bundle.source_id] = bundle.source
        dataset.folders.append((bundle.source_id, bundle.folder))
        for chunk in bundle.found.hashed:
            hasher.update(chunk)
        dataset.file_digests |= bundle.found.file_digests
        reader.add(bundle.found)
        for kind, record_id, item in bundle.records:
            dataset.counts[kind] += 1
            if record_id not in kind_of:
                kind_of[record_id] = kind
                continue
            if kind != kind_of[record_id]:
                also_of[record_id].add(kind)
            path = bundle.folder / f"{kind}.yaml"
            reader.problem(
                path,
                reader.lines.line_of(path, item, ("id",)),
                f"duplicate id {record_id!r}: already used by one of the {kind_of[record_id]}",
            )
        dataset.names |= bundle.names
        dataset.tellings += bundle.tellings
        dataset.fact_counts.update(bundle.fact_counts)
        dataset.relations.merge(bundle.relations)
        references += bundle.references
        foreign_citations += bundle.foreign_citations
        quoting_other_sources += bundle.quoting_other_sources
        waves_naming_other_facts += bundle.waves_naming_other_facts
        preferred += bundle.preferred
    dataset.relations.sort()
    _check_references(reader, dataset, kind_of, also_of, references)
    _check_foreign_quotes(reader, dataset, foreign_citations)
    for words in quoting_other_sources:
        _check_quoted_words(reader, words, dataset.sources)
    _check_waves_naming_other_facts(reader, dataset, waves_naming_other_facts)
    _check_preferred_facts_agree(reader, preferred)
    if reader.problems:
        raise InvalidBundlesError(reader.problems)
    dataset.version = hasher.hexdigest()[:16]
    dataset.warnings = sorted(reader.warnings)
    return dataset


def _check_references(
    reader: _Reader,
    dataset: Dataset,
    kind_of: dict[str, str],
    also_of: dict[str, set[str]],
    references: list[_Reference],
) -> None:
    """Report each reference that names no record of its kinds, unless another problem kept
    that record from being read."""
    for reference in references:
        ref, kinds = reference.ref, reference.kinds
        found = {kind_of.get(ref), *also_of.get(ref, ())}
        if ref in dataset.sources:
            found.add("sources")
        if found & set(kinds) or reader.unknown(ref, kinds):
            continue
        if "sources" in kinds and ref in reader.textless_sources:
            continue
        field_name = ".".join(str(step) for step in reference.where if isinstance(step, str))
        reader.problem(
            reference.path,
            reader.lines.line_of(reference.path, reference.item, reference.where),
            f"{reference.record_id}: {field_name} {ref!r} is not one of the {' or '.join(kinds)}",
        )


def _check_waves_naming_other_facts(
    reader: _Reader, dataset: Dataset, waves: list[Located[WaveRecord]]
) -> None:
    """Check waves against the facts of other bundles that they name, read again from the
    bundles' files: only those facts are kept."""
    if not waves:
        return
    named = {fact_id for wave in waves for fact_id in wave.record.facts_named()}
    named_facts: dict[str, FactRecord] = {}
    try:
        for facts in dataset.read_files("facts", partial(_records_named, named)):
            named_facts |= facts
    except InvalidBundlesError as changed:
        reader.changed_while_checked(changed)
        return
    for wave in waves:
        _check_wave_facts(reader, replace(wave, lines=reader.lines), named_facts)


def _records_named(ids: set[str], records: list[Located[Any]]) -> dict[str, Any]:
    """The records whose id is one of ``ids``, by id."""
    return {one.record.id: one.record for one in records if one.record.id in ids}


def _check_wave_facts(
    reader: _Reader, wave: Located[WaveRecord], facts: Mapping[str, FactRecord]
) -> None:
    """What a wave says of the facts it names (found in ``facts``; one that is not is an unknown
    reference, reported already): a size has a quantity; the fact that it joins a force is about
    both, and no firmer than its quotes (``app.ingest.hedges``)."""
    w = wave.record
    quantified = [(("size_fact",), w.size_fact)] + [
        (("composition", index, "fact"), m.fact) for index, m in enumerate(w.composition)
    ]
    for where, fact_id in quantified:
        fact = facts.get(fact_id or "")
        if fact is not None and fact.quantity is None:
            reader.problem(
                wave.path, wave.line_at(*where), f"{w.id}: fact {fact_id!r} has no quantity"
            )
    evidence = facts.get(w.joins_fact or "")
    if evidence is None:
        return
    if not {w.id, w.joins} <= set(evidence.about):
        reader.problem(
            wave.path,
            wave.line_at("joins_fact"),
            f"{w.id}: joins_fact {w.joins_fact!r} is not about both the wave and {w.joins!r}",
        )
    quotes = [citation.quote for citation in evidence.citations]
    for finding in hedges.check_relation(w, evidence, quotes):
        reader.problem(wave.path, wave.line_at(*finding.where), f"{w.id}: {finding.message}")


def closest_passage(text: str, quote: str) -> tuple[int, str]:
    """The stretch of ``text`` most like ``quote``, and the line it starts on."""
    matcher = difflib.SequenceMatcher(None, text, quote, autojunk=False)
    block = matcher.find_longest_match(0, len(text), 0, len(quote))
    start = max(0, min(block.a - block.b, len(text) - len(quote)))
    return text.count("\n", 0, start) + 1, text[start : start + len(quote)]


def _check_quote(
    reader: _Reader,
    citing: tuple[Path, int, int, str],
    citation: Citation,
    source: LoadedSource,
    text: str,
) -> None:
    """Report a quote that is not at its offsets in its source's text. ``citing`` is the fact's
    file, place, the citation's index among its citations, and the fact's id."""
    if text[citation.start : citation.end] == citation.quote:
        return
    path, item, index, fact_id = citing
    found_at = text.find(citation.quote)
    if found_at >= 0:
        where = f"it is at {found_at}-{found_at + len(citation.quote)}"
        line = reader.lines.line_of(path, item, ("citations", index, "start"))
    else:
        passage_line, passage = closest_passage(text, citation.quote)
        where = f"it is not in the text; closest passage (line {passage_line}): {passage!r}"
        line = reader.lines.line_of(path, item, ("citations", index, "quote"))
    reader.problem(
        path,
        line,
        f"{fact_id}: quote not at {citation.start}-{citation.end} of "
        f"{source.record.text_file} ({citation.source_id}): {citation.quote!r}; {where}",
    )


def _check_own_quotes(
    reader: _Reader,
    bundle: _BundleRead,
    located: Located[FactRecord],
    source: LoadedSource | None,
    text: str | None,
) -> None:
    """A fact's quotes of its bundle's source, each at its offsets, and its quantity and timing
    in its quotes. What it quotes of other sources is kept to check once every bundle is read."""
    fact = located.record
    quotes = []
    for index, written in enumerate(fact.citations):
        citation = written.resolve(located.source_id)
        quotes.append((citation.source_id, citation.quote))
        if citation.source_id != located.source_id:
            bundle.foreign_citations.append(
                _ForeignCitation(located.path, located.item, index, fact.id, citation)
            )
        elif source is not None and text is not None:  # else reported already
            _check_quote(
                reader, (located.path, located.item, index, fact.id), citation, source, text
            )
    if fact.quantity is None and fact.timing is None:
        return
    quantity_text = fact.quantity.text if fact.quantity is not None else None
    words = _QuotedWords(located.path, located.item, fact.id, quantity_text, fact.timing, quotes)
    if all(source_id == located.source_id for source_id, _ in quotes):
        _check_quoted_words(reader, words, {located.source_id} if text is not None else set())
    else:
        bundle.quoting_other_sources.append(words)


def _check_quoted_words(reader: _Reader, words: _QuotedWords, read_sources: Container[str]) -> None:
    """A fact's quantity text and timing are in its quotes, counting the quotes of the sources
    that were read (one that was not is reported already)."""
    quotes = [quote for source_id, quote in words.quotes if source_id in read_sources]
    if not quotes:
        return
    for value, where, name in (
        (words.quantity_text, ("quantity", "text"), "quantity text"),
        (words.timing, ("timing",), "timing"),
    ):
        if value is not None and not any(value in quote for quote in quotes):
            reader.problem(
                words.path,
                reader.lines.line_of(words.path, words.item, where),
                f"{words.fact_id}: {name} {value!r} is in none of the fact's quotes",
            )


def _check_foreign_quotes(
    reader: _Reader, dataset: Dataset, citations: list[_ForeignCitation]
) -> None:
    """Quotes of another bundle's source, each at its offsets in that text, read once."""
    by_source: dict[str, list[_ForeignCitation]] = defaultdict(list)
    for foreign in citations:
        by_source[foreign.citation.source_id].append(foreign)
    for source_id, cited in by_source.items():
        source = dataset.sources.get(source_id)
        if source is None:
            continue  # reported already: an unknown source, or one whose text is missing
        try:
            text = source.text()
        except InvalidBundlesError as changed:
            reader.changed_while_checked(changed)
            continue
        for path, item, index, fact_id, citation in cited:
            _check_quote(reader, (path, item, index, fact_id), citation, source, text)


def _check_origins(
    reader: _Reader,
    forces: list[Located[ForceRecord]],
    source: LoadedSource | None,
    text: str | None,
) -> None:
    """A force's origin is the source's own words: it must be in its bundle's text."""
    if source is None or text is None:
        return
    for located in forces:
        origin = located.record.origin
        if origin is not None and origin not in text:
            reader.problem(
                located.path,
                located.line_at("origin"),
                f"{located.record.id}: origin {origin!r} is not in {source.record.text_file}",
            )


def _check_preferred_facts_agree(reader: _Reader, preferred: list[_Preferred]) -> None:
    """Refuse two preferred facts that give different figures for the same measure at the same
    valid time: which one to use would be a guess."""
    by_measure: dict[Measure, list[_Preferred]] = defaultdict(list)
    for one in preferred:
        by_measure[one.measure].append(one)
    for (subject, property_name, unit, _), facts in by_measure.items():
        for index, later in enumerate(facts):
            for earlier in facts[:index]:
                figure, earlier_figure = later.figure, earlier.figure
                if disagree(earlier_figure, figure) and overlap(earlier.valid, later.valid):
                    earlier_line = reader.lines.line_of(earlier.path, earlier.item, ())
                    reader.problem(
                        later.path,
                        reader.lines.line_of(later.path, later.item, ("rank",)),
                        f"{later.fact_id}: preferred, like {earlier.fact_id} "
                        f"({earlier.path}:{earlier_line}), but they disagree about the "
                        f"{property_name} of {subject} in {unit} ({figure.text!r} against "
                        f"{earlier_figure.text!r}) at the same valid time; rank one normal or "
                        "deprecated, or give them valid times that do not overlap",
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
