"""Prepared responses, kept per data version by the edge: each encoding's bytes made once."""

import gzip
from collections import OrderedDict
from dataclasses import dataclass

from app.api.asgi import Headers


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
        (RFC 9110 8.8.3)."""
        assert self.etag is not None
        return b'"' + self.etag + (b'-gzip"' if gzipped else b'"')

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
