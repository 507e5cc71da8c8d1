"""What a handler reads besides its parameters: the data, through one read transaction."""

import asyncio
import threading
import time
from asyncio import FIRST_COMPLETED
from collections.abc import Callable
from typing import Annotated, Any, TypeVar

from anyio import to_thread
from fastapi import Depends, Request
from starlette.requests import ClientDisconnect

from app.api.errors import ProblemError
from app.api.pagination import InvalidCursorError
from app.services.records import RecordGoneError, Totals
from app.services.store import (
    NOT_IN_TIME,
    DataStore,
    DataUnavailableError,
    LoadState,
    Reading,
)

ResultT = TypeVar("ResultT")

ANSWERED_FROM = "muster.answered_from"
"""The scope key under which a request's ``LoadState`` is kept, for the response cache."""


class Data:
    """The database, for one request. ``read`` runs a function in one read transaction, in one of
    the store's read threads (the database is asked synchronously), and at most ``timeout``
    seconds, waiting for a thread included: past it the client gets a 503. So does a client whose
    read waits on a database that the store knows is not answering (a frozen PostgreSQL), at once.
    A read that runs on regardless is the store's to stop (``DataStore.reading``). A client that
    goes away is not worked for: a read still waiting for a thread is dropped before it starts,
    and one running is given up (on SQLite, its statement is interrupted)."""

    def __init__(self, request: Request) -> None:
        self._request = request
        state = request.app.state
        self.store: DataStore = state.store
        self.totals: Totals = state.totals
        self.max_page_size: int = state.max_page_size
        self._timeout: float = state.query_timeout_seconds

    async def read(self, work: Callable[[Reading], ResultT]) -> ResultT:
        deadline = time.monotonic() + self._timeout

        turn = _Turn()

        def in_transaction() -> tuple[ResultT, LoadState] | None:
            if not turn.start():
                return None  # given up while it waited: nobody wants it
            with self.store.reading(deadline, turn.given_up) as reading:
                return work(reading), reading.state

        gone = asyncio.ensure_future(_disconnected(self._request))
        # One turn of the event loop first, so that a client that closed its connection before
        # its request was reached (one of a burst given up) is seen gone, and costs no read. Of
        # 512 uncached searches at 1000x whose clients all left a quarter of the way through,
        # the server worked on for 1.2-1.5 s of the 1.8 s left without it, 0.2-0.4 s with it
        # (bench/scale.py's abandoned_burst, by hand and in bench/results.md). Its price
        # is paid by every read: 0.89x the uncached pages a second (bench/served_beside.py).
        await asyncio.sleep(0)
        _raise_if_gone(gone)
        reading = asyncio.ensure_future(
            to_thread.run_sync(in_transaction, limiter=self.store.reads)
        )
        failure = NOT_IN_TIME
        try:
            while not (reading.done() or gone.done()):
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                try:
                    # Woken when the store would stop vouching for the database, to look again.
                    answering = self.store.answering_for()
                except DataUnavailableError as error:
                    failure = str(error)
                    break
                await asyncio.wait(
                    {reading, gone}, timeout=min(left, answering), return_when=FIRST_COMPLETED
                )
        finally:
            gone.cancel()
        if not reading.done():
            if turn.drop():
                reading.cancel()  # it never starts, and its place among the reads is free
            else:
                # It runs on, and keeps its place among the store's reads until it ends (a
                # cancelled task would give the place back at once, its thread still busy).
                reading.add_done_callback(_outcome_unwanted)
            _raise_if_gone(gone)
            raise ProblemError(503, failure, slug="service-unavailable")
        try:
            outcome = reading.result()
        except DataUnavailableError as error:
            raise ProblemError(503, str(error), slug="service-unavailable") from error
        except RecordGoneError as error:
            raise InvalidCursorError(
                f"the record it follows, {error.args[0]!r}, was removed by a load since; "
                "start again without it"
            ) from error
        assert outcome is not None  # only a read given up has none
        result, state = outcome
        if state.is_empty:
            raise ProblemError(
                503, "the database holds no data: run `muster load`", slug="service-unavailable"
            )
        self._request.scope[ANSWERED_FROM] = state
        return result

    def answered_from(self) -> LoadState:
        state: LoadState = self._request.scope[ANSWERED_FROM]
        return state


class _Turn:
    """A read's start in its thread, or its being given up before that: one or the other. A read
    given up once started sees ``given_up`` set."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._started = False
        self._dropped = False
        self.given_up = threading.Event()

    def start(self) -> bool:
        """In the thread: False when the read was given up."""
        with self._lock:
            self._started = not self._dropped
            return self._started

    def drop(self) -> bool:
        """Give the read up; False when it has started already."""
        with self._lock:
            self.given_up.set()
            self._dropped = not self._started
            return self._dropped


def _outcome_unwanted(reading: "asyncio.Future[Any]") -> None:
    if not reading.cancelled():
        reading.exception()  # retrieved, so that asyncio does not log it as lost


def _raise_if_gone(gone: "asyncio.Future[None]") -> None:
    """ClientDisconnect once the watcher has seen the client go; the watcher's own error when
    receiving failed, which is the server's, not a client gone."""
    if gone.done() and not gone.cancelled():
        gone.result()
        raise ClientDisconnect


async def _disconnected(request: Request) -> None:
    """Returns once the client has gone away."""
    while (await request.receive())["type"] != "http.disconnect":
        pass


async def _data(request: Request) -> Data:
    # async: FastAPI would call a class, or a plain function, in the thread pool.
    return Data(request)


DataDep = Annotated[Data, Depends(_data)]
