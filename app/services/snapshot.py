"""The whole dataset as immutable public models, read in one transaction per data version.

The data changes only when ``muster load`` runs, and it is small, so the server reads it once per
version and answers every request from memory. Each request uses exactly one snapshot, which makes
a reload atomic for readers: a response is wholly from the old version or wholly from the new.
"""

import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

import orjson
from pydantic import BaseModel
from sqlalchemy import Engine
from sqlmodel import Session, SQLModel, col, select

from app.models import tables
from app.models.common import Citation, DateValue, Quantity
from app.models.public import (
    ActivityAuthorityPublic,
    ActivityDetail,
    ActivityPublic,
    AgencyDetail,
    AgencyPublic,
    AuthorityDetail,
    AuthorityPublic,
    FactPublic,
    ForceDetail,
    ForcePublic,
    Ref,
    SourcePublic,
    WaveDatePublic,
    WaveDetail,
    WaveMemberPublic,
    WavePublic,
)
from app.services.as_of import reported_by
from app.services.changes import ChangeLog

DetailT = TypeVar("DetailT", bound=BaseModel)


class Collection(Generic[DetailT]):
    """One kind of record in its default order, with each record's JSON prepared once.

    ``listed`` holds what a list shows of each record (the fields of ``item_model``), ``detailed``
    what its detail page shows; both as plain JSON-ready dicts, for CSV and for derived views, and
    serialised (``listed_json``, ``detailed_json``), so a JSON response is mostly a copy of bytes.
    """

    def __init__(self, kind: str, records: Iterable[DetailT], item_model: type[BaseModel]) -> None:
        self.kind = kind
        self.by_id: dict[str, DetailT] = {record.id: record for record in records}  # type: ignore[attr-defined]
        item_fields = set(item_model.model_fields)
        self.detailed = {key: record.model_dump(mode="json") for key, record in self.by_id.items()}
        self.listed = {
            key: {name: value for name, value in data.items() if name in item_fields}
            for key, data in self.detailed.items()
        }
        self.detailed_json = {key: orjson.dumps(data) for key, data in self.detailed.items()}
        self.listed_json = {
            key: orjson.Fragment(orjson.dumps(data)) for key, data in self.listed.items()
        }
        self._orders: dict[tuple[Callable[[DetailT], Any], bool], list[DetailT]] = {}

    def __iter__(self) -> Iterator[DetailT]:
        return iter(self.by_id.values())

    def __len__(self) -> int:
        return len(self.by_id)

    def ordered(self, key: Callable[[DetailT], Any], *, descending: bool = False) -> list[DetailT]:
        """The records sorted by ``key``: sorted once per data version, key and direction, as
        sorting 58 facts took a tenth of an uncached list's time. ``key`` should be a function
        defined once (a module-level one), not a new lambda per request."""
        order = self._orders.get((key, descending))
        if order is None:
            order = sorted(self, key=key, reverse=descending)
            self._orders[(key, descending)] = order
        return order


@dataclass(frozen=True)
class Snapshot:
    version: str | None
    sources: Collection[SourcePublic]
    forces: Collection[ForceDetail]
    agencies: Collection[AgencyDetail]
    waves: Collection[WaveDetail]
    authorities: Collection[AuthorityDetail]
    activities: Collection[ActivityDetail]
    facts: Collection[FactPublic]
    refs: dict[str, Ref] = field(default_factory=dict)
    change_log: ChangeLog = field(default_factory=lambda: ChangeLog([], []))
    rows: dict[type[SQLModel], list[Any]] = field(default_factory=dict, repr=False)
    _views: dict[frozenset[str], "Snapshot"] = field(default_factory=dict, repr=False)

    @property
    def is_empty(self) -> bool:
        return self.version is None

    def known_on(self, day: dt.date | None) -> "Snapshot":
        """The data as it stood on ``day``: only the facts reported by then, and what they say
        (a wave's size and composition, a source's fact count). None means everything known."""
        if day is None:
            return self
        known = frozenset(fact.id for fact in self.facts if reported_by(fact.reported_on, day))
        if len(known) == len(self.facts):
            return self
        # A view changes only on a report date, so there are few; each is built once.
        view = self._views.get(known)
        if view is None:
            view = _build(self.version, self.rows, self.change_log, known_facts=known)
            self._views[known] = view
        return view


def telling_order(fact: FactPublic) -> tuple[bool, str, str, int, str]:
    """Facts in the order their sources tell them: by report date (undated sources last),
    source and position in the source."""
    first = fact.citations[0]
    reported = fact.reported_on.isoformat() if fact.reported_on else ""
    return (fact.reported_on is None, reported, first.source_id, first.start, fact.id)


def path(kind: str, record_id: str) -> str:
    return f"/v1/{kind}/{record_id}"


def _dated(row: tables.Fact, prefix: str) -> DateValue | None:
    day = getattr(row, prefix)
    if day is None:
        return None
    derivation = row.date_derivation if prefix == "date" else None
    return DateValue(date=day, precision=getattr(row, f"{prefix}_precision"), derivation=derivation)


def read_snapshot(engine: Engine) -> Snapshot:
    """Read every table in one transaction, so the snapshot is one consistent data version."""
    with Session(engine, expire_on_commit=False) as session, session.begin():
        return snapshot_in(session)


def snapshot_in(session: Session) -> Snapshot:
    """The data as the session's transaction sees it (the loader's own, before it commits)."""
    version = session.exec(
        select(tables.DatasetLoad.version).order_by(col(tables.DatasetLoad.seq).desc())
    ).first()
    rows = {table: list(session.exec(select(table))) for table in tables.DATA_TABLES}
    change_log = ChangeLog(
        session.exec(select(tables.DatasetLoad)), session.exec(select(tables.DatasetChange))
    )
    return _build(version, rows, change_log)


def _build(
    version: str | None,
    rows: dict[type[SQLModel], list[Any]],
    change_log: ChangeLog,
    *,
    known_facts: frozenset[str] | None = None,
) -> Snapshot:
    """The snapshot of ``rows``; with ``known_facts``, of those facts alone."""

    def of(table: type[SQLModel]) -> list[Any]:
        return rows[table]

    refs: dict[str, Ref] = {}
    for kind, table in (
        ("sources", tables.Source),
        ("forces", tables.Force),
        ("agencies", tables.Agency),
        ("waves", tables.Wave),
        ("authorities", tables.Authority),
        ("activities", tables.Activity),
    ):
        for row in of(table):
            name = row.name if kind != "sources" else row.description
            refs[row.id] = Ref(id=row.id, kind=kind, name=name, url=path(kind, row.id))

    def refs_to(ids: Iterable[str]) -> list[Ref]:
        return [refs[record_id] for record_id in ids]

    citations: dict[str, list[Citation]] = defaultdict(list)
    for row in sorted(of(tables.Citation), key=lambda c: (c.fact_id, c.position)):
        citations[row.fact_id].append(
            Citation(
                source_id=row.source_id,
                quote=row.quote,
                start=row.start,
                end=row.end,
                attributed_to=row.attributed_to,
            )
        )
    about: dict[str, list[str]] = defaultdict(list)
    facts_of: dict[str, list[str]] = defaultdict(list)
    for row in sorted(of(tables.FactAbout), key=lambda a: (a.fact_id, a.position)):
        about[row.fact_id].append(row.entity_id)

    facts: dict[str, FactPublic] = {}
    for row in of(tables.Fact):
        if known_facts is not None and row.id not in known_facts:
            continue
        fact_ref = Ref(id=row.id, kind="facts", name=row.statement, url=path("facts", row.id))
        refs[row.id] = fact_ref
        facts[row.id] = FactPublic(
            id=row.id,
            statement=row.statement,
            kind=row.kind,
            status=row.status,
            property=row.property,
            quantity=Quantity.model_validate(row.quantity) if row.quantity else None,
            date=_dated(row, "date"),
            valid_from=_dated(row, "valid_from"),
            valid_to=_dated(row, "valid_to"),
            reported_on=row.reported_on,
            rank=row.rank,
            rank_reason=row.rank_reason,
            about=refs_to(about[row.id]),
            citations=citations[row.id],
            url=fact_ref.url,
        )
    facts = {fact.id: fact for fact in sorted(facts.values(), key=telling_order)}
    for fact in facts.values():
        for ref in fact.about:
            facts_of[ref.id].append(fact.id)

    def facts_about(entity_id: str) -> list[FactPublic]:
        return [facts[fact_id] for fact_id in facts_of[entity_id]]

    def common(row: Any, kind: str) -> dict[str, Any]:
        return {
            "id": row.id,
            "name": row.name,
            "aliases": row.aliases,
            "description": row.description,
            "url": path(kind, row.id),
            "facts": facts_about(row.id),
        }

    activity_forces: dict[str, list[str]] = defaultdict(list)
    force_activities: dict[str, list[str]] = defaultdict(list)
    for link in sorted(of(tables.ActivityForce), key=lambda a: (a.activity_id, a.force_id)):
        activity_forces[link.activity_id].append(link.force_id)
        force_activities[link.force_id].append(link.activity_id)
    activity_links: dict[str, list[tables.ActivityAuthority]] = defaultdict(list)
    authority_links: dict[tuple[str, str], list[str]] = defaultdict(list)
    for link in sorted(of(tables.ActivityAuthority), key=lambda a: (a.activity_id, a.authority_id)):
        activity_links[link.activity_id].append(link)
        authority_links[(link.authority_id, link.effect)].append(link.activity_id)
    members: dict[str, list[tables.WaveMember]] = defaultdict(list)
    for member in sorted(of(tables.WaveMember), key=lambda m: (m.wave_id, m.position)):
        members[member.wave_id].append(member)
    force_waves: dict[str, set[str]] = defaultdict(set)
    for wave in of(tables.Wave):
        for member in members[wave.id]:
            force_waves[member.force_id].add(wave.id)
        if wave.joins_id:
            force_waves[wave.joins_id].add(wave.id)
    fact_counts: dict[str, int] = defaultdict(int)
    for fact_id in facts:
        for source_id in {citation.source_id for citation in citations[fact_id]}:
            fact_counts[source_id] += 1

    def by_id(items: Iterable[DetailT]) -> list[DetailT]:
        return sorted(items, key=lambda item: item.id)  # type: ignore[attr-defined]

    sources = by_id(
        SourcePublic(
            id=row.id,
            kind=row.kind,
            publisher=row.publisher,
            authors=row.authors,
            published=row.published,
            title=row.title,
            description=row.description,
            web_url=row.url,
            sha256=row.sha256,
            length=row.length,
            fact_count=fact_counts[row.id],
            url=path("sources", row.id),
        )
        for row in of(tables.Source)
    )
    forces = by_id(
        ForceDetail(
            **common(row, "forces"),
            kind=row.kind,
            component=row.component,
            branch=row.branch,
            parent=refs[row.parent_id] if row.parent_id else None,
            base=row.base,
            operations=refs_to(row.operations),
            supports=refs_to(row.supports),
            activities=refs_to(force_activities[row.id]),
            waves=refs_to(sorted(force_waves[row.id])),
        )
        for row in of(tables.Force)
    )
    supported_by: dict[str, list[str]] = defaultdict(list)
    for force in forces:
        for agency in force.supports:
            supported_by[agency.id].append(force.id)
    agencies = by_id(
        AgencyDetail(
            **common(row, "agencies"),
            kind=row.kind,
            level=row.level,
            supported_by=refs_to(supported_by[row.id]),
        )
        for row in of(tables.Agency)
    )
    waves = by_id(
        WaveDetail(
            **common(row, "waves"),
            status=row.status,
            size=facts[row.size_fact_id].quantity if row.size_fact_id in facts else None,
            size_fact=refs[row.size_fact_id] if row.size_fact_id in facts else None,
            composition=[
                WaveMemberPublic(
                    force=refs[m.force_id],
                    quantity=facts[m.fact_id].quantity,
                    fact=refs[m.fact_id],
                )
                for m in members[row.id]
                if m.fact_id in facts
            ],
            joins=refs[row.joins_id] if row.joins_id else None,
            origin=row.origin,
            destination=row.destination,
            tasks=refs_to(row.tasks),
            dates=[WaveDatePublic.model_validate(d) for d in row.dates],
        )
        for row in of(tables.Wave)
    )
    authorities = by_id(
        AuthorityDetail(
            **common(row, "authorities"),
            kind=row.kind,
            citation=row.citation,
            year=row.year,
            reference_source=refs[row.reference_source_id] if row.reference_source_id else None,
            status=row.status,
            binds=row.binds,
            permits=refs_to(authority_links[(row.id, "permits")]),
            prohibits=refs_to(authority_links[(row.id, "prohibits")]),
            would_permit=refs_to(authority_links[(row.id, "would_permit")]),
        )
        for row in of(tables.Authority)
    )
    activities = by_id(
        ActivityDetail(
            **common(row, "activities"),
            category=row.category,
            status=row.status,
            forces=refs_to(activity_forces[row.id]),
            authorities=[
                ActivityAuthorityPublic(authority=refs[link.authority_id], effect=link.effect)
                for link in activity_links[row.id]
            ],
        )
        for row in of(tables.Activity)
    )
    return Snapshot(
        version=version,
        sources=Collection("sources", sources, SourcePublic),
        forces=Collection("forces", forces, ForcePublic),
        agencies=Collection("agencies", agencies, AgencyPublic),
        waves=Collection("waves", waves, WavePublic),
        authorities=Collection("authorities", authorities, AuthorityPublic),
        activities=Collection("activities", activities, ActivityPublic),
        facts=Collection("facts", facts.values(), FactPublic),
        refs=refs,
        change_log=change_log,
        rows=rows,
    )
