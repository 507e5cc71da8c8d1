"""Replacing the dataset in the database in one transaction, and saying what changed.

The load writes the rows of every record and what the API serves of them, rendered
(``app/services/render.py``). The checked dataset holds what rendering any one record needs, not
the records: each bundle's file of records is read again and rendered (``Dataset.read_files``), in
worker processes (up to one per core) once there are more bundles than ``FOLDERS_PER_PROCESS``, and
its rows are written here as they come; waves last, here, as their documents show the facts they
name, read back from those written. Memory holds what the checks kept and a few files' rows, not
the dataset (at 1000x, 163 MB at its peak, against 481 MB when a load held every record:
``bench/load_speed.py 1000 --against c6642b7 --beside-cores 0 --rounds 3``).

On SQLite the load never writes the file a server reads. It starts a new file from it (its schema
and history, ``_start_from``), loads into the new file and renames it over the served one:
readers see the old file or the new one, whole, and a load killed at any moment leaves the
served file as it was, with no hot journal to roll back (which a read-only server could not do).
A server notices the new file by its inode (app/services/store.py).
On PostgreSQL the load is one transaction.
"""

import fcntl
import gc
import hashlib
import os
import sqlite3
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from contextlib import closing, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from itertools import islice
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from sqlalchemy import (
    Connection,
    Engine,
    bindparam,
    delete,
    event,
    insert,
    select,
    text,
    update,
)
from sqlmodel import SQLModel, col

from app import migrate
from app.db import insert_rows, is_sqlite
from app.models import keys, tables
from app.models.common import Quantity
from app.models.kinds import ENTITY_KINDS, Kind
from app.models.public import Ref
from app.services import render, search

if TYPE_CHECKING:  # not imported to run: `muster serve` asks has_data, and needs no YAML reader
    from app.ingest.check import Dataset, Located

ItemT = TypeVar("ItemT")

BATCH_ROWS = 2000
"""Rows written per statement: enough for executemany to pay, few enough to bound memory."""

CHANGE_HISTORY_LOADS = 100
"""How many loads' record changes are kept for ``/v1/changes``; older versions answer 410."""


class NotMigratedError(RuntimeError):
    """The database is not migrated to this Muster's schema."""


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


NEWEST_LOAD = (
    select(col(tables.DatasetLoad.version), col(tables.DatasetLoad.render_version))
    .order_by(col(tables.DatasetLoad.seq).desc())
    .limit(1)
)
"""The data version and render version of the last load, if there was one."""


def _newest_load(engine: Engine) -> Any:
    with engine.connect() as connection:
        return connection.execute(NEWEST_LOAD).first()


def has_data(engine: Engine) -> bool:
    return _newest_load(engine) is not None


def rendered_by_another_muster(engine: Engine) -> bool:
    """Whether the newest load rendered its documents with other rendering code than this
    Muster's: they are served as that code rendered them until the data is loaded again."""
    newest = _newest_load(engine)
    return newest is not None and newest.render_version != render.RENDER_VERSION


def load_dataset(engine: Engine, dataset: "Dataset") -> LoadReport:
    """Replace every data row with ``dataset``; on any error nothing changes."""
    # A load writes the columns of this Muster's models: into an older schema it would fail half
    # way, and into a newer one it would leave out what the newer Muster writes. A SQLite file
    # that does not exist is not migrated, and is not made by asking it.
    database = _sqlite_file(engine)
    if database is not None and not database.exists():
        revision = None
    else:
        with engine.connect() as connection:
            revision = migrate.revision_of(connection)
    problem = migrate.not_current(revision)
    if problem is not None:
        raise NotMigratedError(problem)
    # The checked dataset lives as long as the load: frozen, the cyclic collector stops walking
    # its objects again and again, here and in the worker processes forked from here (at 1000x,
    # in two runs each, the load took 23.0 and 24.9 s frozen, 25.6 and 28.7 s not).
    gc.freeze()
    try:
        if database is not None:
            return _load_into_a_copy(engine, database, dataset)
        with (
            engine.connect() as connection,
            _one_load_at_a_time(connection),
            connection.begin(),
        ):
            return _load(connection, dataset)
    finally:
        gc.unfreeze()


LOAD_LOCK_KEY = 0x6D75737465726C
"""The PostgreSQL advisory lock a load holds: the bytes of ``b"musterl"`` as an integer (the
migrations' is ``migrate.MIGRATION_LOCK_KEY``)."""


@contextmanager
def _one_load_at_a_time(connection: Connection) -> Iterator[None]:
    """On PostgreSQL, hold the load lock: a second load waits for the first, then replaces its
    data, as on SQLite (the lock file beside the database, ``_load_into_a_copy``). Two at once
    failed ("could not serialize access due to concurrent delete"). Taken in a transaction of its
    own, ended before the load's begins: a REPEATABLE READ transaction begun before the wait
    would read the data as it was before the first load."""
    if connection.dialect.name != "postgresql":  # an in-memory SQLite database: one connection
        yield
        return
    connection.execute(text("SELECT pg_advisory_lock(:key)"), {"key": LOAD_LOCK_KEY})
    connection.commit()
    try:
        yield
    finally:
        connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": LOAD_LOCK_KEY})
        connection.commit()


def _sqlite_file(engine: Engine) -> Path | None:
    """The file of a SQLite database; None for PostgreSQL and for SQLite in memory."""
    database = engine.url.database
    if is_sqlite(str(engine.url)) and database not in (None, "", ":memory:"):
        return Path(database)
    return None


def _load_into_a_copy(engine: Engine, database: Path, dataset: "Dataset") -> LoadReport:
    """Load into a new SQLite file made from the served one, then rename it over the served one
    (see the docstring)."""
    engine.dispose()  # its connections would keep reading the file that is replaced
    lock_path = database.with_name(f".{database.name}.load-lock")
    staging = database.with_name(f".{database.name}.loading")
    with open(lock_path, "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # one load at a time: the second starts from the first's
        staging.unlink(missing_ok=True)  # left by a load that was killed
        try:
            _start_from(database, staging)
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


KEPT_TABLES = (
    "alembic_version",
    tables.DatasetLoad.__tablename__,
    tables.DatasetChange.__tablename__,
    tables.RecordDigest.__tablename__,
    keys.DatabaseSecret.__tablename__,
)
"""The tables of Muster's whose rows a load keeps: the schema's version, the loads and changes
that ``/v1/changes`` answers from, the last load's digests, to say what this one changed, and the
database's secrets (the key its servers sign cursors with). It writes every other table's rows
again."""

INDEX_SHADOW_TABLES = {
    f"{search.INDEX_TABLE}_{suffix}" for suffix in ("data", "idx", "content", "docsize", "config")
}
"""The tables the search index, an FTS5 virtual table, makes for itself (sqlite.org/fts5.html)."""

MUSTERS_TABLES = {
    *tables.DATA_TABLE_NAMES,
    *KEPT_TABLES,
    search.INDEX_TABLE,
    *INDEX_SHADOW_TABLES,
    "sqlite_stat1",  # ANALYZE's
}


def _start_from(database: Path, staging: Path) -> None:
    """The staging file starts from the served one: from its schema and ``KEPT_TABLES`` when it
    holds only what Muster makes; otherwise (a table, view or trigger of an operator's, a header
    setting) as a whole copy, which keeps everything. A whole copy, whose data rows the load
    then deletes, made a reload at 1000x 1.17x as long (see README, "At scale")."""
    # Opened for writing, the served file rolls back any hot journal an older Muster left.
    with closing(sqlite3.connect(database)) as served, closing(sqlite3.connect(staging)) as copy:
        if _holds_only_musters(served):
            _copy_the_schema(database, copy)
        else:
            served.backup(copy)


def _holds_only_musters(served: sqlite3.Connection) -> bool:
    objects = served.execute("SELECT type, name FROM sqlite_master").fetchall()
    settings = [
        served.execute(f"PRAGMA {name}").fetchone()[0]
        for name in ("user_version", "application_id", "auto_vacuum")
    ]
    return (
        all(kind in ("table", "index") for kind, _ in objects)
        and {name for kind, name in objects if kind == "table"} <= MUSTERS_TABLES
        and served.execute("PRAGMA encoding").fetchone()[0] == "UTF-8"
        and not any(settings)
    )


def _copy_the_schema(database: Path, copy: sqlite3.Connection) -> None:
    """Muster's schema, as its statements made it, with the rows of ``KEPT_TABLES``: the tables
    (FTS5's own made by its virtual table), their rows, then the indexes."""
    copy.isolation_level = None
    copy.execute("ATTACH DATABASE ? AS served", (str(database),))
    page_size = copy.execute("PRAGMA served.page_size").fetchone()[0]
    copy.execute(f"PRAGMA main.page_size = {int(page_size)}")  # before anything is written
    copy.execute("BEGIN")
    schema = copy.execute(
        "SELECT type, name, sql FROM served.sqlite_master WHERE sql IS NOT NULL ORDER BY rowid"
    ).fetchall()
    made = [(kind, name, sql) for kind, name, sql in schema if name not in INDEX_SHADOW_TABLES]
    for kind, name, sql in made:
        if kind == "table" and name != "sqlite_stat1":
            copy.execute(sql)
    for table in KEPT_TABLES:
        copy.execute(f'INSERT INTO main."{table}" SELECT * FROM served."{table}"')
    for kind, _, sql in made:
        if kind == "index":
            copy.execute(sql)
    copy.execute("COMMIT")
    copy.execute("DETACH DATABASE served")


def render_engine(url: str) -> Engine:
    """An engine on a staging file: no journal and no syncing while it is written, as a failed or
    killed load just deletes it; it is synced once, whole, before it is renamed."""
    from app.db import make_engine

    engine = make_engine(url)

    @event.listens_for(engine, "connect")
    def _unjournaled(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.execute("PRAGMA journal_mode = OFF")
        dbapi_connection.execute("PRAGMA synchronous = OFF")
        # 8 MiB, not the default 2 MiB, a bound whatever the data's size. A bigger cache made no
        # load faster: at 1000x, writing took a median 16.5 s with 64 MiB and 16.3 s with 8 MiB
        # (three each, alternated, on one busy core, when a load held every record).
        dbapi_connection.execute("PRAGMA cache_size = -8192")

    return engine


def _durable(path: Path) -> None:
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def _load(connection: Connection, dataset: "Dataset") -> LoadReport:
    newest = connection.execute(NEWEST_LOAD).first()
    previous_version = newest.version if newest else None
    report = LoadReport(dataset.version, previous_version)
    if newest is not None and newest.version == dataset.version:
        if newest.render_version == render.RENDER_VERSION:
            return report
        report.rendered_again = True
    # The last load's digests, set aside in the transaction, to say what changed once the new
    # ones are written beside them. It is dropped below; a load that fails before then leaves
    # it to its transaction's rollback (PostgreSQL) or to its connection, which holds it alone
    # and is closed with SQLite's staging file, deleted: none outlives the load.
    connection.exec_driver_sql(
        f"CREATE TEMPORARY TABLE {PREVIOUS_DIGESTS} "
        "(kind TEXT, record_id TEXT, digest TEXT, PRIMARY KEY (kind, record_id))"
    )
    connection.exec_driver_sql(
        f"INSERT INTO {PREVIOUS_DIGESTS} SELECT kind, record_id, digest FROM record_digests"
    )
    for table in reversed(tables.DATA_TABLES):
        connection.execute(delete(table))
    connection.execute(text(f"DELETE FROM {search.INDEX_TABLE}"))
    _write_rows(connection, dataset)
    summary: dict[str, dict[str, int]] = {}
    for kind, change, count in connection.execute(text(CHANGE_COUNTS)):
        summary.setdefault(kind, {})[change] = count
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
    connection.execute(text(WRITE_CHANGES), {"seq": seq})
    connection.exec_driver_sql(f"DROP TABLE {PREVIOUS_DIGESTS}")
    _prune_history(connection, seq)
    # The planner's statistics of the new data, in the same transaction, so that the first reads
    # have them: told how few facts a filter leaves, SQLite reads a filtered list in its order's
    # index instead of sorting every match (/v1/facts?kind=quantity&sort=-date at 1000x: 38 to
    # 8.7 ms a page; the analysis took 0.34 s of the load).
    connection.exec_driver_sql("ANALYZE")
    report.changes = {kind: Counter(counts) for kind, counts in summary.items()}
    return report


PREVIOUS_DIGESTS = "previous_digests"
# Each record added, removed or changed since the last load, by its digest.
CHANGES = (
    f"SELECT kind, record_id, 'removed' AS change FROM {PREVIOUS_DIGESTS} AS previous "
    "WHERE NOT EXISTS (SELECT 1 FROM record_digests AS written "
    "WHERE written.kind = previous.kind AND written.record_id = previous.record_id) "
    "UNION ALL "
    "SELECT written.kind, written.record_id, "
    "CASE WHEN previous.digest IS NULL THEN 'added' ELSE 'changed' END AS change "
    f"FROM record_digests AS written LEFT JOIN {PREVIOUS_DIGESTS} AS previous "
    "ON previous.kind = written.kind AND previous.record_id = written.record_id "
    "WHERE previous.digest IS NULL OR previous.digest != written.digest"
)
CHANGE_COUNTS = (
    f"SELECT kind, change, count(*) FROM ({CHANGES}) AS changes "
    "GROUP BY kind, change ORDER BY kind, change"
)
WRITE_CHANGES = (
    "INSERT INTO dataset_changes (seq, kind, record_id, change) "
    f"SELECT :seq, kind, record_id, change FROM ({CHANGES}) AS changes"
)


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
    """Every record's rows, rendered, with its search entry and its digest; parents before
    children, as foreign keys are checked per row, and a force's parent once every force is
    written. The records of a file are rendered in the worker process that reads it again
    (``Dataset.read_files``), and written here as they come."""
    renderer = render.Renderer(dataset)
    places = _SearchPlaces(dataset, renderer)
    writer = _RowWriter(connection)
    writer.write(_source_rows(renderer, places))
    for kind in ENTITY_KINDS:
        if kind is Kind.waves:
            continue  # they cite facts, so they are written after them
        for rows in dataset.read_files(kind, partial(_entity_file_rows, renderer, places, kind)):
            writer.write(rows)
    if writer.parents:
        connection.execute(
            update(tables.Force).where(col(tables.Force.id) == bindparam("child")),
            writer.parents,
        )
    for rows in dataset.read_files(Kind.facts, partial(_fact_file_rows, renderer, places)):
        writer.write(rows)
    # Rendered here, as a wave's document shows the facts it names, read from those written.
    for waves in _batches(dataset.read(Kind.waves)):
        named = _named_facts(connection, {n for one in waves for n in one.record.facts_named()})
        writer.write(_entity_file_rows(renderer, places, Kind.waves, waves, named))
    writer.index.flush()


@dataclass
class _Rows:
    """What a load writes of some records: each table's rows, in the order the tables are
    written; their search entries, by place; and each force's parent, written once every force
    is."""

    tables: list[tuple[type[SQLModel], list[dict[str, Any]]]]
    search_entries: list[tuple[int, dict[str, Any]]]
    parents: list[dict[str, str]] = field(default_factory=list)


class _RowWriter:
    def __init__(self, connection: Connection) -> None:
        self._connection = connection
        self.index = search.IndexWriter(connection)
        self.parents: list[dict[str, str]] = []

    def write(self, rows: _Rows) -> None:
        for table, table_rows in rows.tables:
            _write(self._connection, table, table_rows)
        for place, entry in rows.search_entries:
            self.index.add(place, entry)
        self.parents += rows.parents


def _source_rows(renderer: render.Renderer, places: "_SearchPlaces") -> _Rows:
    sources = list(renderer.sources())
    source_rows = [
        {
            **source.model_dump(exclude={"web_url", "fact_count", "url"}),
            "url": source.web_url,
            "listed": render.dumps(source.model_dump(mode="json")),
        }
        for source in sources
    ]
    digests = [_digest_row(Kind.sources, row) for row in source_rows]
    entries = [_search_entry(renderer, places, Kind.sources, source) for source in sources]
    return _Rows([(tables.Source, source_rows), (tables.RecordDigest, digests)], entries)


def _entity_file_rows(
    renderer: render.Renderer,
    places: "_SearchPlaces",
    kind: Kind,
    records: list["Located[Any]"],
    named_facts: Mapping[str, render.NamedFact] | None = None,
) -> _Rows:
    """The rows of some entities of one kind; ``named_facts`` holds the facts waves name."""
    details = [renderer.entity(kind, one.record, named_facts or {}) for one in records]
    entity_rows = list(_entity_rows(kind, records, details))
    rows = _Rows(
        [(ENTITY_TABLES[kind], entity_rows)],
        [_search_entry(renderer, places, kind, detail) for detail in details],
    )
    if kind is Kind.forces:
        rows.parents = [
            {"child": one.record.id, "parent_id": one.record.parent}
            for one in records
            if one.record.parent
        ]
    if kind is Kind.activities:
        rows.tables += _activity_links(records, details)
    if kind is Kind.waves:
        rows.tables += _wave_links(records, details)
    digests = [_digest_row(kind, row) for row in entity_rows]
    rows.tables.append((tables.RecordDigest, digests))
    return rows


def _fact_file_rows(
    renderer: render.Renderer, places: "_SearchPlaces", records: list["Located[Any]"]
) -> _Rows:
    facts = [renderer.fact(located) for located in records]
    about = [
        {
            "fact_id": fact.document.id,
            "entity_id": ref.id,
            "entity_kind": ref.kind,
            "position": position,
            "told_at": fact.told_at,
            "date_key": _date_key(fact),
            "reported_on": fact.document.reported_on,
        }
        for fact in facts
        for position, ref in enumerate(fact.document.about)
    ]
    citations = [
        {"fact_id": fact.document.id, "position": position, **citation.model_dump()}
        for fact in facts
        for position, citation in enumerate(fact.document.citations)
    ]
    sources = [
        {
            "fact_id": fact.document.id,
            "source_id": source_id,
            "told_at": fact.told_at,
            "date_key": _date_key(fact),
            "reported_on": fact.document.reported_on,
        }
        for fact in facts
        for source_id in dict.fromkeys(citation.source_id for citation in fact.document.citations)
    ]
    fact_rows = [_fact_row(fact) for fact in facts]
    digests = [_digest_row(Kind.facts, row) for row in fact_rows]
    entries = []
    for fact in facts:
        ref = render.fact_ref(fact.document.id, fact.document.statement)
        entries.append((places.of(ref), render.search_entry(Kind.facts, fact.document, ref)))
    return _Rows(
        [
            (tables.Fact, fact_rows),
            (tables.FactAbout, about),
            (tables.FactSource, sources),
            (tables.Citation, citations),
            (tables.RecordDigest, digests),
        ],
        entries,
    )


def _search_entry(
    renderer: render.Renderer, places: "_SearchPlaces", kind: Kind, detail: Any
) -> tuple[int, dict[str, Any]]:
    ref = renderer.ref(detail.id)
    return places.of(ref), render.search_entry(kind, detail, ref)


def _digest_row(kind: Kind, row: Mapping[str, Any]) -> dict[str, str]:
    """The digest of a record whose table row is ``row``: of its documents, what its list item
    and (an entity's) its page serve, so that a change of its counts or relations (a force's
    facts, a wave's) is a change of the record. The facts a page embeds at request time are not
    in them: each is a change of its own."""
    documents = [row["listed"], *([row["detailed"]] if "detailed" in row else [])]
    return {"kind": kind.value, "record_id": row["id"], "digest": _digest(documents)}


class _SearchPlaces:
    """Each record's place in the search index, which orders hits of equal rank: entities (by
    kind, then id), sources (by id), then facts. A fact's place is its ``told_at``, from 0, and
    every other record's is below 0: so the facts are the places from 0 up, and the words' facts
    in the index's order are in the order of telling, their default one, with the same keys
    (``records.facts_holding``)."""

    def __init__(self, dataset: "Dataset", renderer: render.Renderer) -> None:
        kind_order = {kind.value: place for place, kind in enumerate(ENTITY_KINDS)}
        entities = sorted(
            dataset.names, key=lambda entity: (kind_order[dataset.names[entity][0]], entity)
        )
        first = -(len(entities) + len(dataset.sources))
        self._entities = {entity_id: first + place for place, entity_id in enumerate(entities)}
        first_source = first + len(entities)
        self._sources = {
            source_id: first_source + place
            for place, source_id in enumerate(sorted(dataset.sources))
        }
        self._told_at = renderer.told_at

    def of(self, ref: Ref) -> int:
        if ref.kind == Kind.facts:
            return self._told_at[ref.id]
        if ref.kind == Kind.sources:
            return self._sources[ref.id]
        return self._entities[ref.id]


def _named_facts(connection: Connection, fact_ids: set[str]) -> dict[str, render.NamedFact]:
    """The facts waves name, as their documents show them, read back from the facts written, a
    batch of ids per query (a query's parameters are bounded: 32,766 on SQLite)."""
    named = {}
    for batch in _batches(sorted(fact_ids)):
        rows = connection.execute(
            select(
                col(tables.Fact.id), col(tables.Fact.statement), col(tables.Fact.quantity)
            ).where(col(tables.Fact.id).in_(batch))
        )
        for fact_id, statement, quantity in rows:
            named[fact_id] = render.NamedFact(
                render.fact_ref(fact_id, statement),
                Quantity.model_validate(quantity) if quantity is not None else None,
            )
    return named


ENTITY_TABLES: dict[Kind, type[SQLModel]] = {
    Kind.forces: tables.Force,
    Kind.agencies: tables.Agency,
    Kind.waves: tables.Wave,
    Kind.authorities: tables.Authority,
    Kind.activities: tables.Activity,
}


def _entity_rows(
    kind: Kind, batch: list["Located[Any]"], details: list[Any]
) -> Iterator[dict[str, Any]]:
    for located, detail in zip(batch, details, strict=True):
        row = _entity_columns(kind, located.record)
        detailed = detail.model_dump(mode="json")
        row |= {
            "sort_name": _sort_name(detail),
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
                "parent_id": None,  # set once every force is written (_write_rows)
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


def _sort_name(detail: Any) -> str:
    """What a list sorted by name orders a record by."""
    name: str = detail.name
    return name.casefold()


def _activity_links(
    activities: list["Located[Any]"], details: list[Any]
) -> list[tuple[type[SQLModel], list[dict[str, Any]]]]:
    """Each activity's links to its forces, its authorities and the ways they bear on it, each
    with the activity's sort name."""
    forces, authorities, effects = [], [], []
    for activity, detail in zip(activities, details, strict=True):
        record, sort_name = activity.record, _sort_name(detail)
        forces += [
            {"activity_id": record.id, "force_id": force_id, "sort_name": sort_name}
            for force_id in record.forces
        ]
        authorities += [
            {
                "activity_id": record.id,
                "authority_id": link.authority,
                "effect": link.effect.value,
                "sort_name": sort_name,
            }
            for link in record.authorities
        ]
        effects += [
            {"activity_id": record.id, "effect": effect, "sort_name": sort_name}
            for effect in dict.fromkeys(link.effect.value for link in record.authorities)
        ]
    return [
        (tables.ActivityForce, forces),
        (tables.ActivityAuthority, authorities),
        (tables.ActivityEffect, effects),
    ]


def _wave_links(
    waves: list["Located[Any]"], details: list[Any]
) -> list[tuple[type[SQLModel], list[dict[str, Any]]]]:
    """Each wave's members, and its ties to forces (its members' and the one it joins), each tie
    with the wave's sort name."""
    members, forces = [], []
    for wave, detail in zip(waves, details, strict=True):
        record, sort_name = wave.record, _sort_name(detail)
        members += [
            {"wave_id": record.id, "force_id": m.force, "fact_id": m.fact, "position": place}
            for place, m in enumerate(record.composition)
        ]
        forces += [
            {"wave_id": record.id, "force_id": force_id, "sort_name": sort_name}
            for force_id in record.forces_tied()
        ]
    return [(tables.WaveMember, members), (tables.WaveForce, forces)]


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


def _digest(documents: Iterable[str]) -> str:
    digest = hashlib.sha256()
    for document in documents:
        digest.update(document.encode())
        digest.update(b"\0")  # between documents, which hold no NUL (JSON escapes it)
    return digest.hexdigest()[:16]
