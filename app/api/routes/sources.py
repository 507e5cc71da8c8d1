"""The sources the facts are taken from."""

from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query, Request
from pydantic import Field
from starlette.responses import Response

from app.api.caching import CACHED
from app.api.deps import DataDep
from app.api.listing import (
    BY_ID,
    DetailQuery,
    ListQuery,
    detail_response,
    entity_selection,
    list_response,
    order_of,
)
from app.api.sorting import RecordId
from app.models.kinds import Kind
from app.models.public import Page, SourcePublic

router = APIRouter(prefix="/v1/sources", tags=["sources"])


class SourceQuery(ListQuery):
    sort: Literal["id", "-id"] = Field("id", description="id: A to Z; -id: Z to A.")


@router.get("", response_model=Page[SourcePublic], dependencies=[CACHED])
async def list_sources(
    request: Request, query: Annotated[SourceQuery, Query()], data: DataDep
) -> Response:
    """List sources, with how many facts cite each."""
    order = order_of({"id": BY_ID}, query.sort)
    return await list_response(
        request, data, query, entity_selection(Kind.sources), order, SourcePublic
    )


@router.get("/{source_id}", response_model=SourcePublic, dependencies=[CACHED])
async def get_source(
    request: Request,
    source_id: Annotated[str, Path(**RecordId)],
    query: Annotated[DetailQuery, Query()],
    data: DataDep,
) -> Response:
    """One source's metadata. Its full text is not republished; the facts quote it."""
    return await detail_response(request, data, Kind.sources, source_id, query)
