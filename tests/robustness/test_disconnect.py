"""Work for a client that has gone away stops: a read still waiting for a thread never starts,
and on SQLite one that has started is interrupted."""

import asyncio
import threading
from collections.abc import Awaitable, Callable, Iterator, MutableMapping
from typing import Any

import anyio.to_thread
from sqlalchemy import event

from app.config import Settings
from app.main import create_app
from tests.helpers import SLOW_QUERY


def forces_request() -> dict[str, Any]:
    """The ASGI scope of a plain GET /v1/forces."""
    return {
        "type": "http",
        "method": "GET",
        "path": "/v1/forces",
        "raw_path": b"/v1/forces",
        "query_string": b"",
        "headers": [],
    }


def statuses_into(statuses: list[int]) -> Callable[[MutableMapping[str, Any]], Awaitable[None]]:
    """An ASGI send that keeps the status of each response started."""

    async def send(message: MutableMapping[str, Any]) -> None:
        if message["type"] == "http.response.start":
            statuses.append(message["status"])

    return send


def test_a_read_for_a_client_that_left_while_it_waited_never_starts(seed_url: str) -> None:
    edge = create_app(Settings(database_url=seed_url, response_cache=False))
    statements: list[str] = []
    event.listen(
        edge.api.state.store.engine,
        "before_cursor_execute",
        lambda _conn, _cursor, statement, *_: statements.append(statement),
    )
    sent: list[dict[str, Any]] = []

    async def scenario() -> None:
        reads = edge.api.state.store.reads
        reads.total_tokens = 1
        release = threading.Event()
        busy = asyncio.ensure_future(anyio.to_thread.run_sync(release.wait, limiter=reads))
        await asyncio.sleep(0.05)
        messages: Iterator[dict[str, Any]] = iter(
            [{"type": "http.request", "body": b""}, {"type": "http.disconnect"}]
        )

        async def receive() -> dict[str, Any]:
            message = next(messages, None)
            if message is None:
                await asyncio.Event().wait()  # nothing more ever comes
            assert message is not None
            if message["type"] == "http.disconnect":
                await asyncio.sleep(0.05)  # the read is waiting for the busy thread by then
            return message

        async def send(message: MutableMapping[str, Any]) -> None:
            sent.append(dict(message))

        await asyncio.wait_for(edge(forces_request(), receive, send), 5)
        release.set()
        await busy
        await asyncio.sleep(0.2)  # time for a read that had started anyway to run

    asyncio.run(scenario())
    assert sent[0]["status"] == 499
    assert statements == []


def test_a_sqlite_read_for_a_client_that_left_while_it_ran_frees_its_thread(
    seed_url: str,
) -> None:
    edge = create_app(
        Settings(database_url=seed_url, response_cache=False, query_timeout_seconds=30)
    )
    store = edge.api.state.store
    store.reads.total_tokens = 1  # one read at a time: a thread held by the slow read shows
    store.current()  # the load it serves is known: the read's statements come next
    slow_started = threading.Event()

    def slowed(*args: Any) -> tuple[str, Any]:
        _connection, _cursor, statement, parameters, _context, _many = args
        if slow_started.is_set() or "dataset_loads" not in statement:
            return statement, parameters
        slow_started.set()
        return SLOW_QUERY, ()

    event.listen(store.engine, "before_cursor_execute", slowed, retval=True)
    sent: list[int] = []

    async def leaves_once_its_read_runs() -> dict[str, Any]:
        if not sent and not slow_started.is_set():
            while not slow_started.is_set():
                await asyncio.sleep(0.01)
            return {"type": "http.disconnect"}
        await asyncio.Event().wait()  # the second client stays
        raise AssertionError

    async def scenario() -> None:
        send = statuses_into(sent)
        await asyncio.wait_for(edge(forces_request(), leaves_once_its_read_runs, send), 5)
        # The slow statement alone holds the one thread for seconds, unless it was interrupted.
        await asyncio.wait_for(edge(forces_request(), leaves_once_its_read_runs, send), 1.5)

    asyncio.run(scenario())
    assert sent == [499, 200]


def test_an_error_in_receiving_is_a_500_not_a_client_gone(seed_url: str) -> None:
    edge = create_app(Settings(database_url=seed_url, response_cache=False))
    sent: list[int] = []

    async def broken_receive() -> dict[str, Any]:
        raise RuntimeError("the server's receive failed")

    asyncio.run(asyncio.wait_for(edge(forces_request(), broken_receive, statuses_into(sent)), 5))
    assert sent == [500]
