"""Request dependencies: the data snapshot a request is answered from."""

from typing import Annotated

from fastapi import Depends, Request

from app.services.snapshot import Snapshot


async def get_snapshot(request: Request) -> Snapshot:
    """The snapshot the edge middleware chose for this request: one data version throughout.

    Handlers that only read the snapshot are ``async def``, as is this: they do no I/O, and a
    plain ``def`` would cost two hops through the thread pool, twice the work of the handler.
    """
    snapshot: Snapshot = request.state.snapshot
    return snapshot


SnapshotDep = Annotated[Snapshot, Depends(get_snapshot)]
