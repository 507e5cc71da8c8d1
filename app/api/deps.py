"""Request dependencies: the data snapshot a request is answered from."""

from typing import Annotated

from fastapi import Depends, Request

from app.services.snapshot import Snapshot


def get_snapshot(request: Request) -> Snapshot:
    """The snapshot the edge middleware chose for this request: one data version throughout."""
    snapshot: Snapshot = request.state.snapshot
    return snapshot


SnapshotDep = Annotated[Snapshot, Depends(get_snapshot)]
