"""The edge's small middleware, each with one job: security headers, HEAD, the limits on a
request, one resource with or without a trailing slash, and a problem for an unexpected error.

``create_app`` (app/main.py) puts them in order with the others: request ids (request_ids.py),
the access log (access_log.py), CORS (cors.py) and the response cache (response_cache.py).
"""

import logging

from app.api.asgi import (
    ASGIApp,
    Headers,
    Message,
    Receive,
    Scope,
    Send,
    header,
    send_problem,
)
from app.api.errors import shorten

SECURITY_HEADERS: Headers = [
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
]
API_CSP = b"default-src 'none'; frame-ancestors 'none'"


class SecurityHeaders:
    """The headers every response carries; a response may set its own CSP (the docs pages)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self._with_csp = [*SECURITY_HEADERS, (b"content-security-policy", API_CSP)]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_secured(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = message.get("headers", [])
                own_csp = any(key.lower() == b"content-security-policy" for key, _ in headers)
                message["headers"] = [*headers, *(SECURITY_HEADERS if own_csp else self._with_csp)]
            await send(message)

        await self.app(scope, receive, send_secured)


class HeadAsGet:
    """HEAD is answered as a GET without its body (its headers, Content-Length too, as GET's)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "HEAD":
            await self.app(scope, receive, send)
            return

        async def send_headers_only(message: Message) -> None:
            if message["type"] == "http.response.body":
                message = {**message, "body": b""}
            await send(message)

        await self.app({**scope, "method": "GET"}, receive, send_headers_only)


class Limits:
    """A 414 for a query string or a whole URL past its limit, and a 413 for a body past its
    limit, before any routing."""

    def __init__(
        self, app: ASGIApp, *, max_url_bytes: int, max_query_bytes: int, max_body_bytes: int
    ) -> None:
        self.app = app
        self.max_url_bytes = max_url_bytes
        self.max_query_bytes = max_query_bytes
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        query_bytes = len(scope["query_string"])
        url_bytes = len(scope.get("raw_path") or scope["path"].encode()) + query_bytes
        if query_bytes > self.max_query_bytes:
            detail = f"the query string is {query_bytes} bytes; at most {self.max_query_bytes}"
            await send_problem(scope, receive, send, 414, detail)
        elif url_bytes > self.max_url_bytes:
            detail = f"the URL is {url_bytes} bytes; at most {self.max_url_bytes}"
            await send_problem(scope, receive, send, 414, detail)
        elif header(scope, b"content-length") or header(scope, b"transfer-encoding"):
            await self._with_body(scope, receive, send)
        else:
            await self.app(scope, receive, send)

    async def _with_body(self, scope: Scope, receive: Receive, send: Send) -> None:
        """No endpoint reads a body, so one within the limit is read here and dropped (a chunked
        one has no length to check beforehand)."""
        declared = header(scope, b"content-length")
        too_large = declared.isdigit() and int(declared) > self.max_body_bytes
        size = 0
        more_body = not too_large
        while more_body:
            message = await receive()
            if message["type"] != "http.request":  # the client went away
                break
            size += len(message.get("body", b""))
            too_large = size > self.max_body_bytes
            more_body = message.get("more_body", False) and not too_large
        if too_large:
            detail = (
                f"the request body is larger than {self.max_body_bytes} bytes; "
                "no endpoint takes one"
            )
            await send_problem(scope, receive, send, 413, detail, headers={"connection": "close"})
            return
        delivered = False

        async def body_read() -> Message:
            nonlocal delivered
            if not delivered:
                delivered = True
                return {"type": "http.request", "body": b"", "more_body": False}
            return await receive()

        await self.app(scope, body_read, send)


class OneSlash:
    """A path with a trailing slash is the same resource as the one without."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] == "http" and len(path) > 1 and path.endswith("/"):
            path = path.rstrip("/") or "/"
            scope = {**scope, "path": path, "raw_path": path.encode()}
        await self.app(scope, receive, send)


class UnexpectedErrors:
    """An error no route handled is logged and answered as a 500 problem, which the middleware
    around it give the headers every response carries."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def sending(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, sending)
        except Exception:
            logging.getLogger("muster").exception(
                "unhandled error on %s %s", scope["method"], shorten(scope["path"])
            )
            if not started:
                await send_problem(scope, receive, send, 500, "an unexpected error occurred")
