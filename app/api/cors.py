"""Cross-origin reads: which origins, methods and headers a page elsewhere may use."""

from app.api.asgi import Headers

# What a browser page on another origin may do: read, with the headers a client needs to see.
CORS_METHODS = b"GET, HEAD, OPTIONS"
CORS_EXPOSED = b"ETag, Link, X-Data-Version, X-Request-ID, X-Total-Count"
CORS_MAX_AGE = b"86400"
# The request headers a page may send: those this API reads, plus the CORS-safelisted ones a
# browser never asks about. A fixed list, whatever a preflight asks for, so a preflight's answer
# is bounded (it once echoed Access-Control-Request-Headers back: 1 MB in, 1 MB out); the browser
# refuses a request whose headers are not all in it.
CORS_ALLOWED_HEADERS = b"Accept, If-None-Match, X-Request-ID"


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

    def preflight_headers(self) -> Headers:
        """What a preflight answers besides the origin, which every response carries."""
        return [
            (b"access-control-allow-methods", CORS_METHODS),
            (b"access-control-allow-headers", CORS_ALLOWED_HEADERS),
            (b"access-control-max-age", CORS_MAX_AGE),
        ]
