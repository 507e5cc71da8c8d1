"""Search every kind of record by name, alias, description, statement and quote."""

from typing import Annotated

import orjson
from fastapi import APIRouter, Query, Request
from pydantic import Field
from starlette.responses import Response

from app.api.caching import CACHED
from app.api.deps import DataDep
from app.api.listing import AsOfQuery, ListQuery, answer_list, iso, search_terms
from app.api.pagination import decode_cursor, query_fingerprint
from app.models.kinds import Kind
from app.models.public import Page, SearchHit
from app.services import search as index
from app.services.records import Order, RecordGoneError, SortKey
from app.services.records import Page as ResultPage
from app.services.store import Reading

router = APIRouter(prefix="/v1/search", tags=["search"])


class SearchQuery(ListQuery, AsOfQuery):
    q: str = Field(
        min_length=1,
        max_length=200,
        description="Words to find, all of them, each as the start of a word: Lonestar, "
        '"Lone Star", Pendleton, marine. Punctuation and case are ignored; there is no query '
        "syntax.",
        examples=["Lonestar"],
    )
    kind: Kind | None = Field(None, description="Only records of this collection.")


# Best rank first, then by place in the index. The cursor holds the last hit's rank, kind and id,
# and the next page looks its place up again: a load numbers the places anew.
BY_RANK = Order(("rank", "kind", "record_id"), (int, str, str), numbering=index.PLACE_NUMBERING)
HIT_FIELDS = tuple(SearchHit.model_fields)


@router.get("", response_model=Page[SearchHit], dependencies=[CACHED])
async def search(
    request: Request, query: Annotated[SearchQuery, Query()], data: DataDep
) -> Response:
    """Find records of every kind whose names, aliases or text hold all the words of `q`, best
    first. Each hit has a snippet with the matching words between « and »."""
    terms = search_terms(query.q)
    fingerprint = query_fingerprint(
        query.model_dump(exclude={"cursor", "limit", "format"}, mode="json"), BY_RANK
    )
    secret = request.app.state.cursor_key
    after = decode_cursor(query.cursor, fingerprint, BY_RANK, secret) if query.cursor else None

    def find(reading: Reading, after: SortKey | None, limit: int) -> ResultPage:
        found = index.Matcher(terms, reading.on_postgresql)
        after_hit = None
        if after is not None:
            rank, kind, record_id = after
            place = index.place_of(reading.connection, str(kind), str(record_id))
            if place is None:
                raise RecordGoneError(record_id)
            after_hit = (int(rank), place)
        hits = index.hits(
            reading.connection, found, query.kind, after_hit, limit + 1, iso(query.as_of)
        )
        total = data.totals.count(
            reading,
            ("search", tuple(terms), query.kind, iso(query.as_of)),
            lambda: index.count(reading.connection, found, query.kind, iso(query.as_of)),
        )
        more = len(hits) > limit
        hits = hits[:limit]
        documents = [
            orjson.dumps(
                {name: hit[name] for name in HIT_FIELDS if name in hit}
                | {"collection": hit["kind"], "relevance": hit["rank"]}
            ).decode()
            for hit in hits
        ]
        next_key = (hits[-1]["rank"], hits[-1]["kind"], hits[-1]["id"]) if more else None
        return ResultPage(documents, next_key, total)

    return await answer_list(request, data, query, SearchHit, fingerprint, after, find)
