"""Civilian departments and agencies."""

from typing import Annotated, Literal

from fastapi import APIRouter, Path, Request
from pydantic import Field
from starlette.responses import Response

from app.api.deps import snapshot_of
from app.api.listing import AsOfQuery, ListQuery, detail_response, list_response
from app.api.query import QueryModel
from app.api.sorting import BY_ID_OR_NAME, RecordId
from app.models.public import AgencyDetail, AgencyPublic, Page

router = APIRouter(prefix="/v1/agencies", tags=["agencies"])


class AgencyQuery(ListQuery):
    level: Literal["federal", "state"] | None = Field(None, description="federal or state.")
    sort: Literal["id", "-id", "name", "-name"] = Field(
        "name", description="id or name, A to Z; -id or -name, Z to A."
    )


@router.get("", response_model=Page[AgencyPublic])
async def list_agencies(
    request: Request, query: Annotated[AgencyQuery, QueryModel(AgencyQuery)]
) -> Response:
    """List civilian departments and agencies."""
    snapshot = snapshot_of(request)
    return list_response(
        request,
        snapshot.agencies,
        query,
        matches=lambda agency: query.level is None or agency.level == query.level,
        sort_keys=BY_ID_OR_NAME,
        sort=query.sort,
        item_model=AgencyPublic,
    )


@router.get("/{agency_id}", response_model=AgencyDetail)
async def get_agency(
    request: Request,
    agency_id: Annotated[str, Path(**RecordId)],
    query: Annotated[AsOfQuery, QueryModel(AsOfQuery)],
) -> Response:
    """One agency, the forces that support it, and every fact about it."""
    snapshot = snapshot_of(request)
    return detail_response(
        request, snapshot.known_on(query.as_of).agencies, agency_id, query, AgencyDetail
    )
