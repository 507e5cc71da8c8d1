"""The kinds of record Muster serves: one list, which every part of Muster imports."""

from enum import StrEnum


class Kind(StrEnum):
    """A collection of records, in the order Muster lists them: sources, the entities, then the
    facts about them (changes, search hits of equal rank)."""

    sources = "sources"
    forces = "forces"
    agencies = "agencies"
    waves = "waves"
    authorities = "authorities"
    activities = "activities"
    facts = "facts"

    @property
    def is_entity(self) -> bool:
        return self not in (Kind.sources, Kind.facts)


ENTITY_KINDS: tuple[Kind, ...] = tuple(kind for kind in Kind if kind.is_entity)


def record_path(kind: Kind | str, record_id: str) -> str:
    """A record's path in this API."""
    return f"/v1/{kind}/{record_id}"
