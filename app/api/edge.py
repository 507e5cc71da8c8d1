"""The outermost layer of every request: data version, response cache, conditional GET, HEAD,
gzip, request ids, security headers and the access log.

It is pure ASGI rather than FastAPI middleware so that a cached answer costs no routing, no
validation and no serialisation: the bytes, their ETag and their headers are prepared once per
data version, path, query and representation.
"""

import gzip
import hashlib
import logging
import re
import time
import uuid
from collections import OrderedDict
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlencode

import orjson

from app.api.errors import problem_response
from app.api.formats import negotiate
from app.services.store import DataStore, DataUnavailableError

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

access_log = logging.getLogger("muster.access")

SECURITY_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
]
API_CSP = b"default-src 'none'; frame-ancestors 'none'"
CACHE_CONTROL = b"public, max-age=60"
VARY = b"Accept, Accept-Encoding"
GZIP_MIN_BYTES = 1024
REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
CACHED_PREFIXES = ("/v1/",)


@dataclass
class Prepared:
    """A response ready to send: its status, headers (without per-request ones) and body."""

    status: int
    headers: list[tuple[bytes, bytes]]
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


def _header(scope: Scope, name: bytes) -> str:
    for key, value in scope["headers"]:
        if key == name:
            return str(value.decode("latin-1"))
    return ""


def _etag_matches(if_none_match: str, etag: bytes) -> bool:
    tags = {tag.strip().removeprefix("W/") for tag in if_none_match.split(",")}
    return "*" in tags or etag.decode() in tags


class Edge:
    def __init__(self, app: ASGIApp, store: DataStore, cache: ResponseCache | None) -> None:
        self.app = app
        self.store = store
        self.cache = cache
        self._cache_version: str | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        incoming_id = _header(scope, b"x-request-id")
        request_id = incoming_id if REQUEST_ID.match(incoming_id) else uuid.uuid4().hex
        method = scope["method"]
        path = scope["path"]
        if len(path) > 1 and path.endswith("/"):  # a trailing slash is the same resource
            path = path.rstrip("/") or "/"
            scope = {**scope, "path": path, "raw_path": path.encode()}
        if method == "HEAD":  # answered as a GET without its body
            scope = {**scope, "method": "GET"}
        try:
            prepared = await self._respond(scope, receive, path)
        except Exception:
            logging.getLogger("muster").exception("unhandled error on %s %s", method, path)
            prepared = _prepare_problem(500, "an unexpected error occurred", path)
        await self._send(send, prepared, scope, request_id, head=method == "HEAD")
        access_log.info(
            orjson.dumps(
                {
                    "request_id": request_id,
                    "method": method,
                    "path": path,
                    "status": prepared.status,
                    "duration_ms": round((time.perf_counter() - started) * 1000, 3),
                }
            ).decode()
        )

    async def _respond(self, scope: Scope, receive: Receive, path: str) -> Prepared:
        uses_data = path.startswith(CACHED_PREFIXES) or path == "/" or path == "/readyz"
        version = None
        if uses_data:
            try:
                snapshot = self.store.current()
            except DataUnavailableError as error:
                if path == "/readyz":
                    scope.setdefault("state", {})["data_error"] = str(error)
                    return await self._call_app(scope, receive)
                return _prepare_problem(503, f"the data cannot be read: {error}", path)
            scope.setdefault("state", {})["snapshot"] = snapshot
            version = snapshot.version
        cacheable = (
            self.cache is not None
            and scope["method"] == "GET"
            and path.startswith(CACHED_PREFIXES)
            and version is not None
        )
        if not cacheable:
            return await self._call_app(scope, receive)
        assert self.cache is not None
        if version != self._cache_version:
            self.cache.clear()
            self._cache_version = version
        query = urlencode(sorted(parse_qsl(scope["query_string"].decode("latin-1"), True)))
        representation = negotiate(None, _header(scope, b"accept")).value
        key = (path, query, representation)
        prepared = self.cache.get(key)
        if prepared is None:
            prepared = await self._call_app(scope, receive)
            if prepared.status == 200:
                self.cache.put(key, prepared)
        return prepared

    async def _call_app(self, scope: Scope, receive: Receive) -> Prepared:
        status = 500
        headers: list[tuple[bytes, bytes]] = []
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
            etag = b'"' + hashlib.blake2b(body, digest_size=12).hexdigest().encode() + b'"'
            headers += [(b"etag", etag), (b"cache-control", CACHE_CONTROL), (b"vary", VARY)]
        snapshot = scope.get("state", {}).get("snapshot")
        if snapshot is not None and snapshot.version:
            headers.append((b"x-data-version", snapshot.version.encode()))
        if not any(k == b"content-security-policy" for k, _ in headers):
            headers.append((b"content-security-policy", API_CSP))
        return Prepared(status, headers + SECURITY_HEADERS, body, etag)

    async def _send(
        self, send: Send, prepared: Prepared, scope: Scope, request_id: str, *, head: bool
    ) -> None:
        headers = [*prepared.headers, (b"x-request-id", request_id.encode())]
        status = prepared.status
        body = prepared.body
        if prepared.etag is not None and _etag_matches(
            _header(scope, b"if-none-match"), prepared.etag
        ):
            status, body = 304, b""
            headers = [(k, v) for k, v in headers if k not in (b"content-type",)]
        elif len(body) >= GZIP_MIN_BYTES and "gzip" in _header(scope, b"accept-encoding").lower():
            body = prepared.gzipped()
            headers.append((b"content-encoding", b"gzip"))
        if status != 304:
            headers.append((b"content-length", str(len(body)).encode()))
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": b"" if head else body})


def _prepare_problem(status: int, detail: str, path: str) -> Prepared:
    response = problem_response(status, detail, path)
    headers = [(k.lower(), v) for k, v in response.raw_headers if k.lower() != b"content-length"]
    headers.append((b"content-security-policy", API_CSP))
    return Prepared(status, headers + SECURITY_HEADERS, bytes(response.body), None)
