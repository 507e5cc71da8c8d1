"""The edge's small middleware, each with one job: the headers every response carries, HEAD,
the limits on a request, one resource with or without a trailing slash, and a problem for an
unexpected error.

``create_app`` (app/main.py) wraps them around the FastAPI app with the others, in one place:
request ids (request_ids.py), the access log (access_log.py), CORS (cors.py) and the response
cache (response_cache.py).
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
from app.api.errors import UNEXPECTED_ERROR, shorten

SECURITY_HEADERS: Headers = [
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
]
logger = logging.getLogger("muster")
API_CSP = b"default-src 'none'; frame-ancestors 'none'"


class ResponseHeaders:
    """Adds the headers that are the same on every response, whatever answered it: the security
    headers and CORS's fixed ones, in one place so that a response pays one wrapper for them all.
    A response may set its own CSP (the docs pages)."""

    def __init__(self, app: ASGIApp, *, fixed: Headers) -> None:
        self.app = app
        self._fixed = [*SECURITY_HEADERS, *fixed]
        self._with_csp = [*self._fixed, (b"content-security-policy", API_CSP)]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = message.get("headers", [])
                added = self._fixed if _has_csp(headers) else self._with_csp
                message["headers"] = [*headers, *added]
            await send(message)

        await self.app(scope, receive, send_with_headers)


def _has_csp(headers: Headers) -> bool:
    # A loop, not any() over a generator: a third of this middleware's CPU on a cached hit.
    for key, _ in headers:  # noqa: SIM110
        if key == b"content-security-policy":  # ASGI response header names are lower-case
            return True
    return False


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
    """An error that nothing beneath handled, in a route or in the edge, is logged as Muster's
    and answered with a 500 problem, not left to the server's plain-text 500: so the answer still
    carries the headers of the pieces above this one (request id, security and CORS headers).
    An answer that had started, a streamed one, can only stop short, which the client sees."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = complete = False

        async def sending(message: Message) -> None:
            nonlocal started, complete
            if message["type"] == "http.response.start":
                started = True
            elif message["type"] == "http.response.body":
                complete = not message.get("more_body", False)
            await send(message)

        try:
            await self.app(scope, receive, sending)
        except Exception:
            method, path = scope["method"], shorten(scope["path"])
            if started and not complete:
                logger.warning("an answer to %s %s stopped short", method, path)
                return
            logger.exception("unhandled error on %s %s", method, path)
            if not started:  # the route's own 500, if any, was held by the response cache
                await send_problem(scope, receive, send, 500, UNEXPECTED_ERROR)
