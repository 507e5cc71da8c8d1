"""The sources the facts are taken from."""

from typing import Annotated, Literal

from fastapi import APIRouter, Path, Request
from pydantic import Field
from starlette.responses import Response

from app.api.deps import snapshot_of
from app.api.listing import DetailQuery, ListQuery, detail_response, list_response
from app.api.query import QueryModel
from app.api.sorting import BY_ID, RecordId
from app.models.public import Page, SourcePublic

router = APIRouter(prefix="/v1/sources", tags=["sources"])


class SourceQuery(ListQuery):
    sort: Literal["id", "-id"] = Field("id", description="id: A to Z; -id: Z to A.")


@router.get("", response_model=Page[SourcePublic])
async def list_sources(
    request: Request, query: Annotated[SourceQuery, QueryModel(SourceQuery)]
) -> Response:
    """List sources, with how many facts cite each."""
    snapshot = snapshot_of(request)
    return list_response(
        request,
        snapshot.sources,
        query,
        matches=lambda _source: True,
        sort_keys=BY_ID,
        sort=query.sort,
        item_model=SourcePublic,
    )


@router.get("/{source_id}", response_model=SourcePublic)
async def get_source(
    request: Request,
    source_id: Annotated[str, Path(**RecordId)],
    query: Annotated[DetailQuery, QueryModel(DetailQuery)],
) -> Response:
    """One source's metadata. Its full text is not republished; the facts quote it."""
    snapshot = snapshot_of(request)
    return detail_response(request, snapshot.sources, source_id, query, SourcePublic)
