"""The deployment as known on a day, with the totals the sources imply."""

from enum import StrEnum
from typing import Annotated

import orjson
from fastapi import APIRouter, Query, Request
from pydantic import Field
from starlette.responses import Response

from app.api.caching import CACHED
from app.api.deps import DataDep
from app.api.formats import (
    JSONL_MEDIA_TYPE,
    Format,
    csv_columns,
    requested_format,
    to_csv,
    to_jsonl,
)
from app.api.listing import CSV_MEDIA_TYPE, JSON_MEDIA_TYPE, AsOfQuery, version_headers
from app.api.pagination import decode_cursor, encode_cursor, page_url, query_fingerprint
from app.models.public import Posture, PostureFigure, PostureTotal
from app.services.posture import posture_on
from app.services.records import Order

router = APIRouter(prefix="/v1/posture", tags=["posture"])


class PosturePart(StrEnum):
    """Which of the posture's tables a CSV holds."""

    figures = "figures"
    totals = "totals"


CSV_COLUMNS = {
    PosturePart.figures: csv_columns(PostureFigure),
    PosturePart.totals: csv_columns(PostureTotal),
}


class PostureQuery(AsOfQuery):
    part: PosturePart = Field(
        PosturePart.figures,
        description="For CSV and JSON Lines, which table: figures (the default), one row per "
        "stated figure, paged by wave; or totals, one row per derived total, whole on one page. "
        "JSON holds both.",
    )
    limit: int = Field(50, ge=1, le=200, description="Waves per page of figures, 1 to 200.")
    cursor: str | None = Field(
        None, max_length=1000, description="The opaque cursor from a previous page's next link."
    )


# By status (in place first), then wave id.
BY_STATUS = Order(("status_rank", "id"), (int, str))


@router.get("", response_model=Posture, dependencies=[CACHED])
async def posture(
    request: Request, query: Annotated[PostureQuery, Query()], data: DataDep
) -> Response:
    """The deployment as known on a day (by default the newest report's): for each wave and
    force, what is in place, ordered, requested, possible and expected, each figure with its
    citations and the alternatives other sources give; and the totals the figures imply, derived
    by the arithmetic of bounds and marked as derived.

    Only facts reported by ``as_of`` count, and only those that hold on it. Of several facts
    about the same thing, a preferred one stands over normal ones, then the newest report;
    deprecated ones are listed but never stand.
    """
    fingerprint = query_fingerprint(query.model_dump(include={"as_of"}, mode="json"), BY_STATUS)
    secret = request.app.state.cursor_key
    after = decode_cursor(query.cursor, fingerprint, BY_STATUS, secret) if query.cursor else None
    limit = min(query.limit, data.max_page_size)
    answer, last = await data.read(
        lambda reading: posture_on(
            reading,
            query.as_of,
            after=(after[0], after[1]) if after else None,  # type: ignore[arg-type]
            limit=limit,
            totals=data.totals,
        )
    )
    headers = version_headers(data.answered_from())
    wanted = requested_format(request, query.format)
    # The totals are over every wave: a table of them alone is whole on every page, and a next
    # page would repeat it.
    totals_alone = wanted is not Format.json and query.part is PosturePart.totals
    if last is not None and not totals_alone:
        params = query.model_dump(exclude={"cursor"}, exclude_defaults=True, mode="json")
        next_url = page_url(request, params, encode_cursor(last, fingerprint, secret))
        answer["next"] = next_url
        headers["Link"] = f'<{next_url}>; rel="next"'
    if wanted is Format.csv:
        rows = answer[query.part.value]
        return Response(
            to_csv(rows, CSV_COLUMNS[query.part]), media_type=CSV_MEDIA_TYPE, headers=headers
        )
    if wanted is Format.jsonl:
        lines = to_jsonl(orjson.dumps(row) for row in answer[query.part.value])
        return Response(lines, media_type=JSONL_MEDIA_TYPE, headers=headers)
    return Response(orjson.dumps(answer), media_type=JSON_MEDIA_TYPE, headers=headers)
