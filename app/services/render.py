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
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson
from pydantic import BaseModel

from app.models.common import Quantity, WaveStatus
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
    "ingest/check.py",  # the names, relations and order of telling that rendering is given
    "ingest/bundle.py",  # the records as read, with the summaries they give of themselves
    "models/public.py",
    "services/search.py",
    "services/quantities.py",
    "services/as_of.py",  # the days a fact holds on
    "models/common.py",  # the values' own rules, and WaveStatus's order (status_rank)
    "models/kinds.py",  # the kinds' names, in URLs and in the search's records
    "db.py",  # how the rows' values are stored (insert_rows)
    "ingest/yaml_lines.py",  # how a file's YAML becomes the records' values
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
class NamedFact:
    """What a wave's document shows of a fact it names: a reference to it, and its figure."""

    ref: Ref
    quantity: Quantity | None


@dataclass(frozen=True)
class RenderedFact:
    """A fact's public document and what the tables index of it."""

    document: FactPublic
    told_at: int
    measure: str | None
    holds_from: dt.date | None
    holds_until: dt.date | None


class Renderer:
    """Renders the records of one checked dataset, one at a time. It keeps what rendering any one
    record needs (names, relations, each fact's place in the order of telling); the records come
    from the bundles' files (``Dataset.read``), so a load holds a batch of them, not the
    dataset's."""

    def __init__(self, dataset: "Dataset") -> None:
        self.dataset = dataset
        self.relations = dataset.relations
        published = {
            source_id: source.record.published for source_id, source in dataset.sources.items()
        }
        self.reported: dict[str, dt.date | None] = {}
        telling_keys = []
        for fact_id, cited, first_start in dataset.tellings:
            reported = min((day for s in cited if (day := published[s])), default=None)
            self.reported[fact_id] = reported
            # In the order the sources tell them: by report date (undated sources last), source
            # and position in the source.
            telling_keys.append(
                (
                    reported is None,
                    reported.isoformat() if reported else "",
                    cited[0],
                    first_start,
                    fact_id,
                )
            )
        telling_keys.sort()
        self.told_at = {key[-1]: place for place, key in enumerate(telling_keys)}

    def ref(self, record_id: str) -> Ref:
        """A reference to an entity or a source (an entity, should an id name both)."""
        if record_id in self.dataset.names:
            kind, name = self.dataset.names[record_id]
        else:
            kind, name = Kind.sources.value, self.dataset.sources[record_id].record.description
        return Ref(id=record_id, kind=kind, name=name, url=record_path(kind, record_id))

    def _refs(self, ids: list[str]) -> list[Ref]:
        return [self.ref(record_id) for record_id in ids]

    def _first_refs(self, ids: list[str]) -> list[Ref]:
        """A relation that grows with the data, as a detail embeds it: its first records."""
        return self._refs(ids[:EMBEDDED])

    # --- facts

    def fact(self, located: "Located[FactRecord]") -> RenderedFact:
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
            reported_on=self.reported[fact.id],
            rank=fact.rank.value,
            rank_reason=fact.rank_reason,
            about=self._refs(fact.about),
            citations=[written.resolve(located.source_id) for written in fact.citations],
            url=record_path(Kind.facts, fact.id),
        )
        measure = quantities.measure(fact.about[0], fact.property, fact.quantity)
        return RenderedFact(
            document=document,
            told_at=self.told_at[fact.id],
            measure=dumps(list(measure)) if measure else None,
            holds_from=fact.valid_from.date if fact.valid_from else None,
            holds_until=last_day(fact.valid_to) if fact.valid_to else None,
        )

    # --- entities and sources

    def sources(self) -> Iterator[SourcePublic]:
        """The sources' documents, by id."""
        for source_id in sorted(self.dataset.sources):
            yield self._source(source_id)

    def entity(self, kind: Kind, record: Any, facts: Mapping[str, "NamedFact"]) -> BaseModel:
        """An entity's detail document; ``facts`` holds the facts a wave names."""
        if kind is Kind.waves:
            return self._wave(record, facts)
        render: Callable[[Any], BaseModel] = getattr(self, f"_{kind.value}")
        return render(record)

    def _common(self, entity: Any, kind: Kind) -> dict[str, Any]:
        return {
            "id": entity.id,
            "name": entity.name,
            "aliases": entity.aliases,
            "description": entity.description,
            "url": record_path(kind, entity.id),
            "facts": [],  # filled per request: the first facts known on the day asked
            "fact_count": self.dataset.fact_counts[entity.id],
            "facts_url": facts_url(entity.id),
        }

    def _source(self, source_id: str) -> SourcePublic:
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
            length=source.length,
            fact_count=self.dataset.fact_counts[source_id],
            url=record_path(Kind.sources, source_id),
        )

    def _forces(self, force: Any) -> ForceDetail:
        return ForceDetail(
            **self._common(force, Kind.forces),
            kind=force.kind,
            component=force.component.value if force.component else None,
            branch=force.branch,
            parent=self.ref(force.parent) if force.parent else None,
            base=force.base,
            origin=force.origin,
            operations=self._refs(force.operations),
            supports=self._refs(force.supports),
            activities=self._first_refs(self.relations.activities_of[force.id]),
            activity_count=len(self.relations.activities_of[force.id]),
            activities_url=activities_url(force=force.id),
            waves=self._first_refs(self.relations.waves_of[force.id]),
            wave_count=len(self.relations.waves_of[force.id]),
            waves_url=waves_url(force.id),
        )

    def _agencies(self, agency: Any) -> AgencyDetail:
        return AgencyDetail(
            **self._common(agency, Kind.agencies),
            kind=agency.kind,
            level=agency.level,
            supported_by=self._first_refs(self.relations.supporters_of[agency.id]),
            supported_by_count=len(self.relations.supporters_of[agency.id]),
        )

    def _wave(self, wave: Any, facts: Mapping[str, "NamedFact"]) -> WaveDetail:
        size = facts[wave.size_fact].quantity if wave.size_fact else None
        return WaveDetail(
            **self._common(wave, Kind.waves),
            status=wave.status.value,
            size=size,
            size_fact=facts[wave.size_fact].ref if wave.size_fact else None,
            composition=[
                WaveMemberPublic(
                    force=self.ref(member.force),
                    quantity=facts[member.fact].quantity,
                    fact=facts[member.fact].ref,
                )
                for member in wave.composition
            ],
            joins=self.ref(wave.joins) if wave.joins else None,
            joins_status=wave.joins_status.value if wave.joins_status else None,
            joins_fact=facts[wave.joins_fact].ref if wave.joins_fact else None,
            origin=wave.origin,
            destination=wave.destination,
            tasks=self._refs(wave.tasks),
            dates=[WaveDatePublic.model_validate(d.model_dump()) for d in wave.dates],
        )

    def _authorities(self, authority: Any) -> AuthorityDetail:
        return AuthorityDetail(
            **self._common(authority, Kind.authorities),
            kind=authority.kind.value,
            citation=authority.citation,
            year=authority.year,
            reference_source=self.ref(authority.reference_source)
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
        governed = self.relations.effects_of[(authority_id, effect)]
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
                    authority=self.ref(link.authority), effect=link.effect.value
                )
                for link in sorted(activity.authorities, key=lambda link: link.authority)
            ],
        )


def fact_ref(fact_id: str, statement: str) -> Ref:
    """A reference to a fact, named by its statement."""
    return Ref(id=fact_id, kind=Kind.facts, name=statement, url=record_path(Kind.facts, fact_id))


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
