"""The outermost layer of every request: limits, CORS, data version, response cache, conditional
GET, HEAD, gzip, request ids, security headers and the access log.

It is pure ASGI rather than FastAPI middleware so that a cached answer costs no routing, no
validation and no serialisation: the bytes, their ETag and their headers are prepared once per
data version, path, query and representation. Everything that is the same for every response
(security headers, CORS for any origin) is part of the prepared headers; only the request id (and
CORS for an allow-list) is added per request.
"""

import asyncio
import gzip
import itertools
import logging
import os
import re
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass
from typing import Any

import xxhash

from app.api.caching import CACHEABLE
from app.api.deps import ANSWERED_FROM
from app.api.errors import problem_response, shorten
from app.api.formats import negotiate
from app.config import Settings
from app.services.store import DataStore, DataUnavailableError

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]
Headers = list[tuple[bytes, bytes]]

access_log = logging.getLogger("muster.access")

SECURITY_HEADERS: Headers = [
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
]
API_CSP = b"default-src 'none'; frame-ancestors 'none'"
CACHE_CONTROL = b"public, max-age=60"
VARY = b"Accept, Accept-Encoding"
GZIP_MIN_BYTES = 1024
REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")

# What a browser page on another origin may do: read, with the headers a client needs to see.
CORS_METHODS = b"GET, HEAD, OPTIONS"
CORS_EXPOSED = b"ETag, Link, X-Data-Version, X-Request-ID"
CORS_MAX_AGE = b"86400"


@dataclass
class Prepared:
    """A response ready to send: its status, headers (without per-request ones) and body."""

    status: int
    headers: Headers
    body: bytes
    etag: bytes | None
    gzipped_body: bytes | None = None

    def gzipped(self) -> bytes:
        """The body gzip-compressed, compressed once however often it is sent."""
        if self.gzipped_body is None:
            self.gzipped_body = gzip.compress(self.body, compresslevel=6, mtime=0)
        return self.gzipped_body


class ResponseCache:
    """Prepared responses by key, least recently used evicted past ``max_bytes``."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self._entries: OrderedDict[tuple[str, ...], Prepared] = OrderedDict()
        self._size = 0

    def get(self, key: tuple[str, ...]) -> Prepared | None:
        entry = self._entries.get(key)
        if entry is not None:
            self._entries.move_to_end(key)
        return entry

    def put(self, key: tuple[str, ...], entry: Prepared) -> None:
        if len(entry.body) > self.max_bytes:
            return
        if key in self._entries:
            self._size -= len(self._entries.pop(key).body)
        self._entries[key] = entry
        self._size += len(entry.body)
        while self._size > self.max_bytes:
            _, evicted = self._entries.popitem(last=False)
            self._size -= len(evicted.body)

    def clear(self) -> None:
        self._entries.clear()
        self._size = 0


class CorsPolicy:
    """Cross-origin reads: from any origin (``*``), or from an allow-list. Never with credentials,
    so a page on another origin sees exactly what anyone sees."""

    def __init__(self, origins: list[str]) -> None:
        self.any_origin = "*" in origins
        self.origins = frozenset(origin.encode("latin-1") for origin in origins)
        # On every response, whatever the request: with an allow-list, the answer depends on the
        # requesting origin, which shared caches must be told.
        self.fixed_headers: Headers = (
            [
                (b"access-control-allow-origin", b"*"),
                (b"access-control-expose-headers", CORS_EXPOSED),
            ]
            if self.any_origin
            else [(b"vary", b"Origin")]
        )

    def allows(self, origin: bytes) -> bool:
        return self.any_origin or origin in self.origins

    def headers_for(self, origin: bytes) -> Headers:
        """The per-request headers for an allow-listed origin (none with ``*``: they are fixed)."""
        if self.any_origin or origin not in self.origins:
            return []
        return [
            (b"access-control-allow-origin", origin),
            (b"access-control-expose-headers", CORS_EXPOSED),
        ]

    def preflight_headers(self, requested_headers: bytes) -> Headers:
        """What a preflight answers besides the origin, which every response carries."""
        headers = [
            (b"access-control-allow-methods", CORS_METHODS),
            (b"access-control-max-age", CORS_MAX_AGE),
        ]
        if requested_headers:  # any header may be sent: there are no credentials to protect
            headers.append((b"access-control-allow-headers", requested_headers))
        return headers


def _header(scope: Scope, name: bytes) -> bytes:
    for key, value in scope["headers"]:
        if key == name:
            return bytes(value)
    return b""


class RequestIds:
    """Ids for requests that bring none: 32 hex digits like ``uuid4().hex``, a random prefix and a
    counter, so that a request costs no system call (``os.urandom`` took a twentieth of the time
    of a cached response). A forked child starts a prefix of its own, never its parent's ids."""

    def __init__(self) -> None:
        self._restart()
        os.register_at_fork(after_in_child=self._restart)

    def _restart(self) -> None:
        self._prefix = os.urandom(10).hex()
        self._numbers = itertools.count()

    def new(self) -> str:
        return f"{self._prefix}{next(self._numbers):012x}"


_request_ids = RequestIds()  # one per process, so one fork hook


class AccessLog:
    """One line per request for the ``muster.access`` logger, made and logged at the end of the
    event loop's turn together with those of the other requests answered in it.

    Made among each request's own work, a line took about a third of the time of a cached
    response under load; made one after another, the logging code stays in the processor's
    caches and the same lines cost a fraction of that. A line's time is when it is logged, at
    most one turn after its response was sent; its ``duration_ms`` is the request's own.
    """

    def __init__(self) -> None:
        self._waiting: list[tuple[str, str, int, float, str]] = []

    def add(self, method: str, path: str, status: int, duration_ms: float, request_id: str) -> None:
        if not self._waiting:
            asyncio.get_running_loop().call_soon(self._log_waiting)
        self._waiting.append((method, path, status, duration_ms, request_id))

    def _log_waiting(self) -> None:
        waiting, self._waiting = self._waiting, []
        for method, path, status, duration_ms, request_id in waiting:
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
        incoming_id = _header(scope, b"x-request-id").decode("latin-1")
        request_id = incoming_id if REQUEST_ID.match(incoming_id) else _request_ids.new()
        method = scope["method"]
        path = scope["path"]
        if len(path) > 1 and path.endswith("/"):  # a trailing slash is the same resource
            path = path.rstrip("/") or "/"
            scope = {**scope, "path": path, "raw_path": path.encode()}
        if method == "HEAD":  # answered as a GET without its body
            scope = {**scope, "method": "GET"}
        try:
            prepared = self._refuse_target(scope, path)
            if prepared is None:
                prepared, receive = await self._refuse_body(scope, receive, path)
            if prepared is None and method == "OPTIONS":
                prepared = self._preflight(scope, path)
            if prepared is None:
                prepared = await self._respond(scope, receive, path)
        except Exception:
            logging.getLogger("muster").exception("unhandled error on %s %s", method, shorten(path))
            prepared = self._problem(500, "an unexpected error occurred", path)
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
        declared = _header(scope, b"content-length")
        if not declared and not _header(scope, b"transfer-encoding"):
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
        origin = _header(scope, b"origin")
        if not origin or not _header(scope, b"access-control-request-method"):
            return None
        if not self.cors.allows(origin):
            detail = f"the origin {shorten(origin.decode('latin-1'))} may not read this API"
            return self._problem(403, detail, path)
        headers = self.cors.preflight_headers(_header(scope, b"access-control-request-headers"))
        return self._prepare(204, headers, b"")

    async def _respond(self, scope: Scope, receive: Receive, path: str) -> Prepared:
        if self.cache is None or scope["method"] != "GET":
            return await self._call_app(scope, receive)
        try:
            current = self.store.current()
        except DataUnavailableError:
            return await self._call_app(scope, receive)  # the route says so, as a problem
        if current.seq != self._cache_seq:
            self.cache.clear()
            self._cache_seq = current.seq
        # The query string as sent: the handlers read exactly it, so equal keys, equal answers.
        query = scope["query_string"].decode("latin-1")
        representation = negotiate(None, _header(scope, b"accept").decode("latin-1")).value
        # Next links are absolute URLs on the address the client used: the origin is in the key.
        origin = f"{scope.get('scheme', 'http')}://{_header(scope, b'host').decode('latin-1')}"
        key = (origin, path, query, representation)
        prepared = self.cache.get(key)
        if prepared is None:
            prepared = await self._call_app(scope, receive)
            answered_from = scope.get(ANSWERED_FROM)
            # Only routes that opt in are kept, and only an answer from the version the cache
            # holds: a load may have committed while the route answered.
            if (
                prepared.status == 200
                and scope.get(CACHEABLE)
                and answered_from is not None
                and answered_from.seq == self._cache_seq
            ):
                self.cache.put(key, prepared)
        return prepared

    async def _call_app(self, scope: Scope, receive: Receive) -> Prepared:
        status = 500
        headers: Headers = []
        chunks: list[bytes] = []

        async def capture(message: Message) -> None:
            nonlocal status, headers
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = [(k.lower(), v) for k, v in message.get("headers", [])]
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))

        await self.app(scope, receive, capture)
        body = b"".join(chunks)
        headers = [(k, v) for k, v in headers if k != b"content-length"]
        etag = None
        if status == 200 and scope["method"] == "GET":
            # A body's own hash, not its data version's: a load that leaves a response as it was
            # leaves its ETag too, so clients revalidate with a 304 across loads. xxh3 hashes 50
            # facts (44 KB) in under 1 µs; blake2b took 46 µs, an eighth of an uncached response.
            etag = b'"' + xxhash.xxh3_128_hexdigest(body).encode() + b'"'
            headers += [(b"etag", etag), (b"cache-control", CACHE_CONTROL), (b"vary", VARY)]
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
        return self._prepare(status, headers + (extra_headers or []), bytes(response.body))

    async def _send(
        self, send: Send, prepared: Prepared, scope: Scope, request_id: str, *, head: bool
    ) -> int:
        """Send ``prepared`` as this request wants it; return the status sent."""
        headers = [*prepared.headers, (b"x-request-id", request_id.encode())]
        if not self.cors.any_origin:
            headers += self.cors.headers_for(_header(scope, b"origin"))
        status = prepared.status
        body = prepared.body
        if_none_match = _header(scope, b"if-none-match")
        if (
            prepared.etag is not None
            and if_none_match
            and _etag_matches(if_none_match, prepared.etag)
        ):
            status, body = 304, b""
            headers = [(k, v) for k, v in headers if k != b"content-type"]
        elif len(body) >= GZIP_MIN_BYTES and b"gzip" in _header(scope, b"accept-encoding").lower():
            body = prepared.gzipped()
            headers.append((b"content-encoding", b"gzip"))
        if status not in (204, 304):
            headers.append((b"content-length", str(len(body)).encode()))
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": b"" if head else body})
        return status
