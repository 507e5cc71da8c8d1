"""Work for a client that has gone away stops: a read still waiting for a thread never starts."""

import asyncio
import threading
from collections.abc import Iterator, MutableMapping
from typing import Any

import anyio.to_thread
from sqlalchemy import event

from app.config import Settings
from app.main import create_app


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
