"""Replacing the dataset in the database in one transaction, and saying what changed.

The load writes the rows of every record and what the API serves of them, rendered
(``app/services/render.py``), in batches: its memory holds one batch of rendered rows, not the
dataset's.

On SQLite the load never writes the file a server reads. It copies the file, loads into the copy
and renames the copy over the file: readers see the old file or the new one, whole, and a load
killed at any moment leaves the served file as it was, with no hot journal to roll back (which a
read-only server could not do). A server notices the new file by its inode (app/services/store.py).
On PostgreSQL the load is one transaction.
"""

import fcntl
import gc
import hashlib
import os
import sqlite3
from collections import Counter
from collections.abc import Iterable, Iterator
from contextlib import closing
from dataclasses import dataclass, field
from datetime import UTC, datetime
from itertools import islice
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from sqlalchemy import Connection, Engine, delete, event, insert, inspect, select, text
from sqlmodel import SQLModel, col

from app.db import insert_rows, is_sqlite
from app.models import tables
from app.models.kinds import ENTITY_KINDS, Kind
from app.services import render, search

if TYPE_CHECKING:  # not imported to run: `muster serve` asks has_data, and needs no YAML reader
    from app.ingest.check import Dataset

ItemT = TypeVar("ItemT")

BATCH_ROWS = 2000
"""Rows written per statement: enough for executemany to pay, few enough to bound memory."""

CHANGE_HISTORY_LOADS = 100
"""How many loads' record changes are kept for ``/v1/changes``; older versions answer 410."""


class NotMigratedError(RuntimeError):
    """The database lacks Muster's tables."""


@dataclass
class LoadReport:
    version: str
    previous_version: str | None
    changes: dict[str, Counter[str]] = field(default_factory=dict)
    rendered_again: bool = False
    """The data was unchanged, but the code that renders it had changed, so it was rendered."""

    @property
    def unchanged(self) -> bool:
        return self.version == self.previous_version and not self.rendered_again


def current_version(connection: Connection) -> str | None:
    newest = select(col(tables.DatasetLoad.version)).order_by(col(tables.DatasetLoad.seq).desc())
    return connection.execute(newest.limit(1)).scalar()


def has_data(engine: Engine) -> bool:
    with engine.connect() as connection:
        return current_version(connection) is not None


def load_dataset(engine: Engine, dataset: "Dataset") -> LoadReport:
    """Replace every data row with ``dataset``; on any error nothing changes."""
    missing = {*tables.DATA_TABLE_NAMES, search.INDEX_TABLE} - set(
        inspect(engine).get_table_names()
    )
    if missing:
        raise NotMigratedError(
            f"the database is not migrated (no table {sorted(missing)[0]!r}): "
            "run `muster db upgrade`"
        )
    # The dataset, read already, lives as long as the load: frozen, the cyclic collector stops
    # walking its millions of objects again and again (at 1000x, 6.3 of a load's 22.6 s of CPU
    # time; 1.8 of 16.4 s frozen).
    gc.freeze()
    try:
        if is_sqlite(str(engine.url)) and engine.url.database not in (None, "", ":memory:"):
            return _load_into_a_copy(engine, Path(engine.url.database), dataset)
        with engine.begin() as connection:
            return _load(connection, dataset)
    finally:
        gc.unfreeze()


def _load_into_a_copy(engine: Engine, database: Path, dataset: "Dataset") -> LoadReport:
    """Load into a copy of the SQLite file, then rename it over the file (see the docstring)."""
    engine.dispose()  # its connections would keep reading the file that is replaced
    lock_path = database.with_name(f".{database.name}.load-lock")
    staging = database.with_name(f".{database.name}.loading")
    with open(lock_path, "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # one load at a time: the second copies the first's
        staging.unlink(missing_ok=True)  # left by a load that was killed
        try:
            # Opened for writing, the file rolls back any hot journal an older Muster left.
            with (
                closing(sqlite3.connect(database)) as live,
                closing(sqlite3.connect(staging)) as copy,
            ):
                live.backup(copy)
            staging_engine = render_engine(f"sqlite:///{staging}")
            try:
                with staging_engine.begin() as connection:
                    report = _load(connection, dataset)
            finally:
                staging_engine.dispose()
            if report.unchanged:
                return report
            _durable(staging)
            os.chmod(staging, database.stat().st_mode)
            os.replace(staging, database)
            _durable(database.parent)
            return report
        finally:
            staging.unlink(missing_ok=True)


def render_engine(url: str) -> Engine:
    """An engine on a staging copy: no journal and no syncing while it is written, as a failed or
    killed load just deletes the copy; the copy is synced once, whole, before it is renamed."""
    from app.db import make_engine

    engine = make_engine(url)

    @event.listens_for(engine, "connect")
    def _unjournaled(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.execute("PRAGMA journal_mode = OFF")
        dbapi_connection.execute("PRAGMA synchronous = OFF")
        # 8 MiB, not the default 2 MiB, a bound whatever the data's size. A bigger cache made no
        # load faster: at 1000x, writing took a median 16.5 s with 64 MiB and 16.3 s with 8 MiB
        # (three each, alternated, on one busy core), and peaked at 543 MB against 494 MB.
        dbapi_connection.execute("PRAGMA cache_size = -8192")

    return engine


def _durable(path: Path) -> None:
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def _load(connection: Connection, dataset: "Dataset") -> LoadReport:
    newest = connection.execute(
        select(col(tables.DatasetLoad.version), col(tables.DatasetLoad.render_version))
        .order_by(col(tables.DatasetLoad.seq).desc())
        .limit(1)
    ).first()
    previous_version = newest.version if newest else None
    report = LoadReport(dataset.version, previous_version)
    if newest is not None and newest.version == dataset.version:
        if newest.render_version == render.RENDER_VERSION:
            return report
        report.rendered_again = True
    old_digests = {
        (kind, record_id): digest
        for kind, record_id, digest in connection.execute(
            select(
                col(tables.RecordDigest.kind),
                col(tables.RecordDigest.record_id),
                col(tables.RecordDigest.digest),
            )
        )
    }
    for table in reversed(tables.DATA_TABLES):
        connection.execute(delete(table))
    connection.execute(text(f"DELETE FROM {search.INDEX_TABLE}"))
    _write_rows(connection, dataset)
    # After the rows, so that the digests are not in memory beside a batch of rendered rows.
    digests = _record_digests(dataset)
    changes = _diff(old_digests, digests)
    _write(
        connection,
        tables.RecordDigest,
        (
            {"kind": kind, "record_id": record_id, "digest": digest}
            for (kind, record_id), digest in digests.items()
        ),
    )
    summary = {
        kind: dict(Counter(change for (k, _), change in changes.items() if k == kind))
        for kind in sorted({kind for kind, _ in changes})
    }
    seq = connection.execute(
        insert(tables.DatasetLoad).returning(col(tables.DatasetLoad.seq)),
        {
            "version": dataset.version,
            "loaded_at": datetime.now(UTC),
            "summary": summary,
            "render_version": render.RENDER_VERSION,
        },
    ).scalar_one()
    assert seq is not None  # the database numbers it
    _write(
        connection,
        tables.DatasetChange,
        (
            {"seq": seq, "kind": kind, "record_id": record_id, "change": change}
            for (kind, record_id), change in sorted(changes.items())
        ),
    )
    _prune_history(connection, seq)
    # The planner's statistics of the new data, in the same transaction, so that the first reads
    # have them: told how few facts a filter leaves, SQLite reads a filtered list in its order's
    # index instead of sorting every match (/v1/facts?kind=quantity&sort=-date at 1000x: 38 to
    # 8.7 ms a page; the analysis took 0.34 s of the load).
    connection.exec_driver_sql("ANALYZE")
    report.changes = {kind: Counter(counts) for kind, counts in summary.items()}
    return report


def _prune_history(connection: Connection, newest_seq: int) -> None:
    """Forget the loads before the last ``CHANGE_HISTORY_LOADS``: their versions then answer
    410 on ``/v1/changes``, which tells a client to resync."""
    oldest_kept = newest_seq - CHANGE_HISTORY_LOADS + 1
    connection.execute(
        delete(tables.DatasetChange).where(col(tables.DatasetChange.seq) < oldest_kept)
    )
    connection.execute(delete(tables.DatasetLoad).where(col(tables.DatasetLoad.seq) < oldest_kept))


def _batches(rows: Iterable[ItemT]) -> Iterator[list[ItemT]]:
    iterator = iter(rows)
    while batch := list(islice(iterator, BATCH_ROWS)):
        yield batch


def _write(connection: Connection, table: type[SQLModel], rows: Iterable[dict[str, Any]]) -> None:
    for batch in _batches(rows):
        insert_rows(connection, table, batch)


def _write_rows(connection: Connection, dataset: "Dataset") -> None:
    """Every record's rows, rendered, parents before children (foreign keys are checked per
    row); search places in the order of hits of equal rank: entities, sources, then facts."""
    renderer = render.Renderer(dataset)
    index = search.IndexWriter(connection)
    entity_count = sum(len(getattr(dataset, kind.value)) for kind in ENTITY_KINDS)
    source_places = iter(range(entity_count, entity_count + len(dataset.sources)))
    fact_places = iter(range(entity_count + len(dataset.sources), 1 << 62))
    entity_places = iter(range(entity_count))

    sources: list[Any] = list(renderer.records(Kind.sources))
    _write(
        connection,
        tables.Source,
        (
            {
                **source.model_dump(exclude={"web_url", "fact_count", "url"}),
                "url": source.web_url,
                "listed": render.dumps(source.model_dump(mode="json")),
            }
            for source in sources
        ),
    )
    waves = []
    for kind in ENTITY_KINDS:
        details: list[Any] = list(renderer.records(kind))
        for detail in details:
            index.add(
                next(entity_places), render.search_entry(kind, detail, renderer.refs[detail.id])
            )
        if kind is Kind.waves:
            waves = details  # they cite facts, so they are written after them
            continue
        _write(connection, ENTITY_TABLES[kind], _entity_rows(kind, details, dataset))
        if kind is Kind.activities:
            _write_activity_links(connection, dataset)
    for source in sources:
        index.add(
            next(source_places), render.search_entry(Kind.sources, source, renderer.refs[source.id])
        )
    kind_of = {entity_id: ref.kind for entity_id, ref in renderer.refs.items()}
    for batch in _batches(renderer.facts()):
        _write(connection, tables.Fact, (_fact_row(fact) for fact in batch))
        _write(
            connection,
            tables.FactAbout,
            (
                {
                    "fact_id": fact.document.id,
                    "entity_id": ref.id,
                    "entity_kind": kind_of[ref.id],
                    "position": position,
                    "told_at": fact.told_at,
                    "date_key": _date_key(fact),
                }
                for fact in batch
                for position, ref in enumerate(fact.document.about)
            ),
        )
        _write(
            connection,
            tables.Citation,
            (
                {"fact_id": fact.document.id, "position": position, **citation.model_dump()}
                for fact in batch
                for position, citation in enumerate(fact.document.citations)
            ),
        )
        for fact in batch:
            index.add(
                next(fact_places),
                render.search_entry(Kind.facts, fact.document, renderer.fact_ref(fact.document.id)),
            )
    _write(connection, tables.Wave, _entity_rows(Kind.waves, waves, dataset))
    _write(
        connection,
        tables.WaveMember,
        (
            {"wave_id": w.record.id, "force_id": m.force, "fact_id": m.fact, "position": position}
            for w in dataset.waves
            for position, m in enumerate(w.record.composition)
        ),
    )
    index.flush()


ENTITY_TABLES: dict[Kind, type[SQLModel]] = {
    Kind.forces: tables.Force,
    Kind.agencies: tables.Agency,
    Kind.waves: tables.Wave,
    Kind.authorities: tables.Authority,
    Kind.activities: tables.Activity,
}


def _entity_rows(kind: Kind, details: list[Any], dataset: "Dataset") -> Iterator[dict[str, Any]]:
    records = {located.record.id: located.record for located in getattr(dataset, kind.value)}
    if kind is Kind.forces:
        details = _parents_first(details)
    for detail in details:
        record = records[detail.id]
        row = _entity_columns(kind, record)
        detailed = detail.model_dump(mode="json")
        row |= {
            "sort_name": detail.name.casefold(),
            "listed": render.dumps(render.listed_document(kind, detailed)),
            "detailed": render.dumps(detailed),
        }
        yield row


def _entity_columns(kind: Kind, record: Any) -> dict[str, Any]:
    """A record's own columns, as the bundle gives them."""
    common: dict[str, Any] = record.model_dump(include={"id", "name", "aliases", "description"})
    match kind:
        case Kind.forces:
            return common | {
                "kind": record.kind,
                "component": record.component.value if record.component else None,
                "branch": record.branch,
                "parent_id": record.parent,
                "base": record.base,
                "operations": record.operations,
                "supports": record.supports,
            }
        case Kind.agencies:
            return common | {"kind": record.kind, "level": record.level}
        case Kind.authorities:
            return common | {
                "kind": record.kind.value,
                "citation": record.citation,
                "year": record.year,
                "reference_source_id": record.reference_source,
                "status": record.status,
                "binds": record.binds,
            }
        case Kind.activities:
            return common | {"category": record.category, "status": record.status.value}
        case Kind.waves:
            return common | {
                "status": record.status.value,
                "status_rank": render.status_rank(record.status),
                "size_fact_id": record.size_fact,
                "joins_id": record.joins,
                "joins_fact_id": record.joins_fact,
                "origin": record.origin,
                "destination": record.destination,
                "tasks": record.tasks,
                "dates": [d.model_dump(mode="json") for d in record.dates],
            }
    raise ValueError(kind)


def _write_activity_links(connection: Connection, dataset: "Dataset") -> None:
    _write(
        connection,
        tables.ActivityForce,
        (
            {"activity_id": a.record.id, "force_id": force_id}
            for a in dataset.activities
            for force_id in a.record.forces
        ),
    )
    _write(
        connection,
        tables.ActivityAuthority,
        (
            {
                "activity_id": a.record.id,
                "authority_id": link.authority,
                "effect": link.effect.value,
            }
            for a in dataset.activities
            for link in a.record.authorities
        ),
    )


def _parents_first(forces: list[Any]) -> list[Any]:
    """Forces ordered so that each one's parent is written before it."""
    parent_of = {force.id: force.parent.id if force.parent else None for force in forces}

    def depth(force_id: str | None, seen: frozenset[str] = frozenset()) -> int:
        parent = parent_of.get(force_id or "")
        if parent is None or parent in seen:
            return 0
        return 1 + depth(parent, seen | {parent})

    return sorted(forces, key=lambda force: depth(force.id))


def _date_key(fact: render.RenderedFact) -> str:
    """A fact's date as the date orders read it; empty when undated."""
    return fact.document.date.date.isoformat() if fact.document.date else ""


def _fact_row(fact: render.RenderedFact) -> dict[str, Any]:
    document = fact.document
    row: dict[str, Any] = {
        "id": document.id,
        "statement": document.statement,
        "kind": document.kind,
        "status": document.status,
        "property": document.property,
        "quantity": document.quantity.model_dump() if document.quantity else None,
        "reported_on": document.reported_on,
        "rank": document.rank,
        "rank_reason": document.rank_reason,
        "told_at": fact.told_at,
        "date_key": _date_key(fact),
        "measure": fact.measure,
        "holds_from": fact.holds_from,
        "holds_until": fact.holds_until,
        "listed": render.dumps(document.model_dump(mode="json")),
    }
    event = render.event_document(document)
    row["event"] = render.dumps(event) if event else None
    for prefix in ("date", "valid_from", "valid_to"):
        value = getattr(document, prefix)
        row[prefix] = value.date if value else None
        row[f"{prefix}_precision"] = value.precision.value if value else None
    row["date_derivation"] = document.date.derivation if document.date else None
    return row


def _record_digests(dataset: "Dataset") -> dict[tuple[str, str], str]:
    digests = {
        ("sources", source_id): source.sha256 + _digest(source.record.model_dump_json())
        for source_id, source in dataset.sources.items()
    }
    for kind, located in dataset.records():
        digests[(kind, located.record.id)] = _digest(located.record.model_dump_json())
    return digests


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _diff(
    old: dict[tuple[str, str], str], new: dict[tuple[str, str], str]
) -> dict[tuple[str, str], str]:
    changes = dict.fromkeys(old.keys() - new.keys(), "removed")
    for key, digest in new.items():
        if key not in old:
            changes[key] = "added"
        elif old[key] != digest:
            changes[key] = "changed"
    return changes
