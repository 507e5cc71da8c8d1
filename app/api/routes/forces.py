"""Military commands, units, task forces and operations."""

from typing import Annotated, Literal

from fastapi import APIRouter, Path, Request
from pydantic import Field
from starlette.responses import Response

from app.api.deps import snapshot_of
from app.api.listing import AsOfQuery, ListQuery, detail_response, list_response
from app.api.query import QueryModel
from app.api.sorting import BY_ID_OR_NAME, RecordId
from app.models.common import Component
from app.models.public import ForceDetail, ForcePublic, Page

router = APIRouter(prefix="/v1/forces", tags=["forces"])


class ForceQuery(ListQuery):
    component: Component | None = Field(None, description="active_duty or national_guard.")
    kind: str | None = Field(None, max_length=40, description="command, task_force, unit, ...")
    sort: Literal["id", "-id", "name", "-name"] = Field(
        "name", description="id or name, A to Z; -id or -name, Z to A."
    )


@router.get("", response_model=Page[ForcePublic])
async def list_forces(
    request: Request, query: Annotated[ForceQuery, QueryModel(ForceQuery)]
) -> Response:
    """List forces: commands, units, task forces and operations."""
    snapshot = snapshot_of(request)
    return list_response(
        request,
        snapshot.forces,
        query,
        matches=lambda force: (
            (query.component is None or force.component == query.component)
            and (query.kind is None or force.kind == query.kind)
        ),
        sort_keys=BY_ID_OR_NAME,
        sort=query.sort,
        item_model=ForcePublic,
    )


@router.get("/{force_id}", response_model=ForceDetail)
async def get_force(
    request: Request,
    force_id: Annotated[str, Path(**RecordId)],
    query: Annotated[AsOfQuery, QueryModel(AsOfQuery)],
) -> Response:
    """One force, what it does, the waves it is part of, and every fact about it."""
    snapshot = snapshot_of(request)
    return detail_response(
        request, snapshot.known_on(query.as_of).forces, force_id, query, ForceDetail
    )
