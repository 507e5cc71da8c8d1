"""Laws, executive orders, declarations and regulations that bound what troops may do."""

from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query, Request
from pydantic import Field
from starlette.responses import Response

from app.api.caching import CACHED
from app.api.deps import DataDep
from app.api.listing import (
    ENTITY_ORDERS,
    AsOfQuery,
    ListQuery,
    detail_response,
    entity_selection,
    list_response,
    order_of,
)
from app.api.sorting import RecordId
from app.models.common import AuthorityKind
from app.models.kinds import Kind
from app.models.public import AuthorityDetail, AuthorityPublic, Page

router = APIRouter(prefix="/v1/authorities", tags=["authorities"])


class AuthorityQuery(ListQuery, AsOfQuery):
    kind: AuthorityKind | None = Field(None, description="statute, executive_order, ...")
    sort: Literal["id", "-id", "name", "-name"] = Field(
        "name", description="id or name, A to Z; -id or -name, Z to A."
    )


@router.get("", response_model=Page[AuthorityPublic], dependencies=[CACHED])
async def list_authorities(
    request: Request, query: Annotated[AuthorityQuery, Query()], data: DataDep
) -> Response:
    """List legal authorities and what each permits or prohibits."""
    selection = entity_selection(Kind.authorities, kind=query.kind)
    order = order_of(ENTITY_ORDERS, query.sort)
    return await list_response(request, data, query, selection, order, AuthorityPublic)


@router.get("/{authority_id}", response_model=AuthorityDetail, dependencies=[CACHED])
async def get_authority(
    request: Request,
    authority_id: Annotated[str, Path(**RecordId)],
    query: Annotated[AsOfQuery, Query()],
    data: DataDep,
) -> Response:
    """One authority, the activities it governs, and the first facts about it;
    every fact about it is at `facts_url`."""
    return await detail_response(request, data, Kind.authorities, authority_id, query, query.as_of)
