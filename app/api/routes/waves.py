"""Tranches of the deployment: in place, ordered, requested, possible or expected."""

from typing import Annotated, Any, Literal

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
    iso,
    link_orders,
    list_response,
    order_of,
)
from app.api.sorting import RecordId
from app.models.common import WaveStatus
from app.models.kinds import Kind
from app.models.public import Page, WaveDetail, WavePublic
from app.services import records
from app.services.store import Reading

router = APIRouter(prefix="/v1/waves", tags=["waves"])

BY_FORCE_LINK = link_orders("wave_forces", "wave_id")


class WaveQuery(ListQuery, AsOfQuery):
    status: WaveStatus | None = Field(None, description="in_place, ordered, requested, ...")
    force: str | None = Field(
        None,
        max_length=200,
        description="Only waves this force id is part of (composition) or that join it.",
    )
    sort: Literal["id", "-id", "name", "-name"] = Field(
        "id", description="id or name, A to Z; -id or -name, Z to A."
    )


@router.get("", response_model=Page[WavePublic], dependencies=[CACHED])
async def list_waves(
    request: Request, query: Annotated[WaveQuery, Query()], data: DataDep
) -> Response:
    """List deployment waves with their sizes as the sources give them."""
    selection = entity_selection(Kind.waves, status=query.status)
    orders = ENTITY_ORDERS
    if query.force is not None:
        selection.join("wave_forces ON wave_forces.wave_id = waves.id").where(
            "wave_forces.force_id = :force", force=query.force
        )
        orders = BY_FORCE_LINK
    order = order_of(orders, query.sort)
    as_of = iso(query.as_of)

    def known_on(reading: Reading, waves: list[dict[str, Any]]) -> None:
        records.waves_known_on(reading.connection, waves, as_of)  # type: ignore[arg-type]

    revise = known_on if as_of is not None else None
    return await list_response(request, data, query, selection, order, WavePublic, revise)


@router.get("/{wave_id}", response_model=WaveDetail, dependencies=[CACHED])
async def get_wave(
    request: Request,
    wave_id: Annotated[str, Path(**RecordId)],
    query: Annotated[AsOfQuery, Query()],
    data: DataDep,
) -> Response:
    """One wave: its size, composition, tasks and dates, and the first facts about it;
    every fact about it is at `facts_url`."""
    return await detail_response(request, data, Kind.waves, wave_id, query, query.as_of)
