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
