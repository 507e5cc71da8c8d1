"""Responses prepared once and sent as each request wants them: the response cache, ETags and
conditional GET, and gzip.

The middleware here answers a cached read with no routing, no validation and no serialisation:
the bytes, their ETags and their headers are prepared once per load (``LoadState``), path, query
and representation, and the gzip bytes once more. Compressing per request would cost more than the
whole cached response. An answer a route streams is passed on as it comes, never kept.
"""

import gzip
from collections import OrderedDict
from dataclasses import dataclass
from functools import lru_cache

import xxhash

from app.api.asgi import NO_STORE, ASGIApp, Headers, Message, Receive, Scope, Send, header
from app.api.caching import CACHEABLE, STREAMED
from app.api.deps import ANSWERED_FROM
from app.api.formats import list_header, negotiate, weighted_items
from app.services.store import DataStore, DataUnavailableError, LoadState

CACHE_CONTROL = b"public, max-age=60"
VARY = b"Accept, Accept-Encoding"
GZIP_MIN_BYTES = 1024
GZIP_LEVEL = 1
"""zlib's fastest level, as nginx's default: an answer that is not kept is compressed for each
request, and level 6 took 685 µs for a page of 50 facts (level 1: 118 µs, a third more bytes);
1.21x the uncached pages per second served with gzip accepted (bench/served_beside.py)."""
GZIP_TAG_SUFFIX = f"-gzip{GZIP_LEVEL}".encode()


@dataclass
class Prepared:
    """A response ready to send: its status, headers (without per-request ones) and body."""

    status: int
    headers: Headers
    body: bytes
    etag: bytes | None
    """The identity body's hash, unquoted; None for a response without a validator."""
    gzipped_body: bytes | None = None

    def tag(self, *, gzipped: bool) -> bytes:
        """The strong ETag of one representation: the gzip body is other bytes, so another tag
        (RFC 9110 8.8.3), which names the level, as other levels make other bytes."""
        assert self.etag is not None
        return b'"' + self.etag + (GZIP_TAG_SUFFIX if gzipped else b"") + b'"'

    def gzipped(self) -> bytes:
        """The body gzip-compressed, compressed once however often it is sent."""
        if self.gzipped_body is None:
            self.gzipped_body = gzip.compress(self.body, compresslevel=GZIP_LEVEL, mtime=0)
        return self.gzipped_body


ENTRY_OVERHEAD = 512
"""Bytes an entry costs besides its key, headers and bodies (its objects), roughly: without it a
client could fill memory with many small answers (new query strings) that each count as little."""


def footprint(key: tuple[str, ...], entry: Prepared) -> int:
    """What an entry holds in memory: key, headers, bodies, and the objects around them."""
    headers = sum(len(name) + len(value) for name, value in entry.headers)
    bodies = len(entry.body) + len(entry.gzipped_body or b"")
    return ENTRY_OVERHEAD + sum(len(part) for part in key) + headers + bodies


class ResponseCache:
    """Prepared responses by key, least recently used evicted once their footprint passes
    ``max_bytes``. A body worth compressing is compressed when kept, so its gzip bytes count."""

    def __init__(self, max_bytes: int, *, gzip_min_bytes: int) -> None:
        self.max_bytes = max_bytes
        self._gzip_min_bytes = gzip_min_bytes
        self._entries: OrderedDict[tuple[str, ...], tuple[Prepared, int]] = OrderedDict()
        self._size = 0

    def get(self, key: tuple[str, ...]) -> Prepared | None:
        kept = self._entries.get(key)
        if kept is None:
            return None
        self._entries.move_to_end(key)
        return kept[0]

    def put(self, key: tuple[str, ...], entry: Prepared) -> None:
        if len(entry.body) >= self._gzip_min_bytes:
            entry.gzipped()
        size = footprint(key, entry)
        if size > self.max_bytes:
            return
        if key in self._entries:
            self._size -= self._entries.pop(key)[1]
        self._entries[key] = (entry, size)
        self._size += size
        while self._size > self.max_bytes:
            _, (_, evicted_size) = self._entries.popitem(last=False)
            self._size -= evicted_size

    def __len__(self) -> int:
        return len(self._entries)

    @property
    def size(self) -> int:
        """The footprint of every entry kept, in bytes."""
        return self._size

    def clear(self) -> None:
        self._entries.clear()
        self._size = 0


@lru_cache(maxsize=256)  # asked on every request; clients send few distinct values
def accepts_gzip(accept_encoding: bytes) -> bool:
    """Whether ``Accept-Encoding`` accepts gzip (RFC 9110 12.5.3): by name with a q above 0, or,
    when it does not name gzip, by ``*`` with a q above 0. Weighed, not searched for: ``gzip;q=0``
    and ``gzip;q=0, *`` refuse it."""
    weights = dict(weighted_items(accept_encoding.decode("latin-1")))
    return weights.get("gzip", weights.get("*", 0.0)) > 0


def _etag_matches(if_none_match: bytes, etag: bytes) -> bool:
    tags = {tag.strip().removeprefix(b"W/") for tag in if_none_match.split(b",")}
    return b"*" in tags or etag in tags


class PreparedResponses:
    """Makes each GET's answer a ``Prepared`` (its ETag, ``Cache-Control`` and ``Vary``, or
    ``no-store`` for a problem), keeps those of routes that opt in (``dependencies=[CACHED]``) in
    ``cache`` for the load they were read from, and sends one as its request wants it:
    a 304 for a matching ``If-None-Match``, gzip when accepted. ``cache`` None keeps none."""

    def __init__(self, app: ASGIApp, *, store: DataStore, cache: ResponseCache | None) -> None:
        self.app = app
        self.store = store
        self.cache = cache
        self._cache_state: LoadState | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        prepared = await self._answer(scope, receive, send)
        if prepared is not None:
            await self._send(send, prepared, scope)

    async def _answer(self, scope: Scope, receive: Receive, send: Send) -> Prepared | None:
        """The answer to send, or None when the route streamed it (never kept)."""
        if self.cache is None or scope["method"] != "GET":
            return await self._prepare(scope, receive, send)
        try:
            current = self.store.known()
        except DataUnavailableError:
            return await self._prepare(scope, receive, send)  # the route says so, as a problem
        if current is None:  # the route's read finds out, in its thread; kept from the next on
            return await self._prepare(scope, receive, send)
        # The whole state, not only the load number: a file renamed over the served one may
        # hold other data under the same number, or the same data rendered by another Muster.
        if current != self._cache_state:
            self.cache.clear()
            self._cache_state = current
        # The query string as sent: the handlers read exactly it, so equal keys, equal answers.
        query = scope["query_string"].decode("latin-1")
        representation = negotiate(None, list_header(scope, b"accept").decode("latin-1")).value
        # Next links are absolute URLs on the address the client used: the origin is in the key.
        origin = f"{scope.get('scheme', 'http')}://{header(scope, b'host').decode('latin-1')}"
        key = (origin, scope["path"], query, representation)
        prepared = self.cache.get(key)
        if prepared is None:
            prepared = await self._prepare(scope, receive, send)
            answered_from = scope.get(ANSWERED_FROM)
            # Only routes that opt in are kept, and only an answer from the version the cache
            # holds: a load may have committed while the route answered.
            if (
                prepared is not None
                and prepared.status == 200
                and scope.get(CACHEABLE)
                and answered_from is not None
                and answered_from == self._cache_state
            ):
                self.cache.put(key, prepared)
        return prepared

    async def _prepare(self, scope: Scope, receive: Receive, send: Send) -> Prepared | None:
        """The route's answer, buffered; None when the route streamed it (``STREAMED``: a whole
        collection), passed on as it came with no ETag and no gzip, which would need the whole
        body: its memory stays one part's."""
        status = 500
        headers: Headers = []
        chunks: list[bytes] = []
        streamed = False

        async def capture(message: Message) -> None:
            nonlocal status, headers, streamed
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = [(k.lower(), v) for k, v in message.get("headers", [])]
                if scope.get(STREAMED):
                    streamed = True
                    headers = [(k, v) for k, v in headers if k != b"content-length"]
                    headers += [(b"cache-control", CACHE_CONTROL), (b"vary", VARY)]
                    await send({**message, "headers": headers})
            elif streamed:
                await send(message)
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))

        await self.app(scope, receive, capture)
        if streamed:
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
        return Prepared(status, headers, body, etag)

    async def _send(self, send: Send, prepared: Prepared, scope: Scope) -> None:
        """Send ``prepared`` as this request wants it."""
        headers = list(prepared.headers)
        status = prepared.status
        body = prepared.body
        accept_encoding = list_header(scope, b"accept-encoding")
        gzipped = len(body) >= GZIP_MIN_BYTES and accepts_gzip(accept_encoding)
        if prepared.etag is not None:
            etag = prepared.tag(gzipped=gzipped)
            headers.append((b"etag", etag))
            if_none_match = list_header(scope, b"if-none-match")
            if if_none_match and _etag_matches(if_none_match, etag):
                status, body, gzipped = 304, b"", False
                headers = [(k, v) for k, v in headers if k != b"content-type"]
        if gzipped:
            body = prepared.gzipped()
            headers.append((b"content-encoding", b"gzip"))
        if status not in (204, 304):
            headers.append((b"content-length", str(len(body)).encode()))
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})
