"""Statements from the sources, each with its citations."""

from typing import Annotated, Literal

import orjson
from fastapi import APIRouter, Path, Query, Request
from pydantic import Field
from starlette.responses import Response

from app.api.caching import CACHED
from app.api.deps import DataDep
from app.api.errors import ProblemError
from app.api.listing import (
    AsOfQuery,
    Day,
    ListQuery,
    dated_between,
    document_response,
    iso,
    list_response,
    not_found,
    order_of,
    search_terms,
)
from app.api.sorting import RecordId
from app.models import tables
from app.models.common import FactKind, FactStatus, Rank
from app.models.kinds import Kind
from app.models.public import FactPublic, Page
from app.services import records, search
from app.services.records import Order, Selection, known_on, told_by_id

router = APIRouter(prefix="/v1/facts", tags=["facts"])


class FactQuery(ListQuery, AsOfQuery):
    about: str | None = Field(None, max_length=200, description="Only facts about this record id.")
    kind: FactKind | None = Field(None, description="Only facts of this kind: quantity, event, ...")
    status: FactStatus | None = Field(
        None, description="Only facts this firm: reported, ordered, expected, ..."
    )
    rank: Rank | None = Field(None, description="Only facts of this rank: preferred, normal, ...")
    source: str | None = Field(None, max_length=200, description="Only facts citing this source.")
    q: str | None = Field(
        None,
        max_length=500,
        description="Words that must all appear in the statement, the quotes or whom they are "
        "attributed to.",
    )
    from_: Day | None = Field(
        None, alias="from", description="Only facts dated on or after this day."
    )
    to: Day | None = Field(None, description="Only facts dated on or before this day.")
    sort: Literal["source", "date", "-date", "id", "-id"] = Field(
        "source", description="source: in the order the sources tell them (the default)."
    )


FACT_ORDERS = {  # each with an index of its own, and one for each filter (tables.Fact)
    "source": told_by_id(told_at="facts.told_at", fact_id="facts.id"),
    "date": Order(("facts.date_key", "facts.id"), (str, str)),
    "id": Order(("facts.id",), (str,)),
}
# Facts about one record, in each order, straight from that record's index of them (fact_about
# holds each fact's told_at and date_key; its fact_id is the fact's id).
ABOUT_ORDERS = {
    "source": told_by_id(told_at="fact_about.told_at", fact_id="fact_about.fact_id"),
    "date": Order(("fact_about.date_key", "fact_about.fact_id"), (str, str)),
    "id": Order(("fact_about.fact_id",), (str,)),
}
# Facts citing one source, in each order, from that source's index of them (fact_sources, as
# fact_about).
SOURCE_ORDERS = {
    "source": told_by_id(told_at="fact_sources.told_at", fact_id="fact_sources.fact_id"),
    "date": Order(("fact_sources.date_key", "fact_sources.fact_id"), (str, str)),
    "id": Order(("fact_sources.fact_id",), (str,)),
}
ORDERS_OF_FINDING_TABLE = {
    "facts": FACT_ORDERS,
    "fact_about": ABOUT_ORDERS,
    "fact_sources": SOURCE_ORDERS,
}


def fact_selection(query: FactQuery, *, on_postgresql: bool) -> tuple[Selection, Order]:
    """The facts a query's filters select, and the order its sort names."""
    kept = _filtered(Selection("facts", "facts.listed"), query)
    if query.q is None:
        return kept, _fact_order(query)
    found = search.Matcher(search_terms(query.q), on_postgresql)
    selection = _filtered(records.facts_holding(found), query, by_place=True)
    # In the order of telling, which is the index's (records.facts_holding), the words' facts
    # are read in order; in any other, sorted, unless walked.
    in_index_order = query.sort == "source"
    selection.walk = records.Walk(
        walked=_filtered(records.facts_found_by(found), query),
        holding=records.facts_holding(found),
        kept=kept,
        order=_fact_order(query),
        sorts_found=not in_index_order,
    )
    if in_index_order:
        # Named as PostgreSQL spells it, so that its replicas, which upgrade one by one, take
        # each other's cursors; SQLite's earlier ones start their walk again, once.
        place = Order(
            (found.place,),
            (str,),
            numbering=search.PLACE_NUMBERING,
            named=("search_index.place",),
            held_as=("facts.id",),
        )
        return selection, place
    return selection, selection.walk.order


def _finding_table(query: FactQuery) -> str:
    """The table whose index entries find the query's facts, in each order, with their days: a
    record's index of its facts with about, else a source's with source, else the facts' own."""
    if query.about is not None:
        return "fact_about"
    if query.source is not None:
        return "fact_sources"
    return "facts"


def _fact_order(query: FactQuery) -> Order:
    return order_of(ORDERS_OF_FINDING_TABLE[_finding_table(query)], query.sort)


def _filtered(selection: Selection, query: FactQuery, *, by_place: bool = False) -> Selection:
    """``selection`` kept to the facts that the query's filters other than ``q`` keep.

    ``by_place`` for the facts found by their places in the search index (``facts_holding``): a
    record's and a source's index of its facts are then joined by ``told_at``, which is a fact's
    place, so that counting them reads no fact's row (at 1000x, about=jtf-north&q=the counted on
    SQLite in 39 ms, by fact id in 90). Otherwise by fact id, which their indexes in date and id
    order hold and ``told_at`` not: by ``told_at``, about=jtf-north&kind=quantity&sort=date read
    each entry's row, 8.2 ms a page against 2.2."""
    joined_by = "told_at = facts.told_at" if by_place else "fact_id = facts.id"
    if query.about is not None:
        selection.join(f"fact_about ON fact_about.{joined_by}").where(
            "fact_about.entity_id = :about", about=query.about
        )
    if query.source is not None:
        selection.join(f"fact_sources ON fact_sources.{joined_by}").where(
            "fact_sources.source_id = :source", source=query.source
        )
    for column in tables.FACT_FILTER_COLUMNS:
        value = getattr(query, column)
        if value is not None:
            selection.where(f"facts.{column} = :{column}", **{column: value.value})
    finding_table = _finding_table(query)
    dated_between(selection, finding_table, query.from_, query.to)
    if query.as_of is not None:
        selection.where(known_on(finding_table), as_of=iso(query.as_of))
    return selection


@router.get("", response_model=Page[FactPublic], dependencies=[CACHED])
async def list_facts(
    request: Request, query: Annotated[FactQuery, Query()], data: DataDep
) -> Response:
    """List facts, filtered by what they are about, kind, status, source, words or date."""
    selection, order = fact_selection(query, on_postgresql=data.store.on_postgresql)
    return await list_response(request, data, query, selection, order, FactPublic)


@router.get("/{fact_id}", response_model=FactPublic, dependencies=[CACHED])
async def get_fact(
    request: Request,
    fact_id: Annotated[str, Path(**RecordId)],
    query: Annotated[AsOfQuery, Query()],
    data: DataDep,
) -> Response:
    """One fact with its citations."""
    document = await data.read(
        lambda reading: records.read_document(reading, "facts", "listed", fact_id)
    )
    if document is None:
        raise not_found(Kind.facts, fact_id)
    if query.as_of is not None:
        reported_on = orjson.loads(document)["reported_on"]
        if reported_on is not None and reported_on > query.as_of.isoformat():
            raise ProblemError(
                404,
                f"fact {fact_id!r} was not reported by {query.as_of}: "
                f"it was first reported on {reported_on}",
            )
    return document_response(request, data, Kind.facts, document.encode(), query)
