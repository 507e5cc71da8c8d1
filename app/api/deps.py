"""What a handler reads besides its parameters: the data, through one read transaction."""

import asyncio
from collections.abc import Callable
from typing import Annotated, TypeVar

from fastapi import Depends, Request
from starlette.concurrency import run_in_threadpool

from app.api.errors import ProblemError
from app.services.records import Totals
from app.services.store import DataStore, DataUnavailableError, LoadState, Reading

ResultT = TypeVar("ResultT")

ANSWERED_FROM = "muster.answered_from"
"""The scope key under which a request's ``LoadState`` is kept, for the response cache."""


class Data:
    """The database, for one request. ``read`` runs a function in one read transaction, in the
    thread pool (the database is asked synchronously), and at most ``timeout`` seconds: past it
    the client gets a 503 while the thread finishes on its own."""

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

        try:
            result, state = await asyncio.wait_for(run_in_threadpool(in_transaction), self._timeout)
        except DataUnavailableError as error:
            raise ProblemError(503, str(error), slug="service-unavailable") from error
        except TimeoutError as error:
            raise ProblemError(
                503, "the database did not answer in time", slug="service-unavailable"
            ) from error
        if state.is_empty:
            raise ProblemError(
                503, "the database holds no data: run `muster load`", slug="service-unavailable"
            )
        self._request.scope[ANSWERED_FROM] = state
        return result

    def answered_from(self) -> LoadState:
        state: LoadState = self._request.scope[ANSWERED_FROM]
        return state


DataDep = Annotated[Data, Depends(Data)]
