"""What troops do, may do, or may not do."""

from typing import Annotated, Literal

from fastapi import APIRouter, Path, Request
from pydantic import Field
from starlette.responses import Response

from app.api.deps import snapshot_of
from app.api.listing import AsOfQuery, ListQuery, detail_response, list_response
from app.api.query import QueryModel
from app.api.sorting import BY_ID_OR_NAME, RecordId
from app.models.common import ActivityStatus
from app.models.public import ActivityDetail, ActivityPublic, Page

router = APIRouter(prefix="/v1/activities", tags=["activities"])


class ActivityQuery(ListQuery):
    status: ActivityStatus | None = Field(None, description="permitted, prohibited or unclear.")
    category: str | None = Field(None, max_length=40, description="support, law_enforcement, ...")
    sort: Literal["id", "-id", "name", "-name"] = Field(
        "name", description="id or name, A to Z; -id or -name, Z to A."
    )


@router.get("", response_model=Page[ActivityPublic])
async def list_activities(
    request: Request,
    query: Annotated[ActivityQuery, QueryModel(ActivityQuery)],
) -> Response:
    """List activities with whether troops may do them, and under which authority."""
    snapshot = snapshot_of(request)
    return list_response(
        request,
        snapshot.activities,
        query,
        matches=lambda activity: (
            (query.status is None or activity.status == query.status)
            and (query.category is None or activity.category == query.category)
        ),
        sort_keys=BY_ID_OR_NAME,
        sort=query.sort,
        item_model=ActivityPublic,
    )


@router.get("/{activity_id}", response_model=ActivityDetail)
async def get_activity(
    request: Request,
    activity_id: Annotated[str, Path(**RecordId)],
    query: Annotated[AsOfQuery, QueryModel(AsOfQuery)],
) -> Response:
    """One activity, who does it, what governs it, and every fact about it."""
    snapshot = snapshot_of(request)
    return detail_response(
        request, snapshot.known_on(query.as_of).activities, activity_id, query, ActivityDetail
    )
