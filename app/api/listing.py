"""What every list and detail endpoint shares: query models, sorting, paging, representations."""

import datetime as dt
import re
from collections.abc import Callable, Sequence
from typing import Annotated, Any, TypeVar

import orjson
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field
from starlette.requests import Request
from starlette.responses import Response

from app.api.errors import ProblemError
from app.api.formats import Format, csv_columns, requested_format, to_csv
from app.api.pagination import SortKey, page_url, paginate, query_fingerprint
from app.services.snapshot import Collection

JSON_MEDIA_TYPE = "application/json"
CSV_MEDIA_TYPE = "text/csv; charset=utf-8"

ItemT = TypeVar("ItemT")
ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


def _written_as_a_day(value: object) -> object:
    # Pydantic would also read a number as seconds since 1970: a slip must not become a date.
    if isinstance(value, str) and not ISO_DAY.fullmatch(value):
        raise ValueError("must be a day written YYYY-MM-DD")
    return value


Day = Annotated[dt.date, BeforeValidator(_written_as_a_day)]
"""A day as a query parameter: YYYY-MM-DD and nothing else."""


class DetailQuery(BaseModel):
    """Parameters of a detail endpoint. Unknown parameters are refused, so typos are seen."""

    model_config = ConfigDict(extra="forbid")

    format: Format | None = Field(
        None, description="json (default) or csv; CSV is also given for Accept: text/csv."
    )


class AsOfQuery(DetailQuery):
    """Parameters of an endpoint that can answer as the data stood on a past day."""

    as_of: Day | None = Field(
        None,
        description="Answer as the data stood on this day (YYYY-MM-DD): only the facts reported "
        "by then, that is whose earliest source was published on or before it. Facts from "
        "undated reference sources, such as the us-code citations of the statutes, are always "
        "known. Omit for everything known now.",
        examples=["2025-01-22"],
    )


class ListQuery(DetailQuery):
    """Parameters every list takes."""

    limit: int = Field(50, ge=1, le=200, description="Items per page, 1 to 200.")
    cursor: str | None = Field(
        None, max_length=1000, description="The opaque cursor from a previous page's next link."
    )


def json_response(payload: Any) -> Response:
    return Response(orjson.dumps(payload), media_type=JSON_MEDIA_TYPE)


def list_response(
    request: Request,
    collection: Collection[Any],
    query: ListQuery,
    *,
    matches: Callable[[Any], bool] | None,
    sort_keys: dict[str, Callable[[Any], SortKey]],
    sort: str,
    item_model: type[BaseModel],
) -> Response:
    """One page of the records of ``collection`` that ``matches`` (all when None), in the order
    ``sort`` names.

    ``sort`` is a key of ``sort_keys``, descending when it starts with ``-``.
    """
    descending = sort.startswith("-")
    key = sort_keys[sort.removeprefix("-")]
    ordered = collection.ordered(key, descending=descending)
    selected = ordered if matches is None else [record for record in ordered if matches(record)]
    return page_response(
        request,
        selected,
        query,
        key=key,
        row=lambda record: collection.listed[record.id],
        json_row=lambda record: collection.listed_json[record.id],
        item_model=item_model,
        descending=descending,
    )


def page_response(
    request: Request,
    items: Sequence[ItemT],
    query: ListQuery,
    *,
    key: Callable[[ItemT], SortKey],
    row: Callable[[ItemT], dict[str, Any]],
    json_row: Callable[[ItemT], dict[str, Any] | orjson.Fragment] | None = None,
    item_model: type[BaseModel],
    descending: bool = False,
) -> Response:
    """One page of ``items`` (selected, and sorted by ``key``) as the list envelope or CSV, each
    item shown as ``row`` makes it; in JSON, as ``json_row`` makes it when given (the same, or its
    serialised form)."""
    filters = query.model_dump(exclude={"cursor", "limit", "format"}, mode="json")
    page, cursor = paginate(
        items,
        key=key,
        limit=min(query.limit, request.app.state.max_page_size),
        cursor=query.cursor,
        fingerprint=query_fingerprint(filters),
        descending=descending,
    )
    next_url = None
    if cursor:
        params = query.model_dump(
            exclude={"cursor"}, exclude_defaults=True, mode="json", by_alias=True
        )
        # The path as the edge layer normalised it; request.url would build a whole URL for it.
        next_url = page_url(request.scope["path"], params, cursor)
    headers = {"Link": f'<{next_url}>; rel="next"'} if next_url else None
    if requested_format(request, query.format) is Format.csv:
        body = to_csv([row(item) for item in page], csv_columns(item_model))
        return Response(body, media_type=CSV_MEDIA_TYPE, headers=headers)
    data = [(json_row or row)(item) for item in page]
    body = orjson.dumps({"data": data, "next": next_url, "total": len(items)})
    return Response(body, media_type=JSON_MEDIA_TYPE, headers=headers)


def detail_response(
    request: Request,
    collection: Collection[Any],
    record_id: str,
    query: DetailQuery,
    detail_model: type[BaseModel],
) -> Response:
    body = collection.detailed_json.get(record_id)
    if body is None:
        raise ProblemError(404, f"no {collection.kind} record has the id {record_id[:80]!r}")
    if requested_format(request, query.format) is Format.csv:
        data = collection.detailed[record_id]
        return Response(to_csv([data], csv_columns(detail_model)), media_type=CSV_MEDIA_TYPE)
    return Response(body, media_type=JSON_MEDIA_TYPE)
