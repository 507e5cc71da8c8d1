"""The access log: one structured line per request for the ``muster.access`` logger."""

import asyncio
import logging
import time

from app.api.asgi import ASGIApp, Message, Receive, Scope, Send
from app.api.errors import shorten
from app.api.request_ids import current_request_id

access_log = logging.getLogger("muster.access")
logger = logging.getLogger("muster")


class AccessLogMiddleware:
    """Logs each request once it ends, at the end of the event loop's turn, with the status sent,
    how long it took and its request id: as text, ``GET /v1/forces 200 1.2ms <id>``; in JSON,
    those as fields."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self._lines = AccessLog()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not access_log.isEnabledFor(logging.INFO):
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500  # what the server answers if nothing else is sent

        async def send_noting_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_noting_status)
        finally:
            duration_ms = round((time.perf_counter() - started) * 1000, 3)
            self._lines.add(
                scope["method"], shorten(scope["path"]), status, duration_ms, current_request_id()
            )


class AccessLog:
    """One line per request for the ``muster.access`` logger, made and logged at the end of the
    event loop's turn together with those of the other requests answered in it.

    Made one after another, the logging code stays in the processor's caches, and the lines cost
    less than made among each request's own work: cached ``/v1/forces`` answered a median 15,259
    requests/s gathered, 11,557 with each line logged as its request ended (1.32x,
    ``python -m bench.served_beside --against 6a01955``). Called in-process, with no server
    around it, the two cost the same, which is why 78c7625 dropped the gathering. A line's time
    is when it is logged, at most one turn after its response was sent; its ``duration_ms`` is
    the request's own.
    """

    def __init__(self) -> None:
        self._waiting: list[tuple[str, str, int, float, str]] = []
        # The loop whose turn will log the waiting lines. An application can serve in one loop
        # after another (each TestClient block runs its own): a loop that stopped before its turn
        # ended leaves its lines to the next loop, never the log waiting for it.
        self._logging_in: asyncio.AbstractEventLoop | None = None

    def add(self, method: str, path: str, status: int, duration_ms: float, request_id: str) -> None:
        loop = asyncio.get_running_loop()
        if self._logging_in is not loop:
            loop.call_soon(self._log_waiting)
            self._logging_in = loop
        self._waiting.append((method, path, status, duration_ms, request_id))

    def _log_waiting(self) -> None:
        waiting, self._waiting, self._logging_in = self._waiting, [], None
        for method, path, status, duration_ms, request_id in waiting:
            try:
                self._log(method, path, status, duration_ms, request_id)
            except Exception:  # a failing filter: the turn's other lines are still logged
                logger.exception("an access-log line could not be logged")

    def _log(
        self, method: str, path: str, status: int, duration_ms: float, request_id: str
    ) -> None:
        # What access_log.info() does, less finding the caller's file and line, which no log
        # format shows and which took a tenth of the time of a cached response.
        record = access_log.makeRecord(
            access_log.name,
            logging.INFO,
            __file__,
            0,
            "%s %s %d %.1fms %s",
            (method, path, status, duration_ms, request_id),
            None,
            extra={
                "fields": {
                    "request_id": request_id,
                    "method": method,
                    "path": path,
                    "status": status,
                    "duration_ms": duration_ms,
                }
            },
        )
        access_log.handle(record)
