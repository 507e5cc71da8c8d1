"""Civilian departments and agencies."""

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
from app.models.common import AgencyLevel
from app.models.kinds import Kind
from app.models.public import AgencyDetail, AgencyPublic, Page

router = APIRouter(prefix="/v1/agencies", tags=["agencies"])


class AgencyQuery(ListQuery, AsOfQuery):
    level: AgencyLevel | None = Field(None, description="federal or state.")
    sort: Literal["id", "-id", "name", "-name"] = Field(
        "name", description="id or name, A to Z; -id or -name, Z to A."
    )


@router.get("", response_model=Page[AgencyPublic], dependencies=[CACHED])
async def list_agencies(
    request: Request, query: Annotated[AgencyQuery, Query()], data: DataDep
) -> Response:
    """List civilian departments and agencies."""
    selection = entity_selection(Kind.agencies, level=query.level)
    order = order_of(ENTITY_ORDERS, query.sort)
    return await list_response(request, data, query, selection, order, AgencyPublic)


@router.get("/{agency_id}", response_model=AgencyDetail, dependencies=[CACHED])
async def get_agency(
    request: Request,
    agency_id: Annotated[str, Path(**RecordId)],
    query: Annotated[AsOfQuery, Query()],
    data: DataDep,
) -> Response:
    """One agency, the forces that support it, and the first facts about it;
    every fact about it is at `facts_url`."""
    return await detail_response(request, data, Kind.agencies, agency_id, query, query.as_of)
