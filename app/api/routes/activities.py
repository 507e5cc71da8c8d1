"""What troops do, may do, or may not do."""

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
    link_orders,
    list_response,
    order_of,
)
from app.api.sorting import RecordId
from app.models.common import ActivityStatus, AuthorityEffect
from app.models.kinds import Kind
from app.models.public import ActivityDetail, ActivityPublic, Page

router = APIRouter(prefix="/v1/activities", tags=["activities"])


class ActivityQuery(ListQuery, AsOfQuery):
    status: ActivityStatus | None = Field(None, description="permitted, prohibited or unclear.")
    category: str | None = Field(None, max_length=40, description="support, law_enforcement, ...")
    force: str | None = Field(
        None, max_length=200, description="Only activities this force id does or would do."
    )
    authority: str | None = Field(
        None, max_length=200, description="Only activities this authority id bears on."
    )
    effect: AuthorityEffect | None = Field(
        None, description="Only activities an authority bears on so: permits, prohibits, ..."
    )
    sort: Literal["id", "-id", "name", "-name"] = Field(
        "name", description="id or name, A to Z; -id or -name, Z to A."
    )


BY_FORCE_LINK = link_orders("activity_forces", "activity_id")
BY_AUTHORITY_LINK = link_orders("activity_authorities", "activity_id")
BY_EFFECT_LINK = link_orders("activity_effects", "activity_id")


@router.get("", response_model=Page[ActivityPublic], dependencies=[CACHED])
async def list_activities(
    request: Request, query: Annotated[ActivityQuery, Query()], data: DataDep
) -> Response:
    """List activities with whether troops may do them, and under which authority."""
    selection = entity_selection(Kind.activities, status=query.status, category=query.category)
    orders = ENTITY_ORDERS
    if query.force is not None:
        selection.join("activity_forces ON activity_forces.activity_id = activities.id").where(
            "activity_forces.force_id = :force", force=query.force
        )
        orders = BY_FORCE_LINK
    if query.authority is not None:  # one link at most: an activity is listed once
        selection.join(
            "activity_authorities ON activity_authorities.activity_id = activities.id"
        ).where("activity_authorities.authority_id = :authority", authority=query.authority)
        if query.effect is not None:
            selection.where("activity_authorities.effect = :effect", effect=query.effect.value)
        if query.force is None:
            orders = BY_AUTHORITY_LINK
    elif query.effect is not None:  # once, however many authorities bear so on the activity
        selection.join("activity_effects ON activity_effects.activity_id = activities.id").where(
            "activity_effects.effect = :effect", effect=query.effect.value
        )
        if query.force is None:
            orders = BY_EFFECT_LINK
    order = order_of(orders, query.sort)
    return await list_response(request, data, query, selection, order, ActivityPublic)


@router.get("/{activity_id}", response_model=ActivityDetail, dependencies=[CACHED])
async def get_activity(
    request: Request,
    activity_id: Annotated[str, Path(**RecordId)],
    query: Annotated[AsOfQuery, Query()],
    data: DataDep,
) -> Response:
    """One activity, who does it, what governs it, and the first facts about it;
    every fact about it is at `facts_url`."""
    return await detail_response(request, data, Kind.activities, activity_id, query, query.as_of)
