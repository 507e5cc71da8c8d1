"""Laws, executive orders, declarations and regulations that bound what troops may do."""

from typing import Annotated, Literal

from fastapi import APIRouter, Path, Request
from pydantic import Field
from starlette.responses import Response

from app.api.deps import snapshot_of
from app.api.listing import AsOfQuery, ListQuery, detail_response, list_response
from app.api.query import QueryModel
from app.api.sorting import BY_ID_OR_NAME, RecordId
from app.models.common import AuthorityKind
from app.models.public import AuthorityDetail, AuthorityPublic, Page

router = APIRouter(prefix="/v1/authorities", tags=["authorities"])


class AuthorityQuery(ListQuery):
    kind: AuthorityKind | None = Field(None, description="statute, executive_order, ...")
    sort: Literal["id", "-id", "name", "-name"] = Field(
        "name", description="id or name, A to Z; -id or -name, Z to A."
    )


@router.get("", response_model=Page[AuthorityPublic])
async def list_authorities(
    request: Request,
    query: Annotated[AuthorityQuery, QueryModel(AuthorityQuery)],
) -> Response:
    """List legal authorities and what each permits or prohibits."""
    snapshot = snapshot_of(request)
    return list_response(
        request,
        snapshot.authorities,
        query,
        matches=lambda authority: query.kind is None or authority.kind == query.kind,
        sort_keys=BY_ID_OR_NAME,
        sort=query.sort,
        item_model=AuthorityPublic,
    )


@router.get("/{authority_id}", response_model=AuthorityDetail)
async def get_authority(
    request: Request,
    authority_id: Annotated[str, Path(**RecordId)],
    query: Annotated[AsOfQuery, QueryModel(AsOfQuery)],
) -> Response:
    """One authority, the activities it governs, and every fact about it."""
    snapshot = snapshot_of(request)
    return detail_response(
        request, snapshot.known_on(query.as_of).authorities, authority_id, query, AuthorityDetail
    )
