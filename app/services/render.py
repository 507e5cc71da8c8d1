"""What the API serves, rendered once by ``muster load`` and written beside the data.

A request would otherwise compute all of this: each record's JSON documents, the order the
sources tell the facts in, each fact's measure and the days it may hold on, and the words search
looks at. The load renders them from the checked bundles, record by record, and the server reads
them by key or by an indexed range.

The renderings depend on this code as much as on the data, so ``RENDER_VERSION`` is a hash of the
files that shape them (``RENDERING_CODE``): a load renders everything again when it differs from
the version beside the data, even if the bundles are unchanged.
"""

import datetime as dt
import hashlib
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson
from pydantic import BaseModel

from app.models.common import Citation, Quantity, WaveStatus
from app.models.kinds import Kind, record_path
from app.models.public import (
    EMBEDDED,
    LIST_MODELS,
    ActivityAuthorityPublic,
    ActivityDetail,
    AgencyDetail,
    AuthorityDetail,
    FactPublic,
    ForceDetail,
    Ref,
    SourcePublic,
    TimelineEvent,
    WaveDatePublic,
    WaveDetail,
    WaveMemberPublic,
    activities_url,
    facts_url,
    waves_url,
)
from app.services import quantities, search
from app.services.as_of import last_day

if TYPE_CHECKING:  # not imported to run: a server imports the loader, and reads no YAML
    from app.ingest.bundle import FactRecord
    from app.ingest.check import Dataset, Located

EVENT_FIELDS = tuple(TimelineEvent.model_fields)  # an event is a dated fact, shown in part


def status_rank(status: WaveStatus) -> int:
    """A wave's place in the posture's order of statuses, WaveStatus's own: in place first."""
    return list(WaveStatus).index(status)


RENDERING_CODE = (
    "services/render.py",
    "ingest/loader.py",  # writes what this module renders, and the sort keys beside it
    "models/public.py",
    "services/search.py",
    "services/quantities.py",
    "services/as_of.py",  # the days a fact holds on
    "models/common.py",  # the values' own rules, and WaveStatus's order (status_rank)
)
"""The files, under app/, whose code shapes what a load writes for the API."""


def _render_version() -> str:
    package = Path(__file__).resolve().parent.parent
    digest = hashlib.sha256()
    for name in RENDERING_CODE:
        digest.update((package / name).read_bytes())
    return digest.hexdigest()[:16]


RENDER_VERSION = _render_version()


def dumps(data: Any) -> str:
    return orjson.dumps(data).decode()


@dataclass(frozen=True)
class RenderedFact:
    """A fact's public document and what the tables index of it."""

    document: FactPublic
    told_at: int
    measure: str | None
    holds_from: dt.date | None
    holds_until: dt.date | None


class Renderer:
    """Renders the records of one checked dataset. It keeps what rendering any one record needs
    (names, the relations between entities, each fact's place); the documents themselves are made
    one at a time, so a load holds one batch of them, not the dataset's."""

    def __init__(self, dataset: "Dataset") -> None:
        self.dataset = dataset
        self.refs: dict[str, Ref] = {}
        for source_id, source in dataset.sources.items():
            self.refs[source_id] = Ref(
                id=source_id,
                kind=Kind.sources,
                name=source.record.description,
                url=record_path(Kind.sources, source_id),
            )
        for kind, located in dataset.entities():
            entity = located.record
            self.refs[entity.id] = Ref(
                id=entity.id, kind=kind, name=entity.name, url=record_path(kind, entity.id)
            )
        self.fact_records = {located.record.id: located for located in dataset.facts}
        # The sources each fact cites, not its resolved citations: those are made as each fact is
        # rendered, which keeps them out of a load's memory (60 MB at 1000x).
        self._cited_sources = {
            fact_id: [c.source or fact.source_id for c in fact.record.citations]
            for fact_id, fact in self.fact_records.items()
        }
        self._reported = {fact_id: self._first_report(fact_id) for fact_id in self.fact_records}
        self.told_order = sorted(self.fact_records, key=self._telling_key)
        self._relate(dataset)
        self.told_at = {fact_id: place for place, fact_id in enumerate(self.told_order)}
        self.fact_count: dict[str, int] = defaultdict(int)  # facts about each entity, by source
        for fact in dataset.facts:
            for entity_id in fact.record.about:
                self.fact_count[entity_id] += 1
            for source_id in set(self._cited_sources[fact.record.id]):
                self.fact_count[source_id] += 1

    def _relate(self, dataset: "Dataset") -> None:
        """Each entity's relations to the others, from the side the bundles write them on."""
        self.activities_of: dict[str, list[str]] = defaultdict(list)
        self.effects_of: dict[tuple[str, str], list[str]] = defaultdict(list)
        for activity in sorted(dataset.activities, key=lambda a: a.record.id):
            for force_id in activity.record.forces:
                self.activities_of[force_id].append(activity.record.id)
            for link in activity.record.authorities:
                self.effects_of[(link.authority, link.effect.value)].append(activity.record.id)
        self.waves_of: dict[str, list[str]] = defaultdict(list)
        for written in sorted(dataset.waves, key=lambda w: w.record.id):
            wave = written.record
            members = [member.force for member in wave.composition]
            for force_id in dict.fromkeys([*members, *([wave.joins] if wave.joins else [])]):
                self.waves_of[force_id].append(wave.id)
        self.supporters_of: dict[str, list[str]] = defaultdict(list)
        for force in sorted(dataset.forces, key=lambda f: f.record.id):
            for agency_id in force.record.supports:
                self.supporters_of[agency_id].append(force.record.id)

    @staticmethod
    def _resolve(located: "Located[FactRecord]") -> list[Citation]:
        return [written.resolve(located.source_id) for written in located.record.citations]

    def _first_report(self, fact_id: str) -> dt.date | None:
        sources = self.dataset.sources
        published = [
            sources[source_id].record.published for source_id in self._cited_sources[fact_id]
        ]
        return min((day for day in published if day), default=None)

    def _telling_key(self, fact_id: str) -> tuple[bool, str, str, int, str]:
        """Facts in the order their sources tell them: by report date (undated sources last),
        source and position in the source."""
        reported = self._reported[fact_id]
        first = self.fact_records[fact_id].record.citations[0]
        return (reported is None, reported.isoformat() if reported else "",
                self._cited_sources[fact_id][0], first.start, fact_id)  # fmt: skip

    def _refs(self, ids: list[str]) -> list[Ref]:
        return [self.refs[record_id] for record_id in ids]

    def _first_refs(self, ids: list[str]) -> list[Ref]:
        """A relation that grows with the data, as a detail embeds it: its first records."""
        return self._refs(ids[:EMBEDDED])

    # --- facts

    def facts(self) -> Iterator[RenderedFact]:
        """Every fact, in the order the sources tell them."""
        for fact_id in self.told_order:
            yield self.fact(fact_id)

    def fact(self, fact_id: str) -> RenderedFact:
        located = self.fact_records[fact_id]
        fact = located.record
        document = FactPublic(
            id=fact.id,
            statement=fact.statement,
            kind=fact.kind.value,
            status=fact.status.value,
            property=fact.property,
            quantity=fact.quantity,
            date=fact.date,
            valid_from=fact.valid_from,
            valid_to=fact.valid_to,
            timing=fact.timing,
            raised_by=fact.raised_by.value,
            hedge_override=fact.hedge_override,
            reported_on=self._reported[fact_id],
            rank=fact.rank.value,
            rank_reason=fact.rank_reason,
            about=self._refs(fact.about),
            citations=self._resolve(located),
            url=record_path(Kind.facts, fact.id),
        )
        measure = quantities.measure(fact.about[0], fact.property, fact.quantity)
        return RenderedFact(
            document=document,
            told_at=self.told_at[fact_id],
            measure=dumps(list(measure)) if measure else None,
            holds_from=fact.valid_from.date if fact.valid_from else None,
            holds_until=last_day(fact.valid_to) if fact.valid_to else None,
        )

    def quantity_of(self, fact_id: str | None) -> Quantity | None:
        located = self.fact_records.get(fact_id or "")
        return located.record.quantity if located else None

    # --- entities and sources

    def records(self, kind: Kind) -> Iterator[BaseModel]:
        """The detail documents of one kind of entity, or the sources, by id."""
        render = getattr(self, f"_{kind.value}")
        if kind is Kind.sources:
            for source_id in sorted(self.dataset.sources):
                yield render(source_id)
            return
        for located in sorted(getattr(self.dataset, kind.value), key=lambda r: r.record.id):
            yield render(located.record)

    def _common(self, entity: Any, kind: Kind) -> dict[str, Any]:
        return {
            "id": entity.id,
            "name": entity.name,
            "aliases": entity.aliases,
            "description": entity.description,
            "url": record_path(kind, entity.id),
            "facts": [],  # filled per request: the first facts known on the day asked
            "fact_count": self.fact_count[entity.id],
            "facts_url": facts_url(entity.id),
        }

    def _sources(self, source_id: str) -> SourcePublic:
        source = self.dataset.sources[source_id]
        record = source.record
        return SourcePublic(
            id=source_id,
            kind=record.kind,
            publisher=record.publisher,
            authors=record.authors,
            published=record.published,
            title=record.title,
            description=record.description,
            web_url=record.url,
            sha256=source.sha256,
            length=len(source.text),
            fact_count=self.fact_count[source_id],
            url=record_path(Kind.sources, source_id),
        )

    def _forces(self, force: Any) -> ForceDetail:
        return ForceDetail(
            **self._common(force, Kind.forces),
            kind=force.kind,
            component=force.component.value if force.component else None,
            branch=force.branch,
            parent=self.refs[force.parent] if force.parent else None,
            base=force.base,
            origin=force.origin,
            operations=self._refs(force.operations),
            supports=self._refs(force.supports),
            activities=self._first_refs(self.activities_of[force.id]),
            activity_count=len(self.activities_of[force.id]),
            activities_url=activities_url(force=force.id),
            waves=self._first_refs(self.waves_of[force.id]),
            wave_count=len(self.waves_of[force.id]),
            waves_url=waves_url(force.id),
        )

    def _agencies(self, agency: Any) -> AgencyDetail:
        return AgencyDetail(
            **self._common(agency, Kind.agencies),
            kind=agency.kind,
            level=agency.level,
            supported_by=self._first_refs(self.supporters_of[agency.id]),
            supported_by_count=len(self.supporters_of[agency.id]),
        )

    def _waves(self, wave: Any) -> WaveDetail:
        size = self.quantity_of(wave.size_fact)
        return WaveDetail(
            **self._common(wave, Kind.waves),
            status=wave.status.value,
            size=size,
            size_fact=self.fact_ref(wave.size_fact) if wave.size_fact else None,
            composition=[
                WaveMemberPublic(
                    force=self.refs[member.force],
                    quantity=self.quantity_of(member.fact),
                    fact=self.fact_ref(member.fact),
                )
                for member in wave.composition
            ],
            joins=self.refs[wave.joins] if wave.joins else None,
            joins_status=wave.joins_status.value if wave.joins_status else None,
            joins_fact=self.fact_ref(wave.joins_fact) if wave.joins_fact else None,
            origin=wave.origin,
            destination=wave.destination,
            tasks=self._refs(wave.tasks),
            dates=[WaveDatePublic.model_validate(d.model_dump()) for d in wave.dates],
        )

    def fact_ref(self, fact_id: str) -> Ref:
        fact = self.fact_records[fact_id].record
        return Ref(
            id=fact.id, kind=Kind.facts, name=fact.statement, url=record_path(Kind.facts, fact.id)
        )

    def _authorities(self, authority: Any) -> AuthorityDetail:
        return AuthorityDetail(
            **self._common(authority, Kind.authorities),
            kind=authority.kind.value,
            citation=authority.citation,
            year=authority.year,
            reference_source=self.refs[authority.reference_source]
            if authority.reference_source
            else None,
            status=authority.status,
            binds=authority.binds,
            **self._governed(authority.id, "permits", "permits_count"),
            **self._governed(authority.id, "prohibits", "prohibits_count"),
            **self._governed(authority.id, "would_permit", "would_permit_count"),
        )

    def _governed(self, authority_id: str, effect: str, count: str) -> dict[str, Any]:
        """The activities an authority permits (or ...): the first, how many, and where all are."""
        governed = self.effects_of[(authority_id, effect)]
        return {
            effect: self._first_refs(governed),
            count: len(governed),
            f"{effect}_url": activities_url(authority=authority_id, effect=effect),
        }

    def _activities(self, activity: Any) -> ActivityDetail:
        return ActivityDetail(
            **self._common(activity, Kind.activities),
            category=activity.category,
            status=activity.status.value,
            forces=self._refs(sorted(activity.forces)),
            authorities=[
                ActivityAuthorityPublic(
                    authority=self.refs[link.authority], effect=link.effect.value
                )
                for link in sorted(activity.authorities, key=lambda link: link.authority)
            ],
        )


def listed_document(kind: Kind, detailed: dict[str, Any]) -> dict[str, Any]:
    """What a list shows of a record, from its detail document: its list model's fields."""
    fields = LIST_MODELS[kind].model_fields
    return {name: value for name, value in detailed.items() if name in fields}


def event_document(fact: FactPublic) -> dict[str, Any] | None:
    """A dated fact as a timeline event; None for an undated one."""
    if fact.date is None:
        return None
    data = fact.model_dump(mode="json")
    return {name: data[name] for name in EVENT_FIELDS}


def search_entry(kind: Kind, record: BaseModel, ref: Ref) -> dict[str, Any]:
    """A record's row of ``search_records`` (without its place) and its indexed words."""
    fields = search.fields_of(record)
    return {
        "kind": kind.value,
        "record_id": ref.id,
        "name": ref.name,
        "url": ref.url,
        "texts": fields.all(),
        "names": 1 + len(fields.aliases),
    }
