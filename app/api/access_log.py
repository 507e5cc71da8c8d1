"""The access log: one structured line per request for the ``muster.access`` logger."""

import logging
import time

from app.api.asgi import ASGIApp, Message, Receive, Scope, Send
from app.api.errors import shorten
from app.api.request_ids import current_request_id

access_log = logging.getLogger("muster.access")


class AccessLogMiddleware:
    """Logs each request when it ends, with the status sent, how long it took and its request
    id: as text, ``GET /v1/forces 200 1.2ms <id>``; in JSON, those as fields."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

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
            method, path, request_id = scope["method"], shorten(scope["path"]), current_request_id()
            access_log.info(
                "%s %s %d %.1fms %s",
                method,
                path,
                status,
                duration_ms,
                request_id,
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
