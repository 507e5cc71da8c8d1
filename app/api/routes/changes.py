"""What changed between the data version a client has and the current one."""

from typing import Annotated

import orjson
from fastapi import APIRouter, Query, Request
from pydantic import Field
from starlette.responses import Response

from app.api.caching import CACHED
from app.api.deps import DataDep
from app.api.errors import ProblemError
from app.api.listing import ListQuery, download_response, page_response
from app.api.pagination import decode_cursor, query_fingerprint
from app.models.kinds import record_path
from app.models.public import ChangeList, ChangePublic
from app.services.changes import (
    KIND_PLACE,
    Change,
    RecordChange,
    Span,
    UnknownVersionError,
    changes_page,
    count_changes,
    size_of,
    span_since,
)
from app.services.records import Order, Page, SortKey
from app.services.store import Reading

router = APIRouter(prefix="/v1/changes", tags=["changes"])


class ChangesQuery(ListQuery):
    # No example: a version is this server's to issue, and any fixed one stops being on record
    # once the data changes (then the answer is the 410, as documented).
    since: str = Field(
        min_length=1,
        max_length=64,
        description="The data version the client has: the X-Data-Version header (or the front "
        "page's data_version) of its last sync, such as 667d44972a089aa9.",
    )


# The cursor holds the load the first page answered up to, and the last record's place: the
# kind's place in the order of kinds and the record's id. Later pages answer up to that load
# too, so the pages of one walk are the difference between the same two versions.
BY_RECORD = Order(("until", "kind", "record_id"), (int, int, str))


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
    loads in between collapsed (added then removed is nothing). A record changed when its list
    item or its page did: its own fields, or its counts and relations, which change with other
    records (a fact added about a force changes the force). The first facts a page embeds are
    listed as the facts they are; which facts come first is no change of its own. Changes are
    between data versions: the same data rendered anew by another Muster keeps its version. An
    empty list when ``since`` is the current version. Paged like every list; every page of one
    walk, followed by its next links, is the difference up to the version the first page gave
    (``version``), even if a load comes in between: ask again since that version afterwards. A
    version not on record (never loaded here, or pruned) is a 410: fetch everything again, then
    ask for changes since that data's version.
    """
    fingerprint = query_fingerprint({"since": query.since}, BY_RECORD)
    secret = request.app.state.cursor_key
    after = decode_cursor(query.cursor, fingerprint, BY_RECORD, secret) if query.cursor else None

    def read(reading: Reading, after: SortKey | None, limit: int) -> tuple[Span, Page]:
        until = int(after[0]) if after else None
        span = span_since(reading.connection, query.since, until, reading.state.seq or 0)
        place = (int(after[1]), str(after[2])) if after else None
        size = data.totals.remembered(
            reading,
            ("changes size", span.since, span.until),
            lambda: size_of(reading.connection, span),
        )
        changes = changes_page(
            reading.connection, span, place, limit + 1, by_load=size.read_by_load(limit + 1)
        )
        total = data.totals.count(
            reading,
            ("changes", span.since, span.until),
            lambda: count_changes(reading.connection, span),
        )
        more = len(changes) > limit
        changes = changes[:limit]
        last = changes[-1] if more else None
        return span, Page(
            [_document(change) for change in changes],
            (span.until, KIND_PLACE[last.kind], last.record_id) if last else None,
            total,
        )

    try:
        if isinstance(query.limit, str):  # all
            return await download_response(
                request,
                data,
                query,
                ChangePublic,
                after,
                lambda reading, after, limit: read(reading, after, limit)[1],
            )
        limit = min(query.limit, data.max_page_size)
        span, page = await data.read(lambda reading: read(reading, after, limit))
    except UnknownVersionError as error:
        raise ProblemError(
            410,
            f"data version {query.since[:64]!r} is not on record here (never loaded, or its "
            "history was pruned): resync from scratch, then ask for changes since the "
            "X-Data-Version you get",
            slug="version-unknown",
        ) from error
    envelope = {"since": query.since, "version": span.version}
    # A walk's pages are the difference up to the version its first page gave, whatever load
    # they were read from: that is the version a client syncs by next.
    return page_response(
        request, data, query, page, ChangePublic, fingerprint, envelope, data_version=span.version
    )


def _document(item: RecordChange) -> str:
    removed = item.change is Change.removed
    return orjson.dumps(
        {
            "kind": item.kind,
            "collection": item.kind,
            "id": item.record_id,
            "change": item.change.value,
            "url": None if removed else record_path(item.kind, item.record_id),
        }
    ).decode()
