"""The sources the facts are taken from."""

from typing import Annotated, Literal

import orjson
from fastapi import APIRouter, Path, Query, Request
from pydantic import Field
from starlette.responses import Response

from app.api.caching import CACHED
from app.api.deps import DataDep
from app.api.errors import ProblemError
from app.api.listing import (
    BY_ID,
    AsOfQuery,
    ListQuery,
    document_response,
    entity_selection,
    iso,
    list_response,
    not_found,
    order_of,
)
from app.api.sorting import RecordId
from app.models.kinds import Kind
from app.models.public import Page, SourcePublic
from app.services import records

router = APIRouter(prefix="/v1/sources", tags=["sources"])


class SourceQuery(ListQuery, AsOfQuery):
    sort: Literal["id", "-id"] = Field("id", description="id: A to Z; -id: Z to A.")


@router.get("", response_model=Page[SourcePublic], dependencies=[CACHED])
async def list_sources(
    request: Request, query: Annotated[SourceQuery, Query()], data: DataDep
) -> Response:
    """List sources, with how many facts cite each."""
    order = order_of({"id": BY_ID}, query.sort)
    selection = entity_selection(Kind.sources)
    if query.as_of is not None:
        selection.where(PUBLISHED_BY, as_of=iso(query.as_of))
    return await list_response(request, data, query, selection, order, SourcePublic)


@router.get("/{source_id}", response_model=SourcePublic, dependencies=[CACHED])
async def get_source(
    request: Request,
    source_id: Annotated[str, Path(**RecordId)],
    query: Annotated[AsOfQuery, Query()],
    data: DataDep,
) -> Response:
    """One source's metadata. Its full text is not republished; the facts quote it."""
    document = await data.read(
        lambda reading: records.read_document(reading, "sources", "listed", source_id)
    )
    if document is None:
        raise not_found(Kind.sources, source_id)
    published = orjson.loads(document)["published"]
    if query.as_of is not None and published is not None and published > query.as_of.isoformat():
        raise ProblemError(
            404, f"source {source_id!r} was not published by {query.as_of}: on {published}"
        )
    return document_response(request, data, Kind.sources, document.encode(), query)


PUBLISHED_BY = "(sources.published IS NULL OR sources.published <= :as_of)"
"""A source known on the day ``:as_of``: published by then, or undated reference."""
