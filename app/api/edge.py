"""The outermost layer of every request, which puts together the pieces that each do one job:
CORS (cors.py), request ids (request_ids.py), the response cache (response_cache.py) and the
access log (access_log.py); here are only the limits on a request, security headers,
conditional GET, HEAD and gzip, which decide what is sent.

It is one pure-ASGI layer rather than a stack of middleware so that a cached answer costs no
routing, no validation and no serialisation: the bytes, their ETags and their headers are
prepared once per data version, path, query and representation. Everything that is the same for
every response (security headers, CORS for any origin) is part of the prepared headers; only the
request id (and CORS for an allow-list) is added per request. The one exception is an answer a
route streams (``caching.STREAMED``: a whole collection), which is passed on as it comes, with
the same headers but no ETag, no gzip and no place in the cache: its memory stays one part's.
"""

import logging
import time

import xxhash

from app.api.access_log import AccessLog, access_log
from app.api.asgi import ASGIApp, Headers, Message, Receive, Scope, Send, header
from app.api.caching import CACHEABLE, STREAMED
from app.api.cors import CorsPolicy
from app.api.deps import ANSWERED_FROM
from app.api.errors import problem_response, shorten
from app.api.formats import negotiate
from app.api.request_ids import request_id as new_request_id
from app.api.response_cache import Prepared, ResponseCache
from app.config import Settings
from app.services.store import DataStore, DataUnavailableError

SECURITY_HEADERS: Headers = [
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
]
API_CSP = b"default-src 'none'; frame-ancestors 'none'"
CACHE_CONTROL = b"public, max-age=60"
# A problem is about one request, which the client mends and sends again: nothing for a cache to
# keep. A short max-age would still let a shared cache answer 404 for a record the next load
# adds (404 is cacheable by default, RFC 9111 4.2.2) and 503 after the database is back.
NO_STORE = b"no-store"
VARY = b"Accept, Accept-Encoding"
GZIP_MIN_BYTES = 1024


def _etag_matches(if_none_match: bytes, etag: bytes) -> bool:
    tags = {tag.strip().removeprefix(b"W/") for tag in if_none_match.split(b",")}
    return b"*" in tags or etag in tags


class Edge:
    def __init__(
        self, app: ASGIApp, store: DataStore, cache: ResponseCache | None, settings: Settings
    ) -> None:
        self.app = app
        self.store = store
        self.cache = cache
        self.max_url_bytes = settings.max_url_bytes
        self.max_query_bytes = settings.max_query_bytes
        self.max_body_bytes = settings.max_body_bytes
        self.cors = CorsPolicy(settings.cors_origins)
        self._fixed_headers = SECURITY_HEADERS + self.cors.fixed_headers
        self._cache_seq: int | None = None
        self._access = AccessLog()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        request_id = new_request_id(header(scope, b"x-request-id"))
        method = scope["method"]
        path = scope["path"]
        if len(path) > 1 and path.endswith("/"):  # a trailing slash is the same resource
            path = path.rstrip("/") or "/"
            scope = {**scope, "path": path, "raw_path": path.encode()}
        if method == "HEAD":  # answered as a GET without its body
            scope = {**scope, "method": "GET"}
        stream = _Stream(send, self._per_request_headers(scope, request_id), method == "HEAD")
        try:
            prepared = self._refuse_target(scope, path)
            if prepared is None:
                prepared, receive = await self._refuse_body(scope, receive, path)
            if prepared is None and method == "OPTIONS":
                prepared = self._preflight(scope, path)
            if prepared is None:
                prepared = await self._respond(scope, receive, path, stream)
        except Exception:
            if stream.status is not None:
                # Its start is sent: all that is left is to stop short, which the client sees.
                logging.getLogger("muster").warning(
                    "a streamed answer to %s %s stopped short", method, shorten(path)
                )
                prepared = None
            else:
                logging.getLogger("muster").exception(
                    "unhandled error on %s %s", method, shorten(path)
                )
                prepared = self._problem(500, "an unexpected error occurred", path)
        if prepared is None:  # streamed as it came
            status = stream.status or 500
        else:
            status = await self._send(send, prepared, scope, request_id, head=method == "HEAD")
        if access_log.isEnabledFor(logging.INFO):
            duration_ms = round((time.perf_counter() - started) * 1000, 3)
            self._access.add(method, shorten(path), status, duration_ms, request_id)

    def _refuse_target(self, scope: Scope, path: str) -> Prepared | None:
        """A 414 for a query string or a whole URL past its limit, before any routing."""
        query_bytes = len(scope["query_string"])
        if query_bytes > self.max_query_bytes:
            detail = f"the query string is {query_bytes} bytes; at most {self.max_query_bytes}"
            return self._problem(414, detail, path)
        url_bytes = len(scope.get("raw_path") or path.encode()) + query_bytes
        if url_bytes > self.max_url_bytes:
            detail = f"the URL is {url_bytes} bytes; at most {self.max_url_bytes}"
            return self._problem(414, detail, path)
        return None

    async def _refuse_body(
        self, scope: Scope, receive: Receive, path: str
    ) -> tuple[Prepared | None, Receive]:
        """A 413 for a request body past its limit. No endpoint reads a body, so one within the
        limit is read here and dropped (a chunked one has no length to check beforehand)."""
        declared = header(scope, b"content-length")
        if not declared and not header(scope, b"transfer-encoding"):
            return None, receive
        too_large = self._problem(
            413,
            f"the request body is larger than {self.max_body_bytes} bytes; no endpoint takes one",
            path,
            extra_headers=[(b"connection", b"close")],
        )
        if declared.isdigit() and int(declared) > self.max_body_bytes:
            return too_large, receive
        size = 0
        more_body = True
        while more_body:
            message = await receive()
            if message["type"] != "http.request":  # the client went away
                break
            size += len(message.get("body", b""))
            if size > self.max_body_bytes:
                return too_large, receive
            more_body = message.get("more_body", False)
        delivered = False

        async def body_read() -> Message:
            nonlocal delivered
            if not delivered:
                delivered = True
                return {"type": "http.request", "body": b"", "more_body": False}
            return await receive()

        return None, body_read

    def _preflight(self, scope: Scope, path: str) -> Prepared | None:
        """The answer to a CORS preflight; None for an OPTIONS request that is not one."""
        origin = header(scope, b"origin")
        if not origin or not header(scope, b"access-control-request-method"):
            return None
        if not self.cors.allows(origin):
            detail = f"the origin {shorten(origin.decode('latin-1'))} may not read this API"
            return self._problem(403, detail, path)
        return self._prepare(204, self.cors.preflight_headers(), b"")

    async def _respond(
        self, scope: Scope, receive: Receive, path: str, stream: "_Stream"
    ) -> Prepared | None:
        """The answer to send, or None when the route streamed it (never kept)."""
        if self.cache is None or scope["method"] != "GET":
            return await self._call_app(scope, receive, stream)
        try:
            current = self.store.current()
        except DataUnavailableError:
            return await self._call_app(scope, receive, stream)  # the route says so, as a problem
        if current.seq != self._cache_seq:
            self.cache.clear()
            self._cache_seq = current.seq
        # The query string as sent: the handlers read exactly it, so equal keys, equal answers.
        query = scope["query_string"].decode("latin-1")
        representation = negotiate(None, header(scope, b"accept").decode("latin-1")).value
        # Next links are absolute URLs on the address the client used: the origin is in the key.
        origin = f"{scope.get('scheme', 'http')}://{header(scope, b'host').decode('latin-1')}"
        key = (origin, path, query, representation)
        prepared = self.cache.get(key)
        if prepared is None:
            prepared = await self._call_app(scope, receive, stream)
            answered_from = scope.get(ANSWERED_FROM)
            # Only routes that opt in are kept, and only an answer from the version the cache
            # holds: a load may have committed while the route answered.
            if (
                prepared is not None
                and prepared.status == 200
                and scope.get(CACHEABLE)
                and answered_from is not None
                and answered_from.seq == self._cache_seq
            ):
                self.cache.put(key, prepared)
        return prepared

    async def _call_app(self, scope: Scope, receive: Receive, stream: "_Stream") -> Prepared | None:
        """The route's answer, buffered; None when the route streamed it, passed on as it came
        (with no ETag and no gzip, which would need the whole body)."""
        status = 500
        headers: Headers = []
        chunks: list[bytes] = []

        async def capture(message: Message) -> None:
            nonlocal status, headers
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = [(k.lower(), v) for k, v in message.get("headers", [])]
                if scope.get(STREAMED):
                    streamed = [(b"cache-control", CACHE_CONTROL), (b"vary", VARY)]
                    await stream.start(
                        status, self._prepare(status, headers + streamed, b"").headers
                    )
            elif message["type"] == "http.response.body":
                if stream.status is not None:
                    await stream.body(message)
                else:
                    chunks.append(message.get("body", b""))

        await self.app(scope, receive, capture)
        if stream.status is not None:
            return None
        body = b"".join(chunks)
        headers = [(k, v) for k, v in headers if k != b"content-length"]
        etag = None
        if any(k == b"cache-control" for k, _ in headers):
            pass  # the route decided, as the health checks do (no-store, so no validator either)
        elif status == 200 and scope["method"] == "GET":
            # A body's own hash, not its data version's: a load that leaves a response as it was
            # leaves its ETag too, so clients revalidate with a 304 across loads. xxh3 hashes 50
            # facts (44 KB) in under 1 µs; blake2b took 46 µs, an eighth of an uncached response.
            etag = xxhash.xxh3_128_hexdigest(body).encode()
            headers += [(b"cache-control", CACHE_CONTROL), (b"vary", VARY)]
        elif status >= 400:
            headers.append((b"cache-control", NO_STORE))
        return self._prepare(status, headers, body, etag)

    def _prepare(
        self, status: int, headers: Headers, body: bytes, etag: bytes | None = None
    ) -> Prepared:
        """A response with the headers every response carries; the app may set its own CSP."""
        if not any(k == b"content-security-policy" for k, _ in headers):
            headers = [*headers, (b"content-security-policy", API_CSP)]
        return Prepared(status, headers + self._fixed_headers, body, etag)

    def _problem(
        self, status: int, detail: str, path: str, *, extra_headers: Headers | None = None
    ) -> Prepared:
        response = problem_response(status, detail, path)
        headers = [
            (k.lower(), v) for k, v in response.raw_headers if k.lower() != b"content-length"
        ]
        headers += [(b"cache-control", NO_STORE), *(extra_headers or [])]
        return self._prepare(status, headers, bytes(response.body))

    def _per_request_headers(self, scope: Scope, request_id: str) -> Headers:
        headers = [(b"x-request-id", request_id.encode())]
        if not self.cors.any_origin:
            headers += self.cors.headers_for(header(scope, b"origin"))
        return headers

    async def _send(
        self, send: Send, prepared: Prepared, scope: Scope, request_id: str, *, head: bool
    ) -> int:
        """Send ``prepared`` as this request wants it; return the status sent."""
        headers = [*prepared.headers, *self._per_request_headers(scope, request_id)]
        status = prepared.status
        body = prepared.body
        gzipped = (
            len(body) >= GZIP_MIN_BYTES and b"gzip" in header(scope, b"accept-encoding").lower()
        )
        if prepared.etag is not None:
            etag = prepared.tag(gzipped=gzipped)
            headers.append((b"etag", etag))
            if_none_match = header(scope, b"if-none-match")
            if if_none_match and _etag_matches(if_none_match, etag):
                status, body, gzipped = 304, b"", False
                headers = [(k, v) for k, v in headers if k != b"content-type"]
        if gzipped:
            body = prepared.gzipped()
            headers.append((b"content-encoding", b"gzip"))
        if status not in (204, 304):
            headers.append((b"content-length", str(len(body)).encode()))
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": b"" if head else body})
        return status


class _Stream:
    """A streamed answer, passed on to the client as the route sends it."""

    def __init__(self, send: Send, per_request: Headers, head: bool) -> None:
        self._send = send
        self._per_request = per_request
        self._head = head
        self.status: int | None = None
        """The status sent, once the answer has started."""

    async def start(self, status: int, headers: Headers) -> None:
        self.status = status
        headers = [(k, v) for k, v in headers if k != b"content-length"] + self._per_request
        await self._send({"type": "http.response.start", "status": status, "headers": headers})

    async def body(self, message: Message) -> None:
        if self._head:
            message = {**message, "body": b""}
        await self._send(message)
