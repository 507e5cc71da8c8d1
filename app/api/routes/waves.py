"""Tranches of the deployment: in place, ordered, requested, possible or expected."""

from typing import Annotated, Literal

from fastapi import APIRouter, Path, Request
from pydantic import Field
from starlette.responses import Response

from app.api.deps import snapshot_of
from app.api.listing import AsOfQuery, ListQuery, detail_response, list_response
from app.api.query import QueryModel
from app.api.sorting import BY_ID_OR_NAME, RecordId
from app.models.common import WaveStatus
from app.models.public import Page, WaveDetail, WavePublic

router = APIRouter(prefix="/v1/waves", tags=["waves"])


class WaveQuery(ListQuery):
    status: WaveStatus | None = Field(None, description="in_place, ordered, requested, ...")
    sort: Literal["id", "-id", "name", "-name"] = Field(
        "id", description="id or name, A to Z; -id or -name, Z to A."
    )


@router.get("", response_model=Page[WavePublic])
async def list_waves(
    request: Request, query: Annotated[WaveQuery, QueryModel(WaveQuery)]
) -> Response:
    """List deployment waves with their sizes as the sources give them."""
    snapshot = snapshot_of(request)
    return list_response(
        request,
        snapshot.waves,
        query,
        matches=lambda wave: query.status is None or wave.status == query.status,
        sort_keys=BY_ID_OR_NAME,
        sort=query.sort,
        item_model=WavePublic,
    )


@router.get("/{wave_id}", response_model=WaveDetail)
async def get_wave(
    request: Request,
    wave_id: Annotated[str, Path(**RecordId)],
    query: Annotated[AsOfQuery, QueryModel(AsOfQuery)],
) -> Response:
    """One wave: its size, composition, tasks and dates, and every fact about it."""
    snapshot = snapshot_of(request)
    return detail_response(
        request, snapshot.known_on(query.as_of).waves, wave_id, query, WaveDetail
    )
