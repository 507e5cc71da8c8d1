"""What a handler reads besides its parameters: the data, through one read transaction."""

import asyncio
from asyncio import FIRST_COMPLETED
from collections.abc import Callable
from typing import Annotated, TypeVar

from fastapi import Depends, Request
from starlette.concurrency import run_in_threadpool
from starlette.requests import ClientDisconnect

from app.api.errors import ProblemError
from app.services.records import Totals
from app.services.store import DataStore, DataUnavailableError, LoadState, Reading

ResultT = TypeVar("ResultT")

ANSWERED_FROM = "muster.answered_from"
"""The scope key under which a request's ``LoadState`` is kept, for the response cache."""


class Data:
    """The database, for one request. ``read`` runs a function in one read transaction, in the
    thread pool (the database is asked synchronously), and at most ``timeout`` seconds: past it
    the client gets a 503 while the thread finishes on its own. A client that goes away while
    its read waits for a thread is not worked for: the read is dropped before it starts."""

    def __init__(self, request: Request) -> None:
        self._request = request
        state = request.app.state
        self.store: DataStore = state.store
        self.totals: Totals = state.totals
        self.max_page_size: int = state.max_page_size
        self._timeout: float = state.query_timeout_seconds

    async def read(self, work: Callable[[Reading], ResultT]) -> ResultT:
        def in_transaction() -> tuple[ResultT, LoadState]:
            with self.store.reading() as reading:
                return work(reading), reading.state

        reading = asyncio.ensure_future(run_in_threadpool(in_transaction))
        gone = asyncio.ensure_future(_disconnected(self._request))
        try:
            await asyncio.wait({reading, gone}, timeout=self._timeout, return_when=FIRST_COMPLETED)
        finally:
            gone.cancel()
        if not reading.done():
            # A read still waiting for a thread never starts; one already running finishes.
            reading.cancel()
            if gone.done() and not gone.cancelled():
                raise ClientDisconnect
            raise ProblemError(
                503, "the database did not answer in time", slug="service-unavailable"
            )
        try:
            result, state = reading.result()
        except DataUnavailableError as error:
            raise ProblemError(503, str(error), slug="service-unavailable") from error
        if state.is_empty:
            raise ProblemError(
                503, "the database holds no data: run `muster load`", slug="service-unavailable"
            )
        self._request.scope[ANSWERED_FROM] = state
        return result

    def answered_from(self) -> LoadState:
        state: LoadState = self._request.scope[ANSWERED_FROM]
        return state


async def _disconnected(request: Request) -> None:
    """Returns once the client has gone away."""
    while (await request.receive())["type"] != "http.disconnect":
        pass


async def _data(request: Request) -> Data:
    # async: FastAPI would call a class, or a plain function, in the thread pool.
    return Data(request)


DataDep = Annotated[Data, Depends(_data)]
