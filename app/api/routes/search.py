"""Search every kind of record by name, alias, description, statement and quote."""

from typing import Annotated, Literal

from fastapi import APIRouter, Request
from pydantic import Field
from starlette.responses import Response

from app.api.deps import snapshot_of
from app.api.errors import ProblemError
from app.api.listing import ListQuery, page_response
from app.api.query import QueryModel
from app.models.public import Page, SearchHit
from app.services.search import EmptyQueryError, SearchIndex
from app.services.store import DataUnavailableError

router = APIRouter(prefix="/v1/search", tags=["search"])

Kind = Literal["forces", "agencies", "waves", "authorities", "activities", "sources", "facts"]


class SearchQuery(ListQuery):
    q: str = Field(
        min_length=1,
        max_length=200,
        description="Words to find, all of them, each as the start of a word: Lonestar, "
        '"Lone Star", Pendleton, marine. Punctuation and case are ignored; there is no query '
        "syntax.",
        examples=["Lonestar"],
    )
    kind: Kind | None = Field(None, description="Only records of this collection.")


# Async like the other handlers, though it asks the index: on SQLite a copy in memory answers at
# once, on the event loop; PostgreSQL is asked from the thread pool (see SearchIndex).
@router.get("", response_model=Page[SearchHit])
async def search(
    request: Request,
    query: Annotated[SearchQuery, QueryModel(SearchQuery)],
) -> Response:
    """Find records of every kind whose names, aliases or text hold all the words of `q`, best
    first. Each hit has a snippet with the matching words between « and »."""
    snapshot = snapshot_of(request)
    index: SearchIndex = request.app.state.search_index
    try:
        hits = await index.search(snapshot, query.q, query.kind)
    except EmptyQueryError as error:
        raise ProblemError(
            400,
            str(error),
            slug="invalid-parameter",
            invalid_params=[{"name": "q", "reason": "has no letters or digits to search for"}],
        ) from error
    except DataUnavailableError as error:
        raise ProblemError(503, str(error), slug="service-unavailable") from error
    return page_response(
        request,
        list(enumerate(hits)),  # the order is fixed for a data version: a hit's place is its key
        query,
        key=lambda numbered: (numbered[0],),
        row=lambda numbered: numbered[1],
        item_model=SearchHit,
    )
