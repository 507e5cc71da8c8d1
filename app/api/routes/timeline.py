"""Dated events in order: the facts that say when something happened or will happen."""

from typing import Annotated, Literal

from fastapi import APIRouter, Request
from pydantic import Field
from starlette.responses import Response

from app.api.deps import snapshot_of
from app.api.listing import Day, ListQuery, page_response
from app.api.pagination import SortKey
from app.api.query import QueryModel
from app.models.public import FactPublic, Page, TimelineEvent
from app.services.snapshot import telling_order

router = APIRouter(prefix="/v1/timeline", tags=["timeline"])

EVENT_FIELDS = tuple(TimelineEvent.model_fields)  # an event is a dated fact, shown in part


class TimelineQuery(ListQuery):
    about: str | None = Field(
        None, max_length=200, description="Only events about this record id, e.g. insurrection-act."
    )
    from_: Day | None = Field(
        None,
        alias="from",
        description="Only events dated on or after this day. A week, month or year is dated by "
        "its first day.",
    )
    to: Day | None = Field(None, description="Only events dated on or before this day.")
    sort: Literal["date", "-date"] = Field(
        "date", description="date: oldest first (the default); -date: newest first."
    )


def _when(fact: FactPublic) -> SortKey:
    """By date; events of one day in the order their sources tell them. (Undated facts, which
    are no events, come first: the facts are sorted once for every request, then filtered.)"""
    return (fact.date.date.isoformat() if fact.date else "", *telling_order(fact))


@router.get("", response_model=Page[TimelineEvent])
async def timeline(
    request: Request,
    query: Annotated[TimelineQuery, QueryModel(TimelineQuery)],
) -> Response:
    """Dated events in order, each with its date's precision, what it concerns and its citations."""
    snapshot = snapshot_of(request)
    descending = query.sort == "-date"
    events = [
        fact
        for fact in snapshot.facts.ordered(_when, descending=descending)
        if fact.date is not None
        and (query.from_ is None or fact.date.date >= query.from_)
        and (query.to is None or fact.date.date <= query.to)
        and (query.about is None or any(ref.id == query.about for ref in fact.about))
    ]
    return page_response(
        request,
        events,
        query,
        key=_when,
        row=lambda fact: {name: snapshot.facts.detailed[fact.id][name] for name in EVENT_FIELDS},
        item_model=TimelineEvent,
        descending=descending,
    )
