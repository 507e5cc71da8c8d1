"""What changed between the data version a client has and the current one."""

from typing import Annotated

from fastapi import APIRouter, Query, Request
from pydantic import Field
from starlette.responses import Response

from app.api.caching import CACHED
from app.api.deps import DataDep
from app.api.errors import ProblemError
from app.api.formats import Format, csv_columns, requested_format, to_csv
from app.api.listing import CSV_MEDIA_TYPE, DetailQuery, json_response
from app.models.kinds import record_path
from app.models.public import ChangeList, ChangePublic
from app.services.changes import Change, RecordChange, UnknownVersionError, changes_since
from app.services.store import Reading

router = APIRouter(prefix="/v1/changes", tags=["changes"])


class ChangesQuery(DetailQuery):
    since: str = Field(
        min_length=1,
        max_length=64,
        description="The data version the client has: the X-Data-Version header (or the front "
        "page's data_version) of its last sync.",
        examples=["d057df6f6974b5be"],  # the seed data's version: up to date, nothing changed
    )


@router.get(
    "",
    response_model=ChangeList,
    responses={410: {"description": "Resync from scratch"}},
    dependencies=[CACHED],
)
async def list_changes(
    request: Request, query: Annotated[ChangesQuery, Query()], data: DataDep
) -> Response:
    """Every record added, removed or changed since a data version, by kind and id, with the
    loads in between collapsed (added then removed is nothing). An empty list when ``since`` is
    the current version. A version not on record (never loaded here, or pruned) is a 410: fetch
    everything again, then ask for changes since that data's version.
    """

    def read(reading: Reading) -> list[RecordChange]:
        return changes_since(reading.connection, query.since)

    try:
        changes = await data.read(read)
    except UnknownVersionError as error:
        raise ProblemError(
            410,
            f"data version {query.since[:64]!r} is not on record here (never loaded, or its "
            "history was pruned): resync from scratch, then ask for changes since the "
            "X-Data-Version you get",
            slug="version-unknown",
        ) from error
    rows = [
        ChangePublic(
            kind=item.kind,
            id=item.record_id,
            change=item.change.value,
            url=None if item.change is Change.removed else record_path(item.kind, item.record_id),
        ).model_dump(mode="json")
        for item in changes
    ]
    if requested_format(request, query.format) is Format.csv:
        return Response(to_csv(rows, csv_columns(ChangePublic)), media_type=CSV_MEDIA_TYPE)
    state = data.answered_from()
    return json_response(
        {"since": query.since, "version": state.version, "data": rows, "total": len(rows)}, state
    )
