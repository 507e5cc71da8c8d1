"""The deployment as known on a day, with the totals the sources imply."""

from typing import Annotated

from fastapi import APIRouter, Query, Request
from starlette.responses import Response

from app.api.caching import CACHED
from app.api.deps import DataDep
from app.api.formats import Format, csv_columns, requested_format, to_csv
from app.api.listing import CSV_MEDIA_TYPE, CSV_TWIN, AsOfQuery, json_response
from app.models.public import Posture, PostureFigure, PostureTotal
from app.services.posture import posture_on

router = APIRouter(prefix="/v1/posture", tags=["posture"], responses=CSV_TWIN)

# One CSV row per figure and per total, told apart by the "row" column.
CSV_COLUMNS = ["row", *dict.fromkeys(csv_columns(PostureFigure) + csv_columns(PostureTotal))]


@router.get("", response_model=Posture, dependencies=[CACHED])
async def posture(
    request: Request, query: Annotated[AsOfQuery, Query()], data: DataDep
) -> Response:
    """The deployment as known on a day (by default the newest report's): for each wave and
    force, what is in place, ordered, requested, possible and expected, each figure with its
    citations and the alternatives other sources give; and the totals the figures imply, derived
    by the arithmetic of bounds and marked as derived.

    Only facts reported by ``as_of`` count, and only those that hold on it. Of several facts
    about the same thing, a preferred one stands over normal ones, then the newest report;
    deprecated ones are listed but never stand.
    """
    answer = await data.read(lambda reading: posture_on(reading, query.as_of))
    document = answer.model_dump(mode="json")
    if requested_format(request, query.format) is Format.csv:
        rows = [{"row": "figure", **figure} for figure in document["figures"]]
        rows += [{"row": "total", **total} for total in document["totals"]]
        return Response(to_csv(rows, CSV_COLUMNS), media_type=CSV_MEDIA_TYPE)
    return json_response(document, data.answered_from())
