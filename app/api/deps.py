"""What a handler reads of its request besides its parameters: the data snapshot."""

from fastapi import Request

from app.services.snapshot import Snapshot


def snapshot_of(request: Request) -> Snapshot:
    """The snapshot the edge middleware chose for this request: one data version throughout.

    A plain call rather than a FastAPI dependency: resolving one costs about 12 µs a request,
    a tenth of an uncached search, for what is a dictionary lookup.
    """
    snapshot: Snapshot = request.scope["state"]["snapshot"]
    return snapshot
