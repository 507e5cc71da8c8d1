"""The application: FastAPI routes behind Muster's edge middleware."""

import math
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from functools import partial
from pathlib import Path
from typing import Any

from fastapi import Depends, FastAPI
from fastapi.routing import APIRoute
from sqlalchemy import make_url
from starlette.types import ASGIApp, Receive, Scope, Send, StatelessLifespan

from app import __version__
from app.api.access_log import AccessLogMiddleware
from app.api.contract import refine
from app.api.cors import Cors
from app.api.cors import fixed_headers as cors_fixed_headers
from app.api.cursor_key import install_cursor_key
from app.api.docs import install_docs
from app.api.edge import HeadAsGet, Limits, OneSlash, ResponseHeaders, UnexpectedErrors
from app.api.errors import Problem, install_problem_handlers
from app.api.listing import refuse_nul_characters, refuse_repeated_parameters
from app.api.request_ids import RequestIdMiddleware
from app.api.response_cache import GZIP_MIN_BYTES, PreparedResponses, ResponseCache
from app.api.routes import (
    activities,
    agencies,
    authorities,
    changes,
    facts,
    forces,
    meta,
    posture,
    search,
    sources,
    timeline,
    waves,
)
from app.config import Settings, get_settings
from app.db import is_sqlite, make_engine, read_only_sqlite_url
from app.services.records import Totals
from app.services.store import DataStore

DESCRIPTION = """
Structured, source-cited facts about the January 2025 U.S. troop deployment to the southern
border: the forces, the deployment waves and their sizes, the legal authorities that bound what
troops may do, and what they may and may not do.

Every fact carries its evidence: a verbatim quote with character offsets into its source, who
said it, and how firm it is. A number is never bare: each Quantity says whether it is exact,
approximate, a bound or a range, and keeps the source's own words.

## Lists
A list answers `{"data": [...], "next": <absolute URL or null>, "total": <int>}`, `limit` items
a page (1 to 200): follow `next`, also in the `Link` header, until it is null. Every list also
sends its total in the `X-Total-Count` header.

## CSV and JSON Lines
Every list and detail is also CSV (`format=csv` or `Accept: text/csv`) and JSON Lines, one item
a line (`format=jsonl` or `Accept: application/jsonl`). A CSV cell holding a list is a JSON
array (`["a","b"]`); a quantity is spread over `quantity_value`, `quantity_min`, ... columns; a
cell that a spreadsheet would run as a formula starts with `'`.

## Whole collections
For a notebook, a whole list in one answer: `limit=all` with CSV or JSON Lines, for example
`/v1/facts?format=csv&limit=all`. It is streamed as it is read, takes every filter the list
takes, and is wholly of one data version: should a load come in while it streams, it stops short
(fewer rows than `X-Total-Count`, the list's total, less the rows before its cursor when it starts
from one), and asking again gets the new data. JSON is paged only.

## A past day
`as_of=YYYY-MM-DD` answers as the data stood on that day, on every list, search, the timeline,
the posture and the details: only the facts reported by then (whose earliest source was
published by then) and the sources published by then; undated reference sources are always
known. Records themselves (forces, agencies, waves, ...) have no date: their lists hold every
record, and a wave shows only the size, shares and tie to a force reported by then.
"""

TAGS = [
    {"name": "sources", "description": "What the facts are taken from."},
    {"name": "forces", "description": "Military commands, units, task forces and operations."},
    {"name": "agencies", "description": "Civilian departments and agencies."},
    {"name": "waves", "description": "Tranches of the deployment and their sizes."},
    {"name": "authorities", "description": "Laws, orders and declarations that bound troops."},
    {"name": "activities", "description": "What troops may do, may not do, or might."},
    {"name": "facts", "description": "Statements from the sources, each with its citations."},
    {"name": "search", "description": "Every kind of record, found by its words."},
    {"name": "timeline", "description": "Dated events in order."},
    {
        "name": "posture",
        "description": "The deployment as known on a day, with the totals it implies.",
    },
    {"name": "changes", "description": "What changed since a data version, for syncing."},
    {"name": "meta", "description": "The front page and health checks."},
]


# FastAPI tries the routes one after another (about 2 µs for each route tried), so the order
# is by cost to the most frequent callers: search and facts, the API's main entry points, first;
# the front page, health checks and docs, asked rarely or by probes, last. The documentation
# groups operations by tag, in the order of TAGS, whatever this order.
ROUTERS = tuple(
    module.router
    for module in (
        search,
        facts,
        timeline,
        forces,
        waves,
        authorities,
        activities,
        agencies,
        sources,
        posture,
        changes,
        meta,
    )
)


def _operation_id(route: APIRoute) -> str:
    """Short, stable operationIds: the handler's name (list_forces, get_force, search, ...)."""
    return route.name


class Muster(FastAPI):
    """FastAPI with the OpenAPI document as client generators read it (app/api/contract.py)."""

    def openapi(self) -> dict[str, Any]:
        if self.openapi_schema is None:
            self.openapi_schema = refine(super().openapi())
        return self.openapi_schema


def create_api(lifespan: StatelessLifespan[FastAPI] | None = None) -> Muster:
    """The FastAPI application alone, without the edge."""
    api = Muster(
        title="Muster",
        version=__version__,
        description=DESCRIPTION,
        openapi_tags=TAGS,
        generate_unique_id_function=_operation_id,
        redirect_slashes=False,
        dependencies=[Depends(refuse_repeated_parameters), Depends(refuse_nul_characters)],
        lifespan=lifespan,
        docs_url=None,  # install_docs serves the docs pages without a CDN
        redoc_url=None,
        # The model puts Problem in the document; refine moves it to the media type sent.
        responses={"4XX": {"model": Problem}, "5XX": {"model": Problem}},
    )
    install_problem_handlers(api)
    for router in ROUTERS:
        api.include_router(router)
    install_docs(api)
    return api


POOL_SIZE, POOL_OVERFLOW = 5, 10
"""Connections kept open, and opened beyond them at busy times (SQLAlchemy's defaults, named)."""
# One read a connection, so that no read waits for one in its thread, and one connection left
# for the PostgreSQL poller, so that busy reads never make it late.
READS_AT_ONCE = POOL_SIZE + POOL_OVERFLOW - 1


def create_store(settings: Settings) -> DataStore:
    """A read-only view of the database: the server never writes the data."""
    url = settings.database_url
    pool = {"pool_size": POOL_SIZE, "max_overflow": POOL_OVERFLOW}
    if is_sqlite(url):
        engine = make_engine(read_only_sqlite_url(url), **pool)
        return DataStore(
            engine, sqlite_file=Path(make_url(url).database or ""), reads_at_once=READS_AT_ONCE
        )
    # On PostgreSQL the database itself holds the server to it: its transactions are READ ONLY.
    # Timeouts, so that a server that does not answer makes requests fail, not hang. A request's
    # own deadline is the query timeout (app/api/deps.py); these free the thread behind it.
    timeout = settings.query_timeout_seconds
    engine = make_engine(
        url,
        execution_options={"postgresql_readonly": True},
        connect_args={
            # libpq counts whole seconds, and takes 2 for anything less.
            "connect_timeout": max(2, math.ceil(timeout)),
            "options": f"-c statement_timeout={round(timeout * 1000)}",
        },
        pool_timeout=timeout,
        **pool,
    )
    return DataStore(
        engine,
        poll_seconds=settings.version_poll_seconds,
        # A poll answers in milliseconds on a server that works. Late by a quarter of the query
        # timeout, the server is taken to be down, and the reads waiting on it answer 503: with
        # the defaults (a poll a second, 2 s timeout), 1.5 s at most after it froze.
        poll_timeout_seconds=timeout / 4,
        reads_at_once=READS_AT_ONCE,
    )


class Application:
    """The FastAPI app, ``api``, inside the edge's middleware: what the server runs."""

    def __init__(self, api: Muster, edge: Sequence[Callable[[ASGIApp], ASGIApp]]) -> None:
        self.api = api
        app: ASGIApp = api
        for wrap in reversed(edge):
            app = wrap(app)
        self._outermost = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self._outermost(scope, receive, send)


def create_app(settings: Settings | None = None) -> Application:
    settings = settings or get_settings()
    cache = (
        ResponseCache(settings.response_cache_bytes, gzip_min_bytes=GZIP_MIN_BYTES)
        if settings.response_cache
        else None
    )
    store = create_store(settings)
    api = create_api(lifespan=_closing(store))
    install_cursor_key(api, settings, store)
    api.state.store = store
    api.state.response_cache = cache
    api.state.totals = Totals(settings.count_cache_entries)
    api.state.max_page_size = settings.max_page_size
    api.state.query_timeout_seconds = settings.query_timeout_seconds
    # The edge, outermost first, as plain ASGI wrapping around FastAPI rather than in its
    # middleware list, so that a cached answer never enters FastAPI's or Starlette's own layers
    # (they took a fifth of a cached hit's CPU). Each piece does one job, and every response, an
    # early refusal too, passes the ones above it (fixed headers, CORS, a request id).
    edge: list[Callable[[ASGIApp], ASGIApp]] = [
        RequestIdMiddleware,
        AccessLogMiddleware,
        partial(ResponseHeaders, fixed=cors_fixed_headers(settings.cors_origins)),
        partial(Cors, origins=settings.cors_origins),
        HeadAsGet,
        # Beneath the headers every response carries (request id, security, CORS) and HEAD, so
        # that a 500 for a bug in any piece below, the routes too, is answered as any other.
        UnexpectedErrors,
        partial(
            Limits,
            max_url_bytes=settings.max_url_bytes,
            max_query_bytes=settings.max_query_bytes,
            max_body_bytes=settings.max_body_bytes,
        ),
        OneSlash,
        partial(PreparedResponses, store=store, cache=cache),
    ]
    return Application(api, edge)


def _closing(store: DataStore) -> StatelessLifespan[FastAPI]:
    """A lifespan that closes the store's database connections when the server stops, rather
    than leaving them to the garbage collector: tests build many apps, each with its own pool."""

    @asynccontextmanager
    async def lifespan(_api: FastAPI) -> AsyncIterator[None]:
        yield
        store.close()

    return lifespan
