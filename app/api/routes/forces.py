"""Military commands, units, task forces and operations."""

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
from app.models.common import Component
from app.models.kinds import Kind
from app.models.public import ForceDetail, ForcePublic, Page

router = APIRouter(prefix="/v1/forces", tags=["forces"])


class ForceQuery(ListQuery, AsOfQuery):
    component: Component | None = Field(None, description="active_duty or national_guard.")
    kind: str | None = Field(None, max_length=40, description="command, task_force, unit, ...")
    sort: Literal["id", "-id", "name", "-name"] = Field(
        "name", description="id or name, A to Z; -id or -name, Z to A."
    )


@router.get("", response_model=Page[ForcePublic], dependencies=[CACHED])
async def list_forces(
    request: Request, query: Annotated[ForceQuery, Query()], data: DataDep
) -> Response:
    """List forces: commands, units, task forces and operations."""
    selection = entity_selection(Kind.forces, component=query.component, kind=query.kind)
    order = order_of(ENTITY_ORDERS, query.sort)
    return await list_response(request, data, query, selection, order, ForcePublic)


@router.get("/{force_id}", response_model=ForceDetail, dependencies=[CACHED])
async def get_force(
    request: Request,
    force_id: Annotated[str, Path(**RecordId)],
    query: Annotated[AsOfQuery, Query()],
    data: DataDep,
) -> Response:
    """One force, what it does, the waves it is part of, and the first facts about it;
    every fact about it is at `facts_url`."""
    return await detail_response(request, data, Kind.forces, force_id, query, query.as_of)
