"""The schema of a source bundle's YAML files, validated by Pydantic.

A bundle is one folder per source: ``source.yaml`` describes the source and names its text file;
``forces.yaml``, ``agencies.yaml``, ``waves.yaml``, ``authorities.yaml``, ``activities.yaml`` and
``facts.yaml`` (each optional, each a list) hold what was derived from it. Entities may be
defined in any bundle and referred to from every other one by their ids.
"""

from datetime import date
from typing import Annotated, Self

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationInfo,
    field_validator,
    model_validator,
)

from app.models.common import (
    ID_MAX_CHARACTERS,
    NAME_MAX_CHARACTERS,
    ActivityStatus,
    AgencyLevel,
    AuthorityEffect,
    AuthorityKind,
    Citation,
    Component,
    DateValue,
    FactKind,
    FactStatus,
    HedgeOverride,
    Quantity,
    RaisedBy,
    Rank,
    WaveStatus,
)
from app.services.as_of import last_day

Slug = Annotated[
    str, StringConstraints(pattern=r"^[a-z0-9]+(?:-[a-z0-9]+)*$", max_length=ID_MAX_CHARACTERS)
]
Text = Annotated[str, StringConstraints(min_length=1, strip_whitespace=True)]
Name = Annotated[
    str, StringConstraints(min_length=1, max_length=NAME_MAX_CHARACTERS, strip_whitespace=True)
]


class Record(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SourceRecord(Record):
    id: Slug
    kind: Text = Field(description='What the source is, e.g. "news_article" or "reference".')
    publisher: Text | None = None
    authors: list[Text] = []
    published: date | None = None
    title: Text | None = Field(None, description="The source's own title; null if it has none.")
    description: Text
    url: Text | None = None
    text_file: Text = Field(description="The source's text, beside source.yaml, byte for byte.")


class Entity(Record):
    id: Slug
    name: Name
    aliases: list[Text] = []
    description: Text | None = None


class ForceRecord(Entity):
    kind: Text = Field(description="command, task_force, unit, national_guard or operation.")
    component: Component | None = None
    branch: Text | None = None
    parent: Slug | None = None
    base: Text | None = Field(None, description="Where the force is based, where the source says.")
    origin: Text | None = Field(
        None,
        description="Where the force comes from, verbatim as the source gives it, when the source "
        'does not say it is a base: "Camp Pendleton and the 1st Marine Division in San Diego".',
    )
    operations: list[Slug] = []
    supports: list[Slug] = Field([], description="Agencies whose work the force supports.")


class AgencyRecord(Entity):
    kind: Text = Field(description="federal_department, federal_agency, state_agency, ...")
    level: AgencyLevel = Field(description="federal or state")


class WaveDate(Record):
    event: Text = Field(description='What happened on the date: "ordered", "requested", ...')
    date: DateValue


class WaveMember(Record):
    force: Slug
    fact: Slug = Field(description="The fact that gives this force's share, with its quantity.")


class WaveRecord(Entity):
    status: WaveStatus
    size_fact: Slug | None = Field(None, description="The fact giving the size; null if unknown.")
    composition: list[WaveMember] = []
    joins: Slug | None = Field(None, description="The force the wave feeds into.")
    joins_status: FactStatus | None = Field(
        None, description='How firm that is: "expected" for troops "expected to feed into" it.'
    )
    joins_fact: Slug | None = Field(None, description="The fact that says the wave joins it.")
    origin: Text | None = None
    destination: Text | None = None
    tasks: list[Slug] = Field([], description="Activities the wave is to carry out.")
    dates: list[WaveDate] = []

    def forces_tied(self) -> list[str]:
        """The forces the wave is tied to, once each: its members', then the one it joins."""
        members = [member.force for member in self.composition]
        return list(dict.fromkeys([*members, *([self.joins] if self.joins else [])]))

    def facts_named(self) -> set[str]:
        """The facts the wave names: its size's, its members' shares', and its tie's."""
        named = {self.size_fact, self.joins_fact, *(member.fact for member in self.composition)}
        return {fact_id for fact_id in named if fact_id is not None}

    @model_validator(mode="after")
    def _relation_has_evidence(self) -> Self:
        given = [self.joins is not None, self.joins_status is not None, self.joins_fact is not None]
        if any(given) and not all(given):
            raise ValueError("joins, joins_status and joins_fact go together: name all three")
        return self


class AuthorityRecord(Entity):
    kind: AuthorityKind
    citation: Text | None = Field(None, description="Legal citation, e.g. 18 U.S.C. § 1385.")
    year: int | None = Field(None, description="Year enacted, issued or declared.")
    reference_source: Slug | None = Field(
        None, description="The source that citation and year come from, when not the article."
    )
    status: Text
    binds: Text | None = Field(None, description="Whom the authority binds, in plain words.")

    @model_validator(mode="after")
    def _outside_facts_name_their_source(self) -> Self:
        if (self.citation or self.year) and not self.reference_source:
            raise ValueError("citation and year need reference_source: the source they come from")
        return self


class ActivityAuthority(Record):
    authority: Slug
    effect: AuthorityEffect


class ActivityRecord(Entity):
    category: Text = Field(description="support, law_enforcement, transport, ...")
    status: ActivityStatus
    forces: list[Slug] = Field([], description="Forces that do or would do it.")
    authorities: list[ActivityAuthority] = []


class CitationRecord(Record):
    """A citation as written in a seed file: the source defaults to the bundle's own."""

    source: Slug | None = None
    quote: Text
    start: int = Field(ge=0)
    end: int = Field(ge=0)
    attributed_to: Text | None = None

    @field_validator("end")
    @classmethod
    def _span_matches_quote(cls, end: int, info: ValidationInfo) -> int:
        # Checked here rather than only by ``Citation``, so that a wrong span is reported at the
        # line of its ``end`` like any other bad field.
        quote, start = info.data.get("quote"), info.data.get("start")
        if quote is not None and start is not None and end - start != len(quote):
            raise ValueError(
                f"end - start is {end - start} but the quote has {len(quote)} characters"
            )
        return end

    def resolve(self, bundle_source_id: str) -> Citation:
        return Citation(
            source_id=self.source or bundle_source_id,
            quote=self.quote,
            start=self.start,
            end=self.end,
            attributed_to=self.attributed_to,
        )


class FactRecord(Record):
    id: Slug
    statement: Text = Field(description="One plain sentence in our words.")
    about: list[Slug] = Field(min_length=1)
    kind: FactKind
    status: FactStatus
    property: Slug | None = Field(
        None, description="What the fact measures about its subject, e.g. troop-strength."
    )
    quantity: Quantity | None = None
    date: DateValue | None = Field(None, description="When the event stated took place.")
    valid_from: DateValue | None = None
    valid_to: DateValue | None = None
    timing: Text | None = Field(
        None,
        description="The source's own words for when, verbatim from a quote, where it gives "
        'them: "immediately", "imminently", "in the coming weeks and months".',
    )
    raised_by: RaisedBy = Field(
        RaisedBy.source,
        description="muster for an open question that Muster notes on its own: no one in the "
        "source raises it, so its citations name no speaker.",
    )
    hedge_override: HedgeOverride | None = Field(
        None, description="Why the fact is firmer than a hedge word in its quotes, on purpose."
    )
    rank: Rank = Rank.normal
    rank_reason: Text | None = None
    citations: list[CitationRecord] = Field(min_length=1)

    @model_validator(mode="after")
    def _coherent(self) -> Self:
        if self.rank is Rank.deprecated and not self.rank_reason:
            raise ValueError("a deprecated fact needs a rank_reason")
        # A coarse valid_to stands for its whole period: "until the week of 2025-01-20" may end
        # on 2025-01-26, so valid_from may be any day up to then.
        if self.valid_from and self.valid_to and self.valid_from.date > last_day(self.valid_to):
            raise ValueError("valid_from is after valid_to")
        if self.raised_by is RaisedBy.muster:
            if self.kind is not FactKind.open_question:
                raise ValueError("only an open question may be raised_by muster")
            if any(citation.attributed_to for citation in self.citations):
                raise ValueError(
                    "an open question raised_by muster names no speaker: no one in the source "
                    "raised it, so every citation's attributed_to is null"
                )
        return self


# The files a bundle may hold, each a YAML list of one kind of record.
ENTITY_FILES: dict[str, type[Entity]] = {
    "forces.yaml": ForceRecord,
    "agencies.yaml": AgencyRecord,
    "waves.yaml": WaveRecord,
    "authorities.yaml": AuthorityRecord,
    "activities.yaml": ActivityRecord,
}
FACTS_FILE = "facts.yaml"
SOURCE_FILE = "source.yaml"
