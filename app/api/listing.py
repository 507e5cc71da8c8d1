"""What every list and detail endpoint shares: query models, orders, paging, representations."""

import datetime as dt
import re
from collections.abc import AsyncIterator, Callable
from enum import Enum
from typing import Annotated, Any, Literal

import orjson
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, PlainValidator, WithJsonSchema
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from app.api.caching import STREAMED
from app.api.deps import Data
from app.api.errors import InvalidParameterError, ProblemError, accepted_params, name_some, shorten
from app.api.formats import (
    JSONL_MEDIA_TYPE,
    Format,
    csv_columns,
    requested_format,
    to_csv,
    to_jsonl,
)
from app.api.pagination import (
    CURSOR_MAX_CHARACTERS,
    decode_cursor,
    encode_cursor,
    page_url,
    query_fingerprint,
)
from app.models.kinds import Kind
from app.models.public import EMBEDDED, LIST_MODELS, facts_url
from app.services import records, search
from app.services.records import Order, Page, Selection, SortKey
from app.services.store import LoadState, Reading

JSON_MEDIA_TYPE = "application/json"
CSV_MEDIA_TYPE = "text/csv; charset=utf-8"

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
        None,
        description="json (default), csv or jsonl (JSON Lines); also chosen by the Accept "
        "header (text/csv, application/jsonl).",
    )


class AsOfQuery(DetailQuery):
    """Parameters of an endpoint that can answer as the data stood on a past day."""

    as_of: Day | None = Field(
        None,
        description="Answer as the data stood on this day (YYYY-MM-DD): only the facts reported "
        "by then, that is whose earliest source was published on or before it. Facts from "
        "undated reference sources, such as the us-code citations of the statutes, are always "
        "known. Records themselves (forces, agencies, waves, ...) have no date: their lists "
        "hold every record, and a wave shows only the size, shares and tie reported by then. "
        "Omit for everything known now.",
        examples=["2025-01-22"],
    )


ALL: Literal["all"] = "all"
PAGE_SIZE_SCHEMA = {"type": "integer", "minimum": 1, "maximum": 200}


def _page_size(value: object) -> int | Literal["all"]:
    """1 to 200, or all; one reason for any other value (a union would give one per branch)."""
    if value == ALL:
        return ALL
    if isinstance(value, int | str) and str(value).isdigit() and 1 <= int(value) <= 200:
        return int(value)
    raise ValueError("must be a whole number from 1 to 200, or all (for CSV and JSON Lines)")


# ``all`` is for the streamed representations only (CSV and JSON Lines): the document, which
# describes JSON, keeps ``limit`` an integer, so that generated clients type it as one.
Limit = Annotated[
    int | Literal["all"], PlainValidator(_page_size), WithJsonSchema(PAGE_SIZE_SCHEMA)
]


class ListQuery(DetailQuery):
    """Parameters every list takes."""

    limit: Limit = Field(
        50,
        description="Items per page, 1 to 200. For the whole list in one answer, ask for CSV or "
        "JSON Lines with limit=all (see *Whole collections* in the API's description).",
    )
    # A cursor is URL-safe base64: its characters are bytes of the query's 8 KiB. The pattern is
    # documented, not checked here: decode_cursor refuses any other as not issued.
    cursor: str | None = Field(
        None,
        max_length=CURSOR_MAX_CHARACTERS,
        json_schema_extra={"pattern": "^[A-Za-z0-9_-]*$"},
        description="The opaque cursor from a previous page's next link.",
    )


async def refuse_repeated_parameters(request: Request) -> None:
    """A 400 for a query parameter given more than once: no parameter is a list, and a handler
    reads one value, so which one would be a guess (and the response cache's key the query as
    sent, which must mean one thing)."""
    names = [name for name, _ in request.query_params.multi_items()]
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        named, listed = name_some(repeated)
        raise ProblemError(
            400,
            f"given more than once: {listed}; give each parameter once",
            slug="repeated-parameter",
            invalid_params=[{"name": name, "reason": "given more than once"} for name in named],
        )


async def refuse_nul_characters(request: Request) -> None:
    """A 400 for a path parameter, or a query parameter the route takes, that holds U+0000: no
    id, value or word holds one, and PostgreSQL's text cannot, so it would refuse the value where
    SQLite finds nothing. An unknown parameter is left to the refusal that lists the accepted
    ones, and a cursor to ``decode_cursor``, which refuses any it did not issue."""
    taken = set(accepted_params(request.scope.get("route"))) - {"cursor"}
    given = [
        *request.path_params.items(),
        *((name, value) for name, value in request.query_params.multi_items() if name in taken),
    ]
    holding = [shorten(name) for name, value in given if "\x00" in str(value)]
    if holding:
        reason = "holds a NUL character"
        raise ProblemError(
            400,
            "; ".join(f"{name}: {reason}" for name in holding),
            slug="invalid-parameter",
            invalid_params=[{"name": name, "reason": reason} for name in holding],
        )


BY_ID = Order(("id",), (str,))
BY_NAME = Order(("sort_name", "id"), (str, str))
ENTITY_ORDERS = {"id": BY_ID, "name": BY_NAME}


def link_orders(link: str, record_id: str) -> dict[str, Order]:
    """ENTITY_ORDERS, in the columns of the link table ``link``, which holds each linked
    record's id (its column ``record_id``) and sort name beside the record it links it to: one
    record's linked records are an index range of it."""
    return {
        "id": Order((f"{link}.{record_id}",), (str,)),
        "name": Order((f"{link}.sort_name", f"{link}.{record_id}"), (str, str)),
    }


def dated_between(
    selection: Selection, table: str, start: dt.date | None, end: dt.date | None
) -> None:
    """Only the facts dated from ``start`` to ``end`` (either open); a 400 for ``from`` later
    than ``to``: such a range holds nothing, which is a slip. Asked of the ``date_key`` of
    ``table``'s rows (``facts``, ``fact_about`` or ``fact_sources``, as ``records.known_on``),
    the column the date order's indexes begin with, so that in that order the days are a range of
    its index.
    (Asked of ``facts.date``, a page walked that index from its start: at 1000x,
    /v1/facts?from=2025-06-01&sort=date read 54,000 facts: its statement took 73 ms against
    0.05 ms, the request 81 ms against 6.9 ms.)"""
    if start is not None and end is not None and start > end:
        raise InvalidParameterError("from", f"is later than to ({end})")
    if start is not None:
        selection.where(f"{table}.date_key >= :date_from", date_from=iso(start))
    if end is not None:
        # An undated fact's key is empty, and sorts before every day.
        selection.where(f"{table}.date_key > '' AND {table}.date_key <= :date_to", date_to=iso(end))


def search_terms(q: str) -> list[str]:
    """The words of ``q`` as the search index holds them; a 400 naming q when it has none."""
    try:
        return search.terms_of(q)
    except search.EmptyQueryError as error:
        raise InvalidParameterError("q", "has no letters or digits to search for") from error


def order_of(orders: dict[str, Order], sort: str) -> Order:
    """The order ``sort`` names: a key of ``orders``, descending when it starts with ``-``."""
    order = orders[sort.removeprefix("-")]
    return order.reversed() if sort.startswith("-") else order


def iso(day: dt.date | None) -> str | None:
    """A day as the tables hold and compare it."""
    return day.isoformat() if day else None


def json_response(payload: Any, state: LoadState | None = None) -> Response:
    return Response(
        orjson.dumps(payload), media_type=JSON_MEDIA_TYPE, headers=version_headers(state)
    )


def version_headers(state: LoadState | None) -> dict[str, str]:
    return {"X-Data-Version": state.version} if state and state.version else {}


ReadPage = Callable[[Reading, SortKey | None, int], Page]
"""Reads the ``limit`` items of a list after the one whose sort key is given (None: the first)."""

DOWNLOAD_CHUNK = 500
"""Items a download reads per transaction: its memory is this many, whatever the list's size."""


class DownloadInterruptedError(RuntimeError):
    """A load changed the data while a download streamed it: its rest would be of another
    version, so it stops short (the client sees a truncated answer, and asks again)."""


async def list_response(
    request: Request,
    data: Data,
    query: ListQuery,
    selection: Selection,
    order: Order,
    item_model: type[BaseModel],
    revise: Callable[[Reading, list[dict[str, Any]]], None] | None = None,
) -> Response:
    """The rows ``selection`` picks, in ``order``: a page as the list envelope, CSV or JSON
    Lines, or with ``limit=all`` the whole list, streamed. ``revise`` edits a page's documents
    in place (as waves stood on a past day), all at once, before they are sent."""
    filters = query.model_dump(exclude={"cursor", "limit", "format"}, mode="json")
    fingerprint = query_fingerprint(filters, order)
    secret = request.app.state.cursor_key
    after = decode_cursor(query.cursor, fingerprint, order, secret) if query.cursor else None

    def read(reading: Reading, after: SortKey | None, limit: int) -> Page:
        page = records.read_page(
            reading, selection, order, after=after, limit=limit, totals=data.totals
        )
        if revise is None:
            return page
        documents = [orjson.loads(stored) for stored in page.documents]
        revise(reading, documents)
        revised = [orjson.dumps(document).decode() for document in documents]
        return Page(revised, page.next_key, page.total)

    return await answer_list(request, data, query, item_model, fingerprint, after, read)


async def answer_list(
    request: Request,
    data: Data,
    query: ListQuery,
    item_model: type[BaseModel],
    fingerprint: str,
    after: SortKey | None,
    read: ReadPage,
) -> Response:
    """A page of a list that ``read`` reads, or the whole of it for ``limit=all``."""
    if isinstance(query.limit, str):  # all
        return await download_response(request, data, query, item_model, after, read)
    limit = min(query.limit, data.max_page_size)
    page = await data.read(lambda reading: read(reading, after, limit))
    return page_response(request, data, query, page, item_model, fingerprint)


def streamed_format(request: Request, query: ListQuery) -> Format:
    """The representation of a ``limit=all`` answer: CSV or JSON Lines, never one JSON document
    (which a client could not read until its end)."""
    wanted = requested_format(request, query.format)
    if wanted is Format.json:
        reason = "all is for CSV and JSON Lines (format=csv or format=jsonl); JSON is paged"
        raise InvalidParameterError("limit", reason)
    return wanted


async def download_response(
    request: Request,
    data: Data,
    query: ListQuery,
    item_model: type[BaseModel],
    after: SortKey | None,
    read: ReadPage,
) -> Response:
    """The whole list (after ``after``) as CSV or JSON Lines, streamed ``DOWNLOAD_CHUNK`` items
    per read transaction, every part from the data version of the first."""
    wanted = streamed_format(request, query)
    first = await data.read(lambda reading: read(reading, after, DOWNLOAD_CHUNK))
    state = data.answered_from()
    columns = csv_columns(item_model)

    def part_after(key: SortKey) -> Callable[[Reading], Page]:
        return lambda reading: read(reading, key, DOWNLOAD_CHUNK)

    async def parts() -> AsyncIterator[bytes]:
        page, header = first, True
        while True:
            if wanted is Format.csv:
                rows = (orjson.loads(document) for document in page.documents)
                yield to_csv(rows, columns, header=header)
            else:
                yield to_jsonl(page.documents)
            if page.next_key is None:
                return
            page = await data.read(part_after(page.next_key))
            header = False
            if data.answered_from() != state:
                raise DownloadInterruptedError(
                    f"another load replaced the one it read (data version {state.version})"
                )

    request.scope[STREAMED] = True
    headers = version_headers(state) | {"X-Total-Count": str(first.total)}
    media_type = CSV_MEDIA_TYPE if wanted is Format.csv else JSONL_MEDIA_TYPE
    return StreamingResponse(parts(), media_type=media_type, headers=headers)


def page_response(
    request: Request,
    data: Data,
    query: ListQuery,
    page: Page,
    item_model: type[BaseModel],
    fingerprint: str,
    envelope: dict[str, Any] | None = None,
    data_version: str | None = None,
) -> Response:
    """A page as the list envelope (after the fields of ``envelope``, if any), CSV or JSON
    Lines, with its next link also in the ``Link`` header and its total in ``X-Total-Count``.
    ``data_version`` is the version the page is of, when not the load it was read from."""
    next_url = None
    if page.next_key is not None:
        params = query.model_dump(
            exclude={"cursor"}, exclude_defaults=True, mode="json", by_alias=True
        )
        next_url = page_url(
            request, params, encode_cursor(page.next_key, fingerprint, request.app.state.cursor_key)
        )
    version = (
        {"X-Data-Version": data_version} if data_version else version_headers(data.answered_from())
    )
    headers = version | {"X-Total-Count": str(page.total)}
    if next_url:
        headers["Link"] = f'<{next_url}>; rel="next"'
    wanted = requested_format(request, query.format)
    if wanted is Format.csv:
        rows = [orjson.loads(document) for document in page.documents]
        return Response(
            to_csv(rows, csv_columns(item_model)), media_type=CSV_MEDIA_TYPE, headers=headers
        )
    if wanted is Format.jsonl:
        return Response(to_jsonl(page.documents), media_type=JSONL_MEDIA_TYPE, headers=headers)
    body = orjson.dumps(
        {
            **(envelope or {}),
            "data": [orjson.Fragment(document) for document in page.documents],
            "next": next_url,
            "total": page.total,
        }
    )
    return Response(body, media_type=JSON_MEDIA_TYPE, headers=headers)


def not_found(kind: Kind, record_id: str) -> ProblemError:
    return ProblemError(404, f"no {kind} record has the id {record_id[:80]!r}")


async def detail_response(
    request: Request,
    data: Data,
    kind: Kind,
    record_id: str,
    query: DetailQuery,
    as_of: dt.date | None = None,
) -> Response:
    """One record's detail page; for an entity, with the first facts about it known on
    ``as_of`` (everything known when None)."""
    document = await data.read(
        lambda reading: _detail(reading, data.totals, kind, record_id, iso(as_of))
    )
    if document is None:
        raise not_found(kind, record_id)
    return document_response(request, data, kind, document, query)


def document_response(
    request: Request, data: Data, kind: Kind, document: bytes, query: DetailQuery
) -> Response:
    """A record's detail document, as JSON or as a CSV of the one row its list holds for it."""
    headers = version_headers(data.answered_from())
    wanted = requested_format(request, query.format)
    if wanted is Format.csv:
        row = orjson.loads(document)
        return Response(
            to_csv([row], csv_columns(LIST_MODELS[kind])),  # the row its list has
            media_type=CSV_MEDIA_TYPE,
            headers=headers,
        )
    if wanted is Format.jsonl:
        return Response(to_jsonl([document]), media_type=JSONL_MEDIA_TYPE, headers=headers)
    return Response(document, media_type=JSON_MEDIA_TYPE, headers=headers)


def _detail(
    reading: Reading, totals: records.Totals, kind: Kind, record_id: str, as_of: str | None
) -> bytes | None:
    column = "detailed" if kind.is_entity else "listed"
    stored = records.read_document(reading, kind.value, column, record_id)
    if stored is None:
        return None
    if not kind.is_entity:
        return stored.encode()
    detail = orjson.loads(stored)
    detail["facts"] = records.facts_about(reading, record_id, as_of, EMBEDDED)
    if as_of is not None:
        detail["fact_count"] = totals.count(
            reading,
            ("facts about", record_id, as_of),
            lambda: records.count_facts_about(reading, record_id, as_of),
        )
        detail["facts_url"] = f"{facts_url(record_id)}&as_of={as_of}"
        if kind is Kind.waves:
            records.wave_known_on(reading.connection, detail, as_of)
    return orjson.dumps(detail)


def entity_selection(kind: Kind, /, **filters: Any) -> Selection:
    """The rows of an entity's table whose columns equal the given filters (None: any)."""
    selection = Selection(kind.value, "listed")
    for column, value in filters.items():
        if value is not None:
            plain = value.value if isinstance(value, Enum) else value  # drivers bind plain str
            selection.where(f"{column} = :{column}", **{column: plain})
    return selection
