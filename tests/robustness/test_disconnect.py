"""Work for a client that has gone away stops: a read still waiting for a thread never starts,
and on SQLite one that has started is interrupted."""

import asyncio
import threading
import time
from collections.abc import Iterator, MutableMapping
from typing import Any

import anyio.to_thread
from sqlalchemy import event

from app.config import Settings
from app.main import create_app
from tests.robustness.test_store import SLOW_QUERY


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
            return message

        async def send(message: MutableMapping[str, Any]) -> None:
            sent.append(dict(message))

        scope = {
            "type": "http",
            "method": "GET",
            "path": "/v1/forces",
            "raw_path": b"/v1/forces",
            "query_string": b"",
            "headers": [],
        }
        await asyncio.wait_for(edge(scope, receive, send), 5)
        release.set()
        await busy
        await asyncio.sleep(0.2)  # time for a read that had started anyway to run

    asyncio.run(scenario())
    assert sent[0]["status"] == 499
    assert statements == []


def test_a_sqlite_read_for_a_client_that_left_while_it_ran_is_interrupted(seed_url: str) -> None:
    edge = create_app(
        Settings(database_url=seed_url, response_cache=False, query_timeout_seconds=30)
    )
    engine = edge.api.state.store.engine
    edge.api.state.store.current()  # the load it serves is known: the read's statements come next

    def slowed(*args: Any) -> tuple[str, Any]:
        _connection, _cursor, statement, parameters, _context, _many = args
        return (SLOW_QUERY, ()) if "dataset_loads" in statement else (statement, parameters)

    ended: list[float] = []
    event.listen(engine, "before_cursor_execute", slowed, retval=True)
    event.listen(engine, "handle_error", lambda _context: ended.append(time.monotonic()))
    left: list[float] = []

    async def receive() -> dict[str, Any]:
        if not left:
            left.append(0.0)
            return {"type": "http.request", "body": b""}
        await asyncio.sleep(0.2)  # the read has started: the client goes
        left[0] = time.monotonic()
        return {"type": "http.disconnect"}

    async def send(message: MutableMapping[str, Any]) -> None:
        pass

    scope = {
        "type": "http",
        "method": "GET",
        "path": "/v1/forces",
        "raw_path": b"/v1/forces",
        "query_string": b"",
        "headers": [],
    }

    async def scenario() -> None:
        await asyncio.wait_for(edge(scope, receive, send), 5)
        deadline = time.monotonic() + 1.0  # the slow statement alone would run for seconds
        while not ended and time.monotonic() < deadline:
            await asyncio.sleep(0.02)

    asyncio.run(scenario())
    assert ended, "the read went on for a client that had left"
    assert ended[0] - left[0] < 1.0
