"""Replacing the dataset in the database in one transaction, and saying what changed."""

import hashlib
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, delete, inspect
from sqlmodel import Session, SQLModel, col, select

from app.ingest.bundle import ForceRecord
from app.ingest.check import Dataset, Located
from app.models import tables
from app.models.common import DateValue
from app.services.search import INDEX_TABLE, rebuild_search_index, search_index_is_empty


class NotMigratedError(RuntimeError):
    """The database lacks Muster's tables."""


@dataclass
class LoadReport:
    version: str
    previous_version: str | None
    changes: dict[str, Counter[str]] = field(default_factory=dict)

    @property
    def unchanged(self) -> bool:
        return self.version == self.previous_version


def current_version(session: Session) -> str | None:
    newest = select(tables.DatasetLoad.version).order_by(col(tables.DatasetLoad.seq).desc())
    return session.exec(newest.limit(1)).first()


def has_data(engine: Engine) -> bool:
    with Session(engine) as session:
        return current_version(session) is not None


def load_dataset(engine: Engine, dataset: Dataset) -> LoadReport:
    """Replace every data row with ``dataset`` in one transaction; on any error nothing changes."""
    missing = {*tables.DATA_TABLE_NAMES, INDEX_TABLE} - set(inspect(engine).get_table_names())
    if missing:
        raise NotMigratedError(
            f"the database is not migrated (no table {sorted(missing)[0]!r}): "
            "run `muster db upgrade`"
        )
    digests = _record_digests(dataset)
    with Session(engine) as session, session.begin():
        previous = current_version(session)
        report = LoadReport(dataset.version, previous)
        if report.unchanged:
            if search_index_is_empty(session):  # it came with an upgrade after the data did
                rebuild_search_index(session)
            return report
        old_digests = {
            (row.kind, row.record_id): row.digest
            for row in session.exec(select(tables.RecordDigest))
        }
        changes = _diff(old_digests, digests)
        for table in reversed(tables.DATA_TABLES):
            session.execute(delete(table))
        rows = _rows(dataset) + [
            tables.RecordDigest(kind=kind, record_id=record_id, digest=digest)
            for (kind, record_id), digest in digests.items()
        ]
        for table in tables.DATA_TABLES:  # parents first: foreign keys are checked per insert
            session.add_all(row for row in rows if type(row) is table)
            session.flush()
        rebuild_search_index(session)
        summary = {
            kind: dict(Counter(change for (k, _), change in changes.items() if k == kind))
            for kind in sorted({kind for kind, _ in changes})
        }
        load = tables.DatasetLoad(
            version=dataset.version, loaded_at=datetime.now(UTC), summary=summary
        )
        session.add(load)
        session.flush()
        assert load.seq is not None
        session.add_all(
            tables.DatasetChange(seq=load.seq, kind=kind, record_id=record_id, change=change)
            for (kind, record_id), change in sorted(changes.items())
        )
        report.changes = {kind: Counter(counts) for kind, counts in summary.items()}
    return report


def _record_digests(dataset: Dataset) -> dict[tuple[str, str], str]:
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


def _parents_first(forces: list[Located[ForceRecord]]) -> list[Located[ForceRecord]]:
    """Forces ordered so that each one's parent is inserted before it."""
    parent_of = {force.record.id: force.record.parent for force in forces}

    def depth(force_id: str | None, seen: frozenset[str] = frozenset()) -> int:
        parent = parent_of.get(force_id or "")
        if parent is None or parent in seen:
            return 0
        return 1 + depth(parent, seen | {parent})

    return sorted(forces, key=lambda force: depth(force.record.id))


def _dated(prefix: str, value: DateValue | None) -> dict[str, Any]:
    """A ``DateValue`` as the flat columns ``<prefix>``, ``<prefix>_precision`` (and derivation)."""
    columns: dict[str, Any] = {
        prefix: value.date if value else None,
        f"{prefix}_precision": value.precision.value if value else None,
    }
    if prefix == "date":
        columns["date_derivation"] = value.derivation if value else None
    return columns


def _rows(dataset: Dataset) -> list[SQLModel]:
    """The dataset as table rows, parents before children."""
    rows: list[SQLModel] = []
    for source_id, source in dataset.sources.items():
        record = source.record
        rows.append(
            tables.Source(
                id=source_id,
                kind=record.kind,
                publisher=record.publisher,
                authors=record.authors,
                published=record.published,
                title=record.title,
                description=record.description,
                url=record.url,
                sha256=source.sha256,
                length=len(source.text),
            )
        )
    for force in _parents_first(dataset.forces):
        f = force.record
        rows.append(
            tables.Force(
                **f.model_dump(include={"id", "name", "aliases", "description", "kind", "branch"}),
                component=f.component.value if f.component else None,
                parent_id=f.parent,
                base=f.base,
                operations=f.operations,
                supports=f.supports,
            )
        )
    rows += [tables.Agency(**agency.record.model_dump()) for agency in dataset.agencies]
    for authority in dataset.authorities:
        a = authority.record
        rows.append(
            tables.Authority(
                **a.model_dump(exclude={"reference_source", "kind"}),
                kind=a.kind.value,
                reference_source_id=a.reference_source,
            )
        )
    for activity in dataset.activities:
        act = activity.record
        rows.append(
            tables.Activity(
                **act.model_dump(exclude={"forces", "authorities", "status"}),
                status=act.status.value,
            )
        )
        rows += [tables.ActivityForce(activity_id=act.id, force_id=ref) for ref in act.forces]
        rows += [
            tables.ActivityAuthority(
                activity_id=act.id, authority_id=link.authority, effect=link.effect.value
            )
            for link in act.authorities
        ]
    kind_of = {located.record.id: kind for kind, located in dataset.entities()}
    for located in dataset.facts:
        fact = located.record
        citations = [written.resolve(located.source_id) for written in fact.citations]
        published = [dataset.sources[c.source_id].record.published for c in citations]
        rows.append(
            tables.Fact(
                id=fact.id,
                statement=fact.statement,
                kind=fact.kind.value,
                status=fact.status.value,
                property=fact.property,
                quantity=fact.quantity.model_dump() if fact.quantity else None,
                **_dated("date", fact.date),
                **_dated("valid_from", fact.valid_from),
                **_dated("valid_to", fact.valid_to),
                reported_on=min((day for day in published if day), default=None),
                rank=fact.rank.value,
                rank_reason=fact.rank_reason,
            )
        )
        rows += [
            tables.FactAbout(
                fact_id=fact.id, entity_id=ref, entity_kind=kind_of[ref], position=position
            )
            for position, ref in enumerate(fact.about)
        ]
        rows += [
            tables.Citation(fact_id=fact.id, position=position, **citation.model_dump())
            for position, citation in enumerate(citations)
        ]
    for wave in dataset.waves:
        w = wave.record
        rows.append(
            tables.Wave(
                **w.model_dump(include={"id", "name", "aliases", "description", "origin"}),
                destination=w.destination,
                status=w.status.value,
                size_fact_id=w.size_fact,
                joins_id=w.joins,
                tasks=w.tasks,
                dates=[d.model_dump(mode="json") for d in w.dates],
            )
        )
        rows += [
            tables.WaveMember(wave_id=w.id, force_id=m.force, fact_id=m.fact, position=position)
            for position, m in enumerate(w.composition)
        ]
    return rows
