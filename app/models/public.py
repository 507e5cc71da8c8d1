"""What the API returns: read models, never the tables themselves."""

import datetime as dt
from typing import Any, Generic, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, computed_field

from app.models.common import (
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
from app.models.kinds import Kind

ItemT = TypeVar("ItemT", bound=BaseModel)


# On a record, ``kind`` is its type (a force's command or unit, a fact's quantity or event); on
# what points at a record it was the collection. Those say ``collection`` now, and keep ``kind``,
# the same value, for the clients that read it: marked deprecated, not removed, since names are a
# contract (it goes in a /v2).
COLLECTION_DESCRIPTION = "The collection the record is in: sources, forces, ..., facts."


class PublicModel(BaseModel):
    # The server sends every field, null where there is nothing: in the document a field with a
    # default is required all the same, so that clients do not type it as possibly missing.
    model_config = ConfigDict(frozen=True, json_schema_serialization_defaults_required=True)


class Ref(PublicModel):
    """A short reference to another record: enough to show it and to fetch it."""

    id: str = Field(description="The record's id.", examples=["jtf-north"])
    kind: Kind = Field(
        description="Deprecated: the same as collection.",
        examples=["forces"],
        json_schema_extra={"deprecated": True},
    )
    name: str = Field(
        description="The record's name; a fact's statement; a source's description.",
        examples=["Joint Task Force-North"],
    )
    url: str = Field(
        description="The record's path in this API.", examples=["/v1/forces/jtf-north"]
    )

    @computed_field(description=COLLECTION_DESCRIPTION, examples=["forces"])  # type: ignore[prop-decorator]
    @property
    def collection(self) -> Kind:
        return self.kind


class FactPublic(PublicModel):
    """One statement from a source, in our words, with the source's words as evidence."""

    id: str = Field(description="The fact's stable id.", examples=["fact-initial-wave-1500"])
    statement: str = Field(
        description="One plain sentence in Muster's words.",
        examples=["The initial wave of additional troops will include about 1,500 troops."],
    )
    kind: FactKind = Field(
        description="What sort of statement: quantity, event, legal_effect, ...",
        examples=["quantity"],
    )
    status: FactStatus = Field(
        description="How firm it is: reported, ordered, requested, planned, expected, possible "
        "or unclear.",
        examples=["ordered"],
    )
    property: str | None = Field(
        None, description="What a figure measures.", examples=["troop-strength"]
    )
    quantity: Quantity | None = Field(None, description="The figure the statement gives, if any.")
    date: DateValue | None = Field(None, description="When the stated event happened.")
    valid_from: DateValue | None = Field(
        None,
        description="The first day the sources show the statement holding (it may have held "
        "before); null if they do not say.",
    )
    valid_to: DateValue | None = Field(
        None, description="The last day it holds, where the sources give one; null if open."
    )
    timing: str | None = Field(
        None,
        description="The source's own words for when, where it gives words rather than a date; "
        "null if it gives none.",
        examples=["in the coming weeks and months"],
    )
    raised_by: RaisedBy = Field(
        RaisedBy.source,
        description="source: the source says it. muster: an open question Muster notes on its "
        "own, which no one in the source raises; its citations show what the source does say and "
        "name no speaker.",
        examples=["source"],
    )
    hedge_override: HedgeOverride | None = Field(
        None,
        description="Set where the fact's status or figure is firmer than a hedge word in its "
        "quotes on purpose: which words, and why. `muster check` refuses such a fact otherwise.",
    )
    reported_on: dt.date | None = Field(
        None,
        description="When a source first reported it: its earliest source's publication date. "
        "Null for facts from undated reference sources (us-code), which are always known.",
    )
    rank: Rank = Field(
        description="preferred, normal or deprecated, as Wikidata ranks.", examples=["normal"]
    )
    rank_reason: str | None = Field(None, description="Why the fact has its rank.")
    about: list[Ref] = Field(description="The records the fact concerns.")
    citations: list[Citation] = Field(description="The evidence: verbatim quotes, located.")
    url: str = Field(
        description="The fact's path in this API.", examples=["/v1/facts/fact-initial-wave-1500"]
    )


def _record_id(example: str) -> Any:
    return Field(description="The record's stable id, a slug.", examples=[example])


def _record_name(example: str) -> Any:
    return Field(description="The name the sources use most.", examples=[example])


def _record_url(example: str) -> Any:
    return Field(description="The record's path in this API.", examples=[example])


class EntityPublic(PublicModel):
    """What every named record has; each kind gives its own examples."""

    id: str = Field(description="The record's stable id, a slug.")
    name: str = Field(description="The name the sources use most.")
    aliases: list[str] = Field(description="Other names the sources use.")
    description: str | None = Field(None, description="What the record is, in Muster's words.")
    url: str = Field(description="The record's path in this API.")


EMBEDDED = 20
"""How many related records of each relation a detail page embeds: its facts, and every other
relation whose size grows with the data (the activities and waves of a hub force, ...). The
count is beside them, and the rest are a link away where a list takes the filter."""


def facts_url(record_id: str) -> str:
    """The list of every fact about a record."""
    return f"/v1/facts?about={record_id}"


def activities_url(**filters: str) -> str:
    """The list of the activities that ``filters`` pick, in the order a detail embeds them."""
    query = "&".join(f"{name}={value}" for name, value in {**filters, "sort": "id"}.items())
    return f"/v1/activities?{query}"


def waves_url(force_id: str) -> str:
    """The list of the waves a force is part of or that join it (waves are listed by id)."""
    return f"/v1/waves?force={force_id}"


def related(description: str, *, listed_at: str | None = None) -> Any:
    """A relation embedded in part: its description, saying where the rest are."""
    rest = f"; every one of them is at `{listed_at}`" if listed_at else ""
    return Field(description=f"{description} The first {EMBEDDED}, by id{rest}.")


def related_count(what: str) -> Any:
    return Field(description=f"How many {what} there are in all.", examples=[1])


def related_url(example: str) -> Any:
    return Field(
        description="The list of every one of them, in the order embedded.", examples=[example]
    )


class EntityDetail(PublicModel):
    """Adds what the sources say about the record."""

    facts: list[FactPublic] = Field(
        description=f"The first {EMBEDDED} facts about the record, in the order the sources "
        "tell them, with citations; every one of them is at `facts_url`."
    )
    fact_count: int = Field(description="How many facts are about the record.", examples=[7])
    facts_url: str = Field(
        description="The list of every fact about the record.",
        examples=["/v1/facts?about=jtf-north"],
    )


class ForcePublic(EntityPublic):
    """A military command, unit, task force or operation."""

    id: str = _record_id("jtf-north")
    name: str = _record_name("Joint Task Force-North")
    url: str = _record_url("/v1/forces/jtf-north")
    kind: str = Field(
        description="command, task_force, unit, national_guard or operation.",
        examples=["task_force"],
    )
    component: Component | None = Field(
        None, description="active_duty or national_guard.", examples=["active_duty"]
    )
    branch: str | None = Field(
        None, description="Service branch, where the source names it.", examples=["Marine Corps"]
    )
    parent: Ref | None = Field(None, description="The force it belongs to or is headed by.")
    base: str | None = Field(
        None, description="Where it is based, in the source's words.", examples=["El Paso, Texas"]
    )
    origin: str | None = Field(
        None,
        description="Where it comes from, verbatim as the source gives it, where the source does "
        "not say it is a base; null if not given.",
        examples=["Camp Pendleton and the 1st Marine Division in San Diego"],
    )
    operations: list[Ref] = Field([], description="Operations it heads.")
    supports: list[Ref] = Field([], description="Civilian agencies it supports.")


class ForceDetail(ForcePublic, EntityDetail):
    """A force, what it does, its waves, and the first facts about it."""

    activities: list[Ref] = related("What the force does or would do.", listed_at="activities_url")
    activity_count: int = related_count("activities of the force")
    activities_url: str = related_url("/v1/activities?force=jtf-north&sort=id")
    waves: list[Ref] = related(
        "Deployment waves it is part of or that join it.", listed_at="waves_url"
    )
    wave_count: int = related_count("waves the force is part of or that join it")
    waves_url: str = related_url("/v1/waves?force=jtf-north")


class AgencyPublic(EntityPublic):
    """A civilian department or agency the sources name."""

    id: str = _record_id("cbp")
    name: str = _record_name("US Customs and Border Protection")
    url: str = _record_url("/v1/agencies/cbp")
    kind: str = Field(
        description="federal_agency, federal_department, state_agency, ...",
        examples=["federal_agency"],
    )
    level: AgencyLevel = Field(description="federal or state.", examples=["federal"])


class AgencyDetail(AgencyPublic, EntityDetail):
    """An agency, the forces that support it, and the first facts about it."""

    supported_by: list[Ref] = related("Forces that support the agency.")
    supported_by_count: int = related_count("forces that support the agency")


class WaveMemberPublic(PublicModel):
    """One force's share of a wave."""

    force: Ref = Field(description="The force.")
    quantity: Quantity = Field(description="How many of the wave it makes up.")
    fact: Ref = Field(description="The fact that gives this share, with its citations.")


class WaveDatePublic(PublicModel):
    """A dated step of a wave."""

    event: str = Field(description="What happened on the date.", examples=["ordered"])
    date: DateValue = Field(description="When, as precisely as the source allows.")


class WavePublic(EntityPublic):
    """A tranche of the deployment: in place, ordered, requested, possible or expected."""

    id: str = _record_id("initial-wave")
    name: str = _record_name("Initial wave of additional active duty troops")
    url: str = _record_url("/v1/waves/initial-wave")
    status: WaveStatus = Field(
        description="in_place, ordered, requested, possible or expected.", examples=["ordered"]
    )
    size: Quantity | None = Field(None, description="How many; null where the source says not.")
    size_fact: Ref | None = Field(None, description="The fact that gives the size.")
    composition: list[WaveMemberPublic] = Field(
        [], description="The forces the sources say the wave includes, with their shares."
    )
    joins: Ref | None = Field(None, description="The force the wave feeds into.")
    joins_status: FactStatus | None = Field(
        None,
        description="How firm it is that the wave joins that force, as for a fact's status: "
        'reported, ordered, ..., expected ("are expected to feed into").',
        examples=["expected"],
    )
    joins_fact: Ref | None = Field(None, description="The fact that says the wave joins it.")
    origin: str | None = Field(None, description="Where the troops come from, if given.")
    destination: str | None = Field(
        None, description="Where they go.", examples=["US southern border with Mexico"]
    )
    tasks: list[Ref] = Field([], description="The activities the troops are to do.")
    dates: list[WaveDatePublic] = Field([], description="When it was ordered, sent, ...")


class WaveDetail(WavePublic, EntityDetail):
    """A wave: its size, composition, tasks and dates, and the first facts about it."""


class AuthorityPublic(EntityPublic):
    """A law, order, declaration or regulation that bounds what troops may do."""

    id: str = _record_id("posse-comitatus-act")
    name: str = _record_name("Posse Comitatus Act")
    url: str = _record_url("/v1/authorities/posse-comitatus-act")
    kind: AuthorityKind = Field(
        description="statute, executive_order, declaration or regulation.", examples=["statute"]
    )
    citation: str | None = Field(
        None, description="Its legal citation, if known.", examples=["18 U.S.C. § 1385"]
    )
    year: int | None = Field(None, description="Year enacted, issued or declared.", examples=[1878])
    reference_source: Ref | None = Field(None, description="Where citation and year come from.")
    status: str = Field(description="Whether it is in force, invoked, ...", examples=["in force"])
    binds: str | None = Field(None, description="Whom it binds.")
    permits: list[Ref] = related("Activities it permits.", listed_at="permits_url")
    permits_count: int = related_count("activities it permits")
    permits_url: str = related_url(
        "/v1/activities?authority=posse-comitatus-act&effect=permits&sort=id"
    )
    prohibits: list[Ref] = related("Activities it prohibits.", listed_at="prohibits_url")
    prohibits_count: int = related_count("activities it prohibits")
    prohibits_url: str = related_url(
        "/v1/activities?authority=posse-comitatus-act&effect=prohibits&sort=id"
    )
    would_permit: list[Ref] = related(
        "Activities it would permit if invoked.", listed_at="would_permit_url"
    )
    would_permit_count: int = related_count("activities it would permit if invoked")
    would_permit_url: str = related_url(
        "/v1/activities?authority=posse-comitatus-act&effect=would_permit&sort=id"
    )


class AuthorityDetail(AuthorityPublic, EntityDetail):
    """An authority, the activities it governs, and the first facts about it."""


class ActivityAuthorityPublic(PublicModel):
    """An authority that bears on an activity, and how."""

    authority: Ref = Field(description="The law, order or declaration.")
    effect: AuthorityEffect = Field(
        description="permits, prohibits or would_permit.", examples=["prohibits"]
    )


class ActivityPublic(EntityPublic):
    """Something troops do, may do or may not do."""

    id: str = _record_id("logistics")
    name: str = _record_name("Logistics")
    url: str = _record_url("/v1/activities/logistics")
    category: str = Field(
        description="support, law_enforcement, transport, ...", examples=["support"]
    )
    status: ActivityStatus = Field(
        description="permitted, prohibited or unclear.", examples=["permitted"]
    )
    forces: list[Ref] = Field([], description="The forces that do it or would.")
    authorities: list[ActivityAuthorityPublic] = Field(
        [], description="The authorities that permit or prohibit it."
    )


class ActivityDetail(ActivityPublic, EntityDetail):
    """An activity, who does it, what governs it, and the first facts about it."""


class SourcePublic(PublicModel):
    """A source the facts cite. Its full text is not republished; its quotes are."""

    id: str = Field(description="The source's stable id.", examples=["cnn-2025-01-22"])
    kind: str = Field(description="news_article or reference.", examples=["news_article"])
    publisher: str | None = Field(None, description="Who published it.", examples=["CNN"])
    authors: list[str] = Field(
        [], description="Its authors, as it names them.", examples=[["Natasha Bertrand"]]
    )
    published: dt.date | None = Field(
        None, description="The day it was published.", examples=["2025-01-22"]
    )
    title: str | None = Field(None, description="The source's own title; null if it has none.")
    description: str = Field(description="What the source is, in Muster's words.")
    web_url: str | None = Field(None, description="Where the source is published, if known.")
    sha256: str = Field(description="SHA-256 of the source text the offsets index into.")
    length: int = Field(description="Length of that text in code points.")
    fact_count: int = Field(description="How many facts cite the source.")
    url: str = _record_url("/v1/sources/cnn-2025-01-22")


class SearchHit(PublicModel):
    """A record that matches every word of a search, with where it matches."""

    kind: Kind = Field(
        description="Deprecated: the same as collection.",
        examples=["forces"],
        json_schema_extra={"deprecated": True},
    )
    id: str = Field(description="The record's id.", examples=["operation-lone-star"])
    name: str = Field(
        description="The record's name; a fact's statement; a source's description.",
        examples=["Operation Lone Star"],
    )
    url: str = Field(
        description="The record's path in this API.", examples=["/v1/forces/operation-lone-star"]
    )
    snippet: str = Field(
        description="The record's text that best matches, each matching word between « and », "
        "cut with … when long.",
        examples=["Operation «Lonestar»"],
    )
    rank: int = Field(
        description="Deprecated: the same as relevance (a fact's rank is a word: preferred, "
        "normal or deprecated).",
        examples=[2],
        json_schema_extra={"deprecated": True},
    )
    collection: Kind = Field(description=COLLECTION_DESCRIPTION, examples=["forces"])
    relevance: int = Field(
        description="3: every word is in the record's name; 2: in its name and aliases together; "
        "1: elsewhere (description, statement, quotes, ...). Hits are listed by relevance, best "
        "first.",
        examples=[2],
    )


class TimelineEvent(PublicModel):
    """A dated fact: what happened or will happen when, with its evidence."""

    id: str = Field(description="The fact's id.", examples=["fact-trump-mandate-2025-01-20"])
    date: DateValue = Field(description="When, as precisely as the source allows.")
    statement: str = Field(
        description="What happened, in Muster's words.",
        examples=[
            "President Donald Trump mandated that the US military step up its presence at the "
            "southern border."
        ],
    )
    kind: FactKind = Field(description="What sort of statement: event, plan, legal_citation, ...")
    status: FactStatus = Field(description="How firm it is: reported, ordered, expected, ...")
    about: list[Ref] = Field(description="The records the event concerns.")
    citations: list[Citation] = Field(description="The evidence: verbatim quotes, located.")
    url: str = Field(
        description="The fact's path in this API.",
        examples=["/v1/facts/fact-trump-mandate-2025-01-20"],
    )


class Page(PublicModel, Generic[ItemT]):
    """One page of a list. Follow ``next`` (also in the Link header) until it is null."""

    # A parametrized model (Page[ForcePublic]) does not inherit the docstring.
    model_config = ConfigDict(
        json_schema_extra={
            "description": "One page of a list. Follow `next` (also in the Link header) until it "
            "is null."
        }
    )

    data: list[ItemT] = Field(description="The items of this page, in the list's order.")
    next: str | None = Field(description="The next page's absolute URL, or null on the last page.")
    total: int = Field(description="How many items match, over all pages.")


TOTAL_SHOWN = 20
"""How many of a total's figures its words, facts and citations list (the counts say how many
there are): the answer stays small however many waves are added up."""


class DerivedQuantity(PublicModel):
    """A figure Muster works out from stated ones: the sources imply it but never state it.

    ``text`` is therefore not the sources' words but the stated figures' words joined by the
    arithmetic; ``in_words`` says the result, ``rule`` how it was worked out and why its bounds
    are what they are, and ``derived_from`` which facts it stands on. The bounds follow the
    stated ones: approximate plus approximate is approximate, a figure with only a maximum
    leaves only a maximum, and a figure of unknown size leaves only a minimum.
    """

    value: int | None = Field(None, description="The sum, when every figure gives a value.")
    min: int | None = Field(None, description="Lower bound, when every figure has one.")
    max: int | None = Field(None, description="Upper bound, when every figure has one.")
    approximate: bool = Field(description="True when any figure added is approximate.")
    unit: str = Field(description="What is counted.", examples=["troops"])
    per: str | None = Field(None, description="The rate's period, if the figures are rates.")
    text: str = Field(
        description=f"The stated figures' own words, joined by the arithmetic: the first "
        f"{TOTAL_SHOWN}, then how many more.",
        examples=["roughly 2,200 + around 1,500"],
    )
    in_words: str = Field(
        description="The result in Muster's words.", examples=["roughly 3,700 troops"]
    )
    derived: Literal[True] = Field(True, description="Always true: no source states this figure.")
    rule: str = Field(
        description="How the figure was worked out, and why it is exact, approximate or bounded, "
        f"naming the first {TOTAL_SHOWN} figures added and how many more there are.",
        examples=[
            "the sizes of the waves in place and ordered added up (standing-presence, "
            "initial-wave): approximate, because roughly 2,200 and around 1,500 are approximate"
        ],
    )
    derived_from: list[str] = Field(
        description=f"The ids of the facts whose figures were added: the first {TOTAL_SHOWN}, in "
        "the order they were added.",
        examples=[["fact-standing-presence-2200", "fact-initial-wave-1500"]],
    )
    derived_from_count: int = Field(
        description="How many facts' figures were added, over all of them.", examples=[2]
    )


class PostureFigure(PublicModel):
    """One stated figure of the deployment as known on the day: a wave's size, or one force's
    share of a wave, from the fact that ranks first among those about the same thing."""

    component: Component | None = Field(
        description="active_duty or national_guard: the component of the figure's force; null "
        "when the sources tie the wave to no force.",
        examples=["active_duty"],
    )
    status: WaveStatus = Field(
        description="The wave's status: in_place, ordered, requested, possible or expected.",
        examples=["in_place"],
    )
    wave: Ref = Field(description="The wave the figure belongs to.")
    force: Ref | None = Field(
        description="The force counted: the one the wave joins (for its size) or the one whose "
        "share it is; null when the sources name none."
    )
    force_status: FactStatus | None = Field(
        None,
        description="How firm it is that the figure belongs under that force: for a size, the "
        "wave's joins_status (expected: the wave is only expected to feed into the force); for a "
        "share, the status of the fact that gives it. Null when there is no force.",
        examples=["expected"],
    )
    part: Literal["size", "share"] = Field(
        description="size: the whole wave; share: one force's part of the wave (already counted "
        "in its size)."
    )
    quantity: Quantity | None = Field(
        description="The figure as the source gives it; null when no source gives it."
    )
    fact: Ref = Field(
        description="The fact the figure comes from: preferred over normal, then the newest "
        "report. For a wave of unknown size, the first fact about the wave."
    )
    rank: Rank = Field(description="That fact's rank: preferred or normal.", examples=["normal"])
    rank_reason: str | None = Field(None, description="Why the fact has its rank.")
    reported_on: dt.date | None = Field(description="When that fact was first reported.")
    citations: list[Citation] = Field(description="That fact's evidence: verbatim quotes.")
    alternatives: list[FactPublic] = Field(
        description="Other facts about the same thing (same subject, property and unit) that "
        "hold on the day, side by side and never merged, with their ranks and sources: the "
        "first 20, in the order the sources tell them."
    )
    alternative_count: int = Field(
        description="How many other facts about the same thing hold on the day.", examples=[0]
    )


class PostureTotal(PublicModel):
    """A total the sources imply but do not state, derived from the stated figures."""

    component: Component = Field(
        description="active_duty or national_guard: the component whose waves are added up.",
        examples=["active_duty"],
    )
    name: str = Field(
        description="What the total counts.",
        examples=["active duty troops at the border once the ordered waves arrive"],
    )
    statuses: list[WaveStatus] = Field(
        description="The statuses of the waves added up.", examples=[["in_place", "ordered"]]
    )
    quantity: DerivedQuantity = Field(description="The total, marked as derived, with its rule.")
    citations: list[Citation] = Field(
        description=f"The evidence of the figures added up: the first {TOTAL_SHOWN} quotes, in "
        "the order the figures were added."
    )
    citation_count: int = Field(
        description="How many quotes are the evidence of the figures added up, over all of them.",
        examples=[2],
    )


class Posture(PublicModel):
    """The deployment as known on a day: per wave and force, what is in place, ordered,
    requested, possible and expected, with the totals that follow from them."""

    as_of: dt.date | None = Field(
        description="The day: only facts reported by then count, and only those that hold on "
        "it. Null when the data holds no dated report.",
        examples=["2025-01-22"],
    )
    data_version: str | None = Field(description="Content hash of the data answering.")
    figures: list[PostureFigure] = Field(
        description="The stated figures: in place, ordered, requested, possible, then expected; "
        "each wave's size, then its forces' shares."
    )
    totals: list[PostureTotal] = Field(
        description="The derived totals, per component, over every wave (not only this page's)."
    )
    next: str | None = Field(
        description="The next page of figures (by wave, `limit` waves a page), or null on the "
        "last page."
    )


class ChangePublic(PublicModel):
    """One record that differs between the version a client has and the current one."""

    kind: Kind = Field(
        description="Deprecated: the same as collection.",
        examples=["facts"],
        json_schema_extra={"deprecated": True},
    )
    collection: Kind = Field(
        description="The collection: sources, forces, agencies, waves, authorities, activities "
        "or facts.",
        examples=["facts"],
    )
    id: str = Field(description="The record's id.", examples=["fact-initial-wave-1500"])
    change: Literal["added", "removed", "changed"] = Field(
        description="added: fetch it; removed: drop it; changed: fetch it again."
    )
    url: str | None = Field(
        description="Where to fetch it now; null when it was removed.",
        examples=["/v1/facts/fact-initial-wave-1500"],
    )


class ChangeList(PublicModel):
    """A page of the records that differ between two data versions. Every page of one walk
    (the first page, then its next links) is between the same two versions."""

    since: str = Field(description="The version the client has.", examples=["667d44972a089aa9"])
    version: str = Field(
        description="The version these changes lead to: the current one when the walk began; "
        "ask since it next time.",
        examples=["a974ec39451362d6"],
    )
    data: list[ChangePublic] = Field(
        description="The records that differ, by kind (sources, then the entities, then facts) "
        "and id; empty when the client is up to date."
    )
    next: str | None = Field(description="The next page's URL, or null on the last page.")
    total: int = Field(description="How many records differ, on every page together.")


LIST_MODELS: dict[Kind, type[BaseModel]] = {
    Kind.sources: SourcePublic,
    Kind.forces: ForcePublic,
    Kind.agencies: AgencyPublic,
    Kind.waves: WavePublic,
    Kind.authorities: AuthorityPublic,
    Kind.activities: ActivityPublic,
    Kind.facts: FactPublic,
}
DETAIL_MODELS: dict[Kind, type[BaseModel]] = {
    Kind.sources: SourcePublic,
    Kind.forces: ForceDetail,
    Kind.agencies: AgencyDetail,
    Kind.waves: WaveDetail,
    Kind.authorities: AuthorityDetail,
    Kind.activities: ActivityDetail,
    Kind.facts: FactPublic,
}
