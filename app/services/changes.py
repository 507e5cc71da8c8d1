"""What changed between an earlier data version and the current one, record by record.

Every load that changes the data records what it added, removed and changed (``dataset_changes``,
by load). The difference since a version is those records of every later load, collapsed per
record: what matters is whether the record existed before and whether it exists now.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from app.ingest.check import ENTITY_KINDS
from app.models import tables

# The order changes are listed in: sources, the entities, then the facts about them.
KIND_ORDER = ("sources", *ENTITY_KINDS, "facts")


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


class ChangeLog:
    """The loads, oldest first, and the record changes each made."""

    def __init__(
        self, loads: Iterable[tables.DatasetLoad], changes: Iterable[tables.DatasetChange]
    ) -> None:
        self._loads = sorted((load.seq or 0, load.version) for load in loads)
        self._changes = sorted((c.seq, c.kind, c.record_id, c.change) for c in changes)

    def since(self, version: str) -> list[RecordChange]:
        """The net changes from ``version`` to the newest load, by kind then record id.

        Per record, over the later loads in order: absent before and present now is added;
        present before and absent now is removed; present both times is changed (even if a
        removal and a re-adding restored it exactly: past contents are not kept); absent both
        times (added, then removed) is nothing.
        """
        # The same content may have been loaded more than once; its last load is the nearest.
        seqs = [seq for seq, loaded in self._loads if loaded == version]
        if not seqs:
            raise UnknownVersionError(version)
        first: dict[tuple[str, str], str] = {}
        last: dict[tuple[str, str], str] = {}
        for seq, kind, record_id, change in self._changes:
            if seq > seqs[-1]:
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
        return sorted(net, key=lambda item: (KIND_ORDER.index(item.kind), item.record_id))
