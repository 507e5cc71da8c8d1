"""Statements from the sources, each with its citations."""

from collections.abc import Callable
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Request
from pydantic import Field
from starlette.responses import Response

from app.api.deps import snapshot_of
from app.api.errors import ProblemError
from app.api.listing import AsOfQuery, Day, ListQuery, detail_response, list_response
from app.api.pagination import SortKey
from app.api.query import QueryModel
from app.api.sorting import RecordId
from app.models.common import FactKind, FactStatus, Rank
from app.models.public import FactPublic, Page
from app.services.snapshot import telling_order

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
        None, max_length=500, description="Words that must all appear in the statement or quotes."
    )
    from_: Day | None = Field(
        None, alias="from", description="Only facts dated on or after this day."
    )
    to: Day | None = Field(None, description="Only facts dated on or before this day.")
    sort: Literal["source", "date", "-date", "id", "-id"] = Field(
        "source", description="source: in the order the sources tell them (the default)."
    )


def _date_key(fact: FactPublic) -> SortKey:
    return (fact.date.date.isoformat() if fact.date else "", fact.id)


FACT_SORT_KEYS: dict[str, Callable[[Any], SortKey]] = {
    "source": telling_order,
    "date": _date_key,
    "id": lambda fact: (fact.id,),
}


def _matcher(query: FactQuery) -> Callable[[FactPublic], bool] | None:
    """The test a fact must pass to be listed; None when every fact is (no filter is given)."""
    filters = (query.about, query.kind, query.status, query.rank, query.source, query.q)
    if all(value is None for value in filters) and query.from_ is None and query.to is None:
        return None
    words = query.q.casefold().split() if query.q else []

    def matches(fact: FactPublic) -> bool:
        if query.about is not None and all(ref.id != query.about for ref in fact.about):
            return False
        if query.kind is not None and fact.kind != query.kind:
            return False
        if query.status is not None and fact.status != query.status:
            return False
        if query.rank is not None and fact.rank != query.rank:
            return False
        if query.source is not None and all(c.source_id != query.source for c in fact.citations):
            return False
        if query.from_ is not None and (fact.date is None or fact.date.date < query.from_):
            return False
        if query.to is not None and (fact.date is None or fact.date.date > query.to):
            return False
        if words:
            text = " ".join([fact.statement, *(c.quote for c in fact.citations)]).casefold()
            return all(word in text for word in words)
        return True

    return matches


@router.get("", response_model=Page[FactPublic])
async def list_facts(
    request: Request, query: Annotated[FactQuery, QueryModel(FactQuery)]
) -> Response:
    """List facts, filtered by what they are about, kind, status, source, words or date."""
    snapshot = snapshot_of(request)
    return list_response(
        request,
        snapshot.known_on(query.as_of).facts,
        query,
        matches=_matcher(query),
        sort_keys=FACT_SORT_KEYS,
        sort=query.sort,
        item_model=FactPublic,
    )


@router.get("/{fact_id}", response_model=FactPublic)
async def get_fact(
    request: Request,
    fact_id: Annotated[str, Path(**RecordId)],
    query: Annotated[AsOfQuery, QueryModel(AsOfQuery)],
) -> Response:
    """One fact with its citations."""
    snapshot = snapshot_of(request)
    known = snapshot.known_on(query.as_of)
    fact = snapshot.facts.by_id.get(fact_id)
    if fact is not None and fact_id not in known.facts.by_id:
        raise ProblemError(
            404,
            f"fact {fact_id!r} was not reported by {query.as_of}: "
            f"it was first reported on {fact.reported_on}",
        )
    return detail_response(request, known.facts, fact_id, query, FactPublic)
