"""Which responses the edge's response cache may keep: those of routes that opt in.

A route opts in by declaring ``dependencies=[CACHED]``. It promises that its answer depends only
on what the cache key holds (the path, the query string as sent, and the representation that
``Accept`` negotiates) and on the data version, which the cache follows. A route that reads
anything else (another header, the client's address, the time) must not opt in.
"""

from fastapi import Depends, Request

CACHEABLE = "muster.cacheable"
"""The scope key a cacheable route sets, for the edge to read once the response is made."""


async def _cacheable(request: Request) -> None:
    request.scope[CACHEABLE] = True


CACHED = Depends(_cacheable)

STREAMED = "muster.streamed"
"""The scope key a route sets for a response it streams (a whole collection): the edge passes it
on as it comes, and neither keeps nor hashes it."""
