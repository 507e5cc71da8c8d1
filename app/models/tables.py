"""The database tables. ``muster load`` is their only writer; the server only reads them.

Entities have stable slug ids. Lists of plain values (aliases) and of ids that are never queried
on their own are JSON columns; relations that the API filters or joins on are link tables.

Each record's row also holds what the API serves of it, rendered by the load
(``app/services/render.py``): its JSON documents (``listed``, ``detailed``) and its sort keys. A
server reads them by key or by an indexed range and keeps no copy of the dataset.
"""

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Column, DateTime, Index, Integer, Text
from sqlmodel import Field, SQLModel

# Named constraints, so that Alembic can alter and drop them the same way on every backend.
SQLModel.metadata.naming_convention = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def json_list() -> Any:
    return Field(default_factory=list, sa_column=Column(JSON, nullable=False))


def document(description: str) -> Any:
    """A JSON document, rendered by the load and sent as it is."""
    return Field(sa_column=Column(Text, nullable=False), description=description)


LISTED = "What a list shows of the record, as JSON."
DETAILED = "What its detail page shows, as JSON, with an empty list of facts to fill."
SORT_NAME = "The name as lists sort it: casefolded."

ENTITY_ORDER_COLUMNS = (("id",), ("sort_name", "id"))
"""The columns of each order an entity's list offers (api/listing.py, ``ENTITY_ORDERS``)."""


def filters_in_each_order(
    table: str,
    filters: tuple[str, ...],
    orders: tuple[tuple[str, ...], ...] = ENTITY_ORDER_COLUMNS,
    then: tuple[str, ...] = (),
) -> tuple[Index, ...]:
    """An index of each column that ``table``'s list filters on by equality, in each of the
    list's orders (then ``then``), so that a page of any filter in any sort is a range of one
    index. With an index in one order only, a page in another walked that order's index, skipping
    the rows the filter drops, or sorted every row it keeps: for a rare value, most of the table
    (migration 0016 has the figures). tests/api/test_query_plans.py checks every list's."""
    return tuple(
        Index(f"ix_{table}_{'_'.join((column, *order, *then))}", column, *order, *then)
        for column in filters
        for order in orders
    )


class Source(SQLModel, table=True):
    __tablename__ = "sources"

    id: str = Field(primary_key=True)
    kind: str
    publisher: str | None = None
    authors: list[str] = json_list()
    published: dt.date | None = None
    title: str | None = None
    description: str
    url: str | None = None
    sha256: str
    length: int = Field(description="Length of the text in code points.")
    listed: str = document(LISTED)


class Force(SQLModel, table=True):
    __tablename__ = "forces"
    __table_args__ = (
        Index("ix_forces_sort_name_id", "sort_name", "id"),
        *filters_in_each_order("forces", ("component", "kind")),
    )

    id: str = Field(primary_key=True)
    name: str
    aliases: list[str] = json_list()
    description: str | None = None
    kind: str
    component: str | None = None
    branch: str | None = None
    parent_id: str | None = Field(default=None, foreign_key="forces.id", index=True)
    base: str | None = None
    operations: list[str] = json_list()
    supports: list[str] = json_list()
    sort_name: str = Field(description=SORT_NAME)
    listed: str = document(LISTED)
    detailed: str = document(DETAILED)


class Agency(SQLModel, table=True):
    __tablename__ = "agencies"
    __table_args__ = (
        Index("ix_agencies_sort_name_id", "sort_name", "id"),
        *filters_in_each_order("agencies", ("level",)),
    )

    id: str = Field(primary_key=True)
    name: str
    aliases: list[str] = json_list()
    description: str | None = None
    kind: str
    level: str
    sort_name: str = Field(description=SORT_NAME)
    listed: str = document(LISTED)
    detailed: str = document(DETAILED)


class Authority(SQLModel, table=True):
    __tablename__ = "authorities"
    __table_args__ = (
        Index("ix_authorities_sort_name_id", "sort_name", "id"),
        *filters_in_each_order("authorities", ("kind",)),
    )

    id: str = Field(primary_key=True)
    name: str
    aliases: list[str] = json_list()
    description: str | None = None
    kind: str
    citation: str | None = None
    year: int | None = None
    reference_source_id: str | None = Field(default=None, foreign_key="sources.id")
    status: str
    binds: str | None = None
    sort_name: str = Field(description=SORT_NAME)
    listed: str = document(LISTED)
    detailed: str = document(DETAILED)


class Activity(SQLModel, table=True):
    __tablename__ = "activities"
    __table_args__ = (
        Index("ix_activities_sort_name_id", "sort_name", "id"),
        *filters_in_each_order("activities", ("status", "category")),
    )

    id: str = Field(primary_key=True)
    name: str
    aliases: list[str] = json_list()
    description: str | None = None
    category: str
    status: str
    sort_name: str = Field(description=SORT_NAME)
    listed: str = document(LISTED)
    detailed: str = document(DETAILED)


LINKED_SORT_NAME = (
    "The activity's sort_name, so that one record's activities list by name by an index."
)


class ActivityForce(SQLModel, table=True):
    __tablename__ = "activity_forces"
    # /v1/activities?force=, by id and by name: the activities of one force, an index range.
    __table_args__ = (
        Index("ix_activity_forces_force_id_activity_id", "force_id", "activity_id"),
        Index(
            "ix_activity_forces_force_id_sort_name_activity_id",
            "force_id",
            "sort_name",
            "activity_id",
        ),
    )

    activity_id: str = Field(foreign_key="activities.id", primary_key=True)
    force_id: str = Field(foreign_key="forces.id", primary_key=True)
    sort_name: str = Field(description=LINKED_SORT_NAME)


class ActivityAuthority(SQLModel, table=True):
    __tablename__ = "activity_authorities"
    # /v1/activities?authority=, by id and by name: the activities one authority bears on.
    __table_args__ = (
        Index("ix_activity_authorities_authority_id_activity_id", "authority_id", "activity_id"),
        Index(
            "ix_activity_authorities_authority_id_sort_name_activity_id",
            "authority_id",
            "sort_name",
            "activity_id",
        ),
    )

    activity_id: str = Field(foreign_key="activities.id", primary_key=True)
    authority_id: str = Field(foreign_key="authorities.id", primary_key=True)
    effect: str
    sort_name: str = Field(description=LINKED_SORT_NAME)


class ActivityEffect(SQLModel, table=True):
    """Each way some authority bears on an activity, once however many do: ``activity_authorities``
    holds a link for each authority, which would list an activity twice."""

    __tablename__ = "activity_effects"
    # /v1/activities?effect=, by id and by name: the activities of one effect, an index range.
    __table_args__ = (
        Index("ix_activity_effects_effect_activity_id", "effect", "activity_id"),
        Index(
            "ix_activity_effects_effect_sort_name_activity_id", "effect", "sort_name", "activity_id"
        ),
    )

    activity_id: str = Field(foreign_key="activities.id", primary_key=True)
    effect: str = Field(primary_key=True)
    sort_name: str = Field(description=LINKED_SORT_NAME)


FACT_FILTER_COLUMNS = ("kind", "status", "rank")
"""The columns /v1/facts filters on by equality, each with an index in each order."""
FACT_ORDER_COLUMNS = (("told_at",), ("date_key", "id"), ("id",))
"""The columns of each order /v1/facts offers (routes/facts.py, ``FACT_ORDERS``)."""


class Fact(SQLModel, table=True):
    __tablename__ = "facts"
    # Every index that finds facts in a list's order ends with reported_on, so that ``as_of``
    # (records.known_on) is checked on the index entry that finds a fact, before its row and the
    # documents in it are read (migration 0013 says what that was worth).
    __table_args__ = (
        Index("ix_facts_told_at_reported_on", "told_at", "reported_on"),
        Index("ix_facts_id_reported_on", "id", "reported_on"),
        Index("ix_facts_date_key_id_reported_on", "date_key", "id", "reported_on"),
        Index("ix_facts_date_key_told_at_reported_on", "date_key", "told_at", "reported_on"),
        *filters_in_each_order(
            "facts", FACT_FILTER_COLUMNS, FACT_ORDER_COLUMNS, then=("reported_on",)
        ),
    )

    id: str = Field(primary_key=True)
    statement: str
    kind: str
    status: str
    property: str | None = None
    quantity: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON))
    date: dt.date | None = None
    date_precision: str | None = None
    date_derivation: str | None = None
    valid_from: dt.date | None = None
    valid_from_precision: str | None = None
    valid_to: dt.date | None = None
    valid_to_precision: str | None = None
    reported_on: dt.date | None = Field(
        default=None,
        index=True,
        description="When the fact was first reported: its earliest source's date.",
    )
    rank: str = "normal"
    rank_reason: str | None = None
    told_at: int = Field(
        unique=True,
        description="Its place in the order the sources tell the facts: by report date (undated "
        "sources last), source and position in the source.",
    )
    date_key: str = Field(description="Its date as the date sort reads it; empty when undated.")
    measure: str | None = Field(
        default=None,
        index=True,
        description="What its figure measures (subject, property, unit, per), for the posture.",
    )
    holds_from: dt.date | None = Field(default=None, description="First day it may hold.")
    holds_until: dt.date | None = Field(default=None, description="Last day it may hold.")
    listed: str = document("The fact as the API shows it, as JSON.")
    event: str | None = Field(
        default=None,
        sa_column=Column(Text),
        description="The fact as a timeline event, as JSON; null when undated.",
    )


class FactAbout(SQLModel, table=True):
    __tablename__ = "fact_about"
    # As the facts' own (Fact): each index ends with reported_on, for as_of.
    __table_args__ = (
        Index("ix_fact_about_entity_told_at_reported_on", "entity_id", "told_at", "reported_on"),
        # /v1/timeline?about=: a record's events by date, by an index.
        Index(
            "ix_fact_about_entity_id_date_key_told_at_reported_on",
            "entity_id",
            "date_key",
            "told_at",
            "reported_on",
        ),
        # /v1/facts?about= sorted by date or id.
        Index(
            "ix_fact_about_entity_id_date_key_fact_id_reported_on",
            "entity_id",
            "date_key",
            "fact_id",
            "reported_on",
        ),
        Index("ix_fact_about_entity_id_fact_id_reported_on", "entity_id", "fact_id", "reported_on"),
    )

    fact_id: str = Field(foreign_key="facts.id", primary_key=True)
    entity_id: str = Field(primary_key=True)
    entity_kind: str
    position: int
    told_at: int = Field(description="The fact's told_at, so a record's facts list by an index.")
    date_key: str = Field(description="The fact's date_key, so a record's events list by one.")
    reported_on: dt.date | None = Field(
        default=None,
        description="The fact's reported_on, so a record's facts on a day list by one.",
    )


class FactSource(SQLModel, table=True):
    """Each source a fact cites, once, with the fact's keys of each order: a source's facts in
    any order are a range of an index, as a record's are in ``fact_about``. (Found by their
    citations, PostgreSQL walked the whole order to find the 2,000 facts that cite the us-code
    source, which all come last: 152 ms a page at 1000x.)"""

    __tablename__ = "fact_sources"
    # As the facts' own (Fact): each index ends with reported_on, for as_of.
    __table_args__ = (
        Index(
            "ix_fact_sources_source_id_told_at_reported_on", "source_id", "told_at", "reported_on"
        ),
        Index(
            "ix_fact_sources_source_id_date_key_fact_id_reported_on",
            "source_id",
            "date_key",
            "fact_id",
            "reported_on",
        ),
        Index(
            "ix_fact_sources_source_id_fact_id_reported_on", "source_id", "fact_id", "reported_on"
        ),
    )

    fact_id: str = Field(foreign_key="facts.id", primary_key=True)
    source_id: str = Field(foreign_key="sources.id", primary_key=True)
    told_at: int = Field(description="The fact's told_at, so a source's facts list by an index.")
    date_key: str = Field(description="The fact's date_key, so a source's facts list by date.")
    reported_on: dt.date | None = Field(
        default=None,
        description="The fact's reported_on, so a source's facts on a day list by an index.",
    )


class Citation(SQLModel, table=True):
    __tablename__ = "citations"
    # Found by source in fact_sources; this one serves the foreign key's checks of sources.
    __table_args__ = (Index("ix_citations_source_id_fact_id", "source_id", "fact_id"),)

    fact_id: str = Field(foreign_key="facts.id", primary_key=True)
    position: int = Field(primary_key=True)
    source_id: str = Field(foreign_key="sources.id")
    quote: str
    start: int
    end: int
    attributed_to: str | None = None


class Wave(SQLModel, table=True):
    __tablename__ = "waves"
    __table_args__ = (
        Index("ix_waves_sort_name_id", "sort_name", "id"),
        Index("ix_waves_status_rank_id", "status_rank", "id"),
        *filters_in_each_order("waves", ("status",)),
    )

    id: str = Field(primary_key=True)
    name: str
    aliases: list[str] = json_list()
    description: str | None = None
    status: str
    status_rank: int = Field(
        description="Its status's place in the posture's order (in place first): its pages' key."
    )
    size_fact_id: str | None = Field(default=None, foreign_key="facts.id")
    joins_id: str | None = Field(default=None, foreign_key="forces.id")
    joins_fact_id: str | None = Field(default=None, foreign_key="facts.id")
    origin: str | None = None
    destination: str | None = None
    tasks: list[str] = json_list()
    dates: list[dict[str, Any]] = json_list()
    sort_name: str = Field(description=SORT_NAME)
    listed: str = document(LISTED)
    detailed: str = document(DETAILED)


class WaveMember(SQLModel, table=True):
    __tablename__ = "wave_members"

    wave_id: str = Field(foreign_key="waves.id", primary_key=True)
    force_id: str = Field(foreign_key="forces.id", primary_key=True)
    fact_id: str = Field(foreign_key="facts.id")
    position: int


class WaveForce(SQLModel, table=True):
    """Each force a wave is tied to: a force of its composition, or the force it joins."""

    __tablename__ = "wave_forces"
    # /v1/waves?force=, by id and by name: the waves of one force, an index range.
    __table_args__ = (
        Index("ix_wave_forces_force_id_wave_id", "force_id", "wave_id"),
        Index("ix_wave_forces_force_id_sort_name_wave_id", "force_id", "sort_name", "wave_id"),
    )

    wave_id: str = Field(foreign_key="waves.id", primary_key=True)
    force_id: str = Field(foreign_key="forces.id", primary_key=True)
    sort_name: str = Field(
        description="The wave's sort_name, so that a force's waves list by name."
    )


class DatasetLoad(SQLModel, table=True):
    """One row per load that changed the data; the newest row is the data being served."""

    __tablename__ = "dataset_loads"

    seq: int | None = Field(default=None, sa_column=Column(Integer, primary_key=True))
    version: str = Field(index=True, description="Content hash of the loaded files.")
    loaded_at: dt.datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    summary: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    render_version: str = Field(
        description="The version of the code that rendered the documents: a load renders the "
        "data again when it differs, even if the data is unchanged."
    )


class DatasetChange(SQLModel, table=True):
    """What one load added, removed or changed, record by record, for clients that sync."""

    __tablename__ = "dataset_changes"
    # /v1/changes pages by record: kind, then id, with each record's loads in order.
    __table_args__ = (Index("ix_dataset_changes_kind_record_id_seq", "kind", "record_id", "seq"),)

    seq: int = Field(foreign_key="dataset_loads.seq", primary_key=True)
    kind: str = Field(primary_key=True, description="sources, forces, ..., facts")
    record_id: str = Field(primary_key=True)
    change: str = Field(description="added, removed or changed")


class RecordDigest(SQLModel, table=True):
    """A hash of each loaded record as written, so that the next load can say what changed."""

    __tablename__ = "record_digests"

    kind: str = Field(primary_key=True)
    record_id: str = Field(primary_key=True)
    digest: str


class SearchRecord(SQLModel, table=True):
    """A record as search shows it. ``place`` is its rowid in the full-text index
    (``search_index``) and its place among hits of equal rank."""

    __tablename__ = "search_records"
    __table_args__ = (
        Index("ix_search_records_kind_place", "kind", "place"),
        # A search cursor's last hit, found again by it (migration 0022).
        Index("ix_search_records_kind_record_id", "kind", "record_id", unique=True),
    )

    place: int | None = Field(default=None, sa_column=Column(Integer, primary_key=True))
    kind: str
    record_id: str
    name: str
    url: str
    texts: list[str] = Field(
        sa_column=Column(JSON, nullable=False),
        description="Its searched texts: its name, aliases, then the others.",
    )
    names: int = Field(description="How many of the texts are its name and aliases.")


# Tables that hold the dataset, parents before children: loads delete in reverse, insert in order.
DATA_TABLES: tuple[type[SQLModel], ...] = (
    Source,
    Force,
    Agency,
    Authority,
    Activity,
    ActivityForce,
    ActivityAuthority,
    ActivityEffect,
    Fact,
    FactAbout,
    FactSource,
    Citation,
    Wave,
    WaveMember,
    WaveForce,
    SearchRecord,
    RecordDigest,
)
DATA_TABLE_NAMES = tuple(str(table.__tablename__) for table in DATA_TABLES)
