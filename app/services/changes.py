"""What changed between an earlier data version and the current one, record by record.

Every load that changes the data records what it added, removed and changed (``dataset_changes``,
by load). The difference since a version is those records of every later load, collapsed per
record: what matters is whether the record existed before and whether it exists now.
"""

from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy import Connection, text

from app.models.kinds import Kind

KIND_ORDER = tuple(Kind)


class Change(StrEnum):
    added = "added"
    removed = "removed"
    changed = "changed"


@dataclass(frozen=True)
class RecordChange:
    kind: str
    record_id: str
    change: Change


class UnknownVersionError(LookupError):
    """No load of this data version is on record: it never existed here, or was pruned."""


LAST_LOAD_OF = text("SELECT max(seq) FROM dataset_loads WHERE version = :version")
LATER_CHANGES = text(
    "SELECT kind, record_id, change FROM dataset_changes WHERE seq > :seq "
    "ORDER BY kind, record_id, seq"
)


def changes_since(connection: Connection, version: str) -> list[RecordChange]:
    """The net changes from ``version`` to the newest load, by kind then record id.

    Per record, over the later loads in order: absent before and present now is added;
    present before and absent now is removed; present both times is changed (even if a
    removal and a re-adding restored it exactly: past contents are not kept); absent both
    times (added, then removed) is nothing.
    """
    # The same content may have been loaded more than once; its last load is the nearest.
    seq = connection.execute(LAST_LOAD_OF, {"version": version}).scalar()
    if seq is None:
        raise UnknownVersionError(version)
    first: dict[tuple[str, str], str] = {}
    last: dict[tuple[str, str], str] = {}
    for kind, record_id, change in connection.execute(LATER_CHANGES, {"seq": seq}):
        first.setdefault((kind, record_id), change)
        last[(kind, record_id)] = change
    net = []
    for (kind, record_id), earliest in first.items():
        existed = earliest != Change.added
        exists = last[(kind, record_id)] != Change.removed
        if existed and exists:
            net.append(RecordChange(kind, record_id, Change.changed))
        elif exists:
            net.append(RecordChange(kind, record_id, Change.added))
        elif existed:
            net.append(RecordChange(kind, record_id, Change.removed))
    return sorted(net, key=lambda item: (KIND_ORDER.index(Kind(item.kind)), item.record_id))
