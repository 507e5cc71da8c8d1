"""The deployment as known on a day: every wave's figures as the sources rank them, and the
totals they imply.

A page is put together from the records' stored documents as they are, checked when they were
loaded (a database rendered by another version is served as it rendered them, as the lists are),
and not read again into their models: at 1000x that serves 2.1x the uncached pages a
second (``bench/served_beside.py --against 13f12da --uncached --scale 1000 --path /v1/posture``).
``tests/api/test_posture.py`` holds each answer to ``Posture``, key for key.

A figure is chosen among the facts about the same thing (the same subject, property and unit,
``quantities.measure``) that were reported by the day and hold on it: a preferred fact over
normal ones, then the newest report, then the fact the wave itself names. Deprecated facts are
never chosen. The facts not chosen are listed beside the figure, never merged into it.
"""

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any, Literal

import orjson
from sqlalchemy import JSON, Row, String, TextClause, TextualSelect, bindparam, text

from app.models.common import Quantity, WaveStatus
from app.models.kinds import Kind
from app.models.public import TOTAL_SHOWN, DerivedQuantity, PostureTotal, Ref
from app.services.quantities import add, in_words
from app.services.records import Totals, known_on, waves_known_on
from app.services.store import Reading

Part = Literal["size", "share"]
# The totals: waves of these statuses added up, per component.
ARRIVED_STATUSES = (WaveStatus.in_place, WaveStatus.ordered)


NEWEST_REPORT = text("SELECT max(reported_on) FROM facts")
# Waves in the posture's order: by status (in place first, ``status_rank``, which the load writes:
# render.status_rank), then id; a page after a wave's key.
WAVES = "SELECT listed, status_rank, id FROM waves{where} ORDER BY status_rank, id LIMIT :limit"
ALTERNATIVES_SHOWN = 20
"""How many of the other facts about the same thing a figure lists (``alternative_count``
says how many there are)."""
HOLDS_ON = (
    "(facts.holds_from IS NULL OR facts.holds_from <= :day) "
    "AND (facts.holds_until IS NULL OR facts.holds_until >= :day)"
)
# A fact known on the day (``{known}``) that is first about the wave ``waves``: a wave that none
# is about is not there yet. Asked of the facts' entries, which hold each fact's reported_on.
FIRST_ABOUT = "fact_about.entity_id = waves.id AND fact_about.position = 0{known}"
# The first fact told about the wave: a figure that no fact gives cites it.
FIRST_TOLD = (
    "SELECT {column} FROM fact_about JOIN facts ON facts.id = fact_about.fact_id "
    f"WHERE {FIRST_ABOUT} ORDER BY fact_about.told_at LIMIT 1"
)
PAGE_FIRST_TOLD = "SELECT waves.id, ({first_told}) FROM waves WHERE waves.id IN :ids"
# Whether the wave is there on the day. Of the entries alone: at 1000x, a page of the waves there
# on 2025-01-22 took 6.3 ms, against 28 ms joining the facts (the statement timed by hand).
THERE = f"EXISTS (SELECT 1 FROM fact_about WHERE {FIRST_ABOUT})"
# Of the facts about the same thing as a fact (its measure), known and holding on the day, the
# one that stands: never a deprecated one; preferred over normal, then the newest report, then the
# one the wave names (``{named}``), then the first told.
STANDS_FIRST = (
    "CASE facts.rank WHEN 'preferred' THEN 0 ELSE 1 END, facts.reported_on IS NULL, "
    "facts.reported_on DESC, CASE WHEN facts.id = {named} THEN 0 ELSE 1 END, facts.told_at"
)
# For each fact named by a page's figures, the facts about the same thing, known and holding on
# the day: the one that stands (``stand_place`` 1, if it may stand), the first told (the others
# are the first ALTERNATIVES_SHOWN of them but the one that stands), and how many they are.
SAME_THINGS = (
    "SELECT named, id, listed, may_stand, stand_place, told_place, same_count FROM ("
    "SELECT named.id AS named, facts.id, facts.listed, facts.rank != 'deprecated' AS may_stand, "
    "row_number() OVER (PARTITION BY named.id ORDER BY "
    "CASE facts.rank WHEN 'deprecated' THEN 1 ELSE 0 END, {stands_first}) AS stand_place, "
    "row_number() OVER (PARTITION BY named.id ORDER BY facts.told_at) AS told_place, "
    "count(*) OVER (PARTITION BY named.id) AS same_count "
    "FROM facts AS named JOIN facts ON facts.measure = named.measure{on_the_day} "
    "WHERE named.id IN :ids) AS same WHERE stand_place = 1 OR told_place <= :told"
)
# What the totals add up, in one query over every wave in place or ordered, in the posture's
# order: each wave's size as its figure chooses it (``figures`` and ``_same_things``), with the
# component of the force it counts under and how many citations the figure's fact has. A wave as
# known on the day (``wave_known_on``) names its size fact and joins its force only when the
# facts saying so were reported by then; a wave that no fact known by then is about is not there
# yet. The standing fact is the first by STANDS_FIRST of a window, not a subquery's ORDER BY:
# SQLite resolves no outer column in a subquery's ORDER BY.
TOTAL_OPERANDS = (
    "WITH arrived AS (SELECT waves.id, waves.status_rank, "
    "(SELECT facts.id FROM facts WHERE facts.id = waves.size_fact_id{known}) AS named, "
    "(SELECT facts.measure FROM facts WHERE facts.id = waves.size_fact_id{known}) AS measure, "
    # Looked up by id, not EXISTS: PostgreSQL would hash every fact known to answer that.
    "CASE WHEN waves.joins_fact_id IS NULL OR "
    "(SELECT facts.id FROM facts WHERE facts.id = waves.joins_fact_id{known}) IS NOT NULL "
    "THEN waves.joins_id END AS joins_id, "
    "({first_told}) AS first_told "
    "FROM waves WHERE waves.status IN ({arrived})), "
    "counted AS (SELECT arrived.*, "
    # A wave that joins no force counts under the force whose share is its whole size.
    "CASE WHEN arrived.joins_id IS NOT NULL "
    "THEN (SELECT forces.component FROM forces WHERE forces.id = arrived.joins_id) "
    "ELSE (SELECT forces.component FROM wave_members "
    "JOIN forces ON forces.id = wave_members.force_id "
    "WHERE wave_members.wave_id = arrived.id AND wave_members.fact_id = arrived.named "
    "ORDER BY wave_members.position LIMIT 1) END AS component "
    "FROM arrived WHERE arrived.first_told IS NOT NULL), "
    # Each wave beside the facts that may stand for its size (none: one row of nulls), ranked.
    "ranked AS (SELECT counted.id, counted.status_rank, counted.component, counted.first_told, "
    "facts.id AS standing, facts.quantity, "
    "row_number() OVER (PARTITION BY counted.id ORDER BY {stands_first}) AS place "
    "FROM counted LEFT JOIN facts ON facts.measure = counted.measure{on_the_day} "
    "AND facts.rank != 'deprecated' WHERE counted.component IS NOT NULL) "
    "SELECT ranked.id, ranked.component, ranked.standing, "
    "COALESCE(ranked.standing, ranked.first_told) AS fact_id, ranked.quantity, "
    "(SELECT count(*) FROM citations "
    "WHERE citations.fact_id = COALESCE(ranked.standing, ranked.first_told)) AS citation_count "
    "FROM ranked WHERE ranked.place = 1 ORDER BY ranked.status_rank, ranked.id"
)
ARRIVED = ", ".join(f"'{status.value}'" for status in ARRIVED_STATUSES)
NO_JIT = text("SET LOCAL jit = off")
DEFAULT_JIT = text("SET LOCAL jit TO DEFAULT")
LISTED_FACTS = text("SELECT id, listed FROM facts WHERE id IN :ids").bindparams(
    bindparam("ids", expanding=True, type_=String)
)
COMPONENT_OF = text("SELECT component FROM forces WHERE id = :id")


def newest_report(reading: Reading) -> dt.date | None:
    """The day of the newest report in the data: the default day of a posture."""
    day = reading.connection.execute(NEWEST_REPORT).scalar()
    return dt.date.fromisoformat(day) if isinstance(day, str) else day


Document = dict[str, Any]
"""A record, a figure or a total as the API shows it, as JSON."""


def _ref(kind: Kind, record_id: str, name: str, url: str) -> Document:
    return Ref(id=record_id, kind=kind, name=name, url=url).model_dump(mode="json")


@cache
def _statements(*, dated: bool) -> tuple[str, TextClause, TextClause, TextualSelect]:
    """The condition that a wave is there (a fact known is first about it), and the statements of a
    page's first facts told, of what stands among the facts about the same thing, and of the
    totals' operands: on a day (``:as_of``, ``:day``), or over every fact when the data holds no
    dated report. Made once each, not for every request."""
    on_the_day = f" AND {known_on('facts')} AND {HOLDS_ON}" if dated else ""
    known = f" AND {known_on('facts')}" if dated else ""
    entry_known = f" AND {known_on('fact_about')}" if dated else ""
    there = THERE.format(known=entry_known)
    first_told = text(
        PAGE_FIRST_TOLD.format(
            first_told=FIRST_TOLD.format(column="facts.listed", known=entry_known)
        )
    ).bindparams(bindparam("ids", expanding=True, type_=String))
    same_things = text(
        SAME_THINGS.format(
            stands_first=STANDS_FIRST.format(named="named.id"), on_the_day=on_the_day
        )
    ).bindparams(bindparam("ids", expanding=True, type_=String))
    total_operands = text(
        TOTAL_OPERANDS.format(
            arrived=ARRIVED,
            known=known,
            first_told=FIRST_TOLD.format(column="fact_about.fact_id", known=entry_known),
            on_the_day=on_the_day,
            stands_first=STANDS_FIRST.format(named="counted.named"),
        )
    ).columns(quantity=JSON)
    return there, first_told, same_things, total_operands


class _PostureReader:
    """The posture's figures and totals from the facts known on a day and holding on it."""

    def __init__(self, reading: Reading, day: dt.date | None) -> None:
        self.connection = reading.connection
        self.on_postgresql = reading.on_postgresql
        self.day = day
        self.there, self.first_told, self.same_things, self.total_operands = _statements(
            dated=day is not None
        )
        self.parameters = {"as_of": day.isoformat(), "day": day.isoformat()} if day else {}
        self._components: dict[str, str | None] = {}

    def waves(
        self, *, after: tuple[int, str] | None, limit: int
    ) -> list[tuple[Document, tuple[int, str]]]:
        """Up to ``limit`` waves after the one whose key is ``after``, of those there on the
        day, as known then, each with its key. (Of every wave, a page could hold none with a
        figure: at 1000x, 24 of the 25 pages of 200 on 2025-01-22 were empty.)"""
        conditions = [self.there]
        parameters: dict[str, object] = {"limit": limit}
        if self.day is not None:
            parameters["as_of"] = self.day.isoformat()
        if after is not None:
            conditions.append("(status_rank, id) > (:after_rank, :after_id)")
            parameters |= {"after_rank": after[0], "after_id": after[1]}
        where = f" WHERE {' AND '.join(conditions)}"
        rows = self.connection.execute(text(WAVES.format(where=where)), parameters).all()
        documents = [orjson.loads(document) for document, _, _ in rows]
        if self.day is not None:
            waves_known_on(self.connection, documents, self.day.isoformat())
        return [
            (document, (rank, wave_id))
            for document, (_, rank, wave_id) in zip(documents, rows, strict=True)
        ]

    def figures(self, waves: Sequence[Document]) -> list[Document]:
        """The figures of a page of waves, read for the whole page at once."""
        ids = [wave["id"] for wave in waves]
        rows = self.connection.execute(self.first_told, {"ids": ids, **self.parameters})
        # Each wave of a page is there (THERE), so each has its first fact told.
        told: dict[str, str] = dict(rows.all())
        parts: list[tuple[Document, Part, Document | None, str | None, str | None]] = []
        for wave in waves:
            size_fact = wave["size_fact"]["id"] if wave["size_fact"] else None
            composition = wave["composition"]
            shares = [member for member in composition if member["fact"]["id"] != size_fact]
            # A wave of one force, whose size is that force's, counts that force.
            whole = [member["force"] for member in composition if member["fact"]["id"] == size_fact]
            force = wave["joins"] or (whole[0] if whole else None)
            # A wave that joins a force counts under it only as firmly as the tie is stated.
            tie = wave["joins_status"] if wave["joins"] else None
            parts.append((wave, "size", force, size_fact, tie))
            parts += [
                (wave, "share", member["force"], member["fact"]["id"], None) for member in shares
            ]
        same_things = self._same_things([named for *_, named, _ in parts if named is not None])
        return [
            self._figure(wave, part, force, same_things.get(named or ""), told[wave["id"]], tie)
            for wave, part, force, named, tie in parts
        ]

    def _same_things(self, named: list[str]) -> dict[str, "_SameThing"]:
        """For each fact named, the fact that stands among those about the same thing, the first
        others and how many others there are."""
        rows = self.connection.execute(
            self.same_things, {"ids": named, "told": ALTERNATIVES_SHOWN + 1, **self.parameters}
        )
        found: dict[str, list[Row[Any]]] = defaultdict(list)
        for row in rows:
            found[row.named].append(row)
        same_things = {}
        for fact_id, same in found.items():
            standing = [row for row in same if row.stand_place == 1 and row.may_stand]
            chosen = orjson.loads(standing[0].listed) if standing else None
            chosen_id = chosen["id"] if chosen else None
            others = [
                orjson.loads(row.listed)
                for row in sorted(same, key=lambda row: row.told_place)
                if row.told_place <= ALTERNATIVES_SHOWN + 1 and row.id != chosen_id
            ]
            count = same[0].same_count - (1 if chosen else 0)
            same_things[fact_id] = _SameThing(chosen, others[:ALTERNATIVES_SHOWN], count)
        return same_things

    def _figure(
        self,
        wave: Document,
        part: Part,
        force: Document | None,
        same_thing: "_SameThing | None",
        first_told: str,
        tie_status: str | None = None,
    ) -> Document:
        """One figure; ``same_thing`` is what stands among the facts about the same thing as the
        figure's fact, and ``first_told`` the document of the first fact told about the wave,
        the figure's fact when none stands. ``tie_status`` is how firm the wave's tie to
        ``force`` is, when the force is the one it joins, and otherwise the status of the fact
        that gives the figure."""
        same_thing = same_thing or _SameThing(None, [], 0)
        chosen = same_thing.chosen
        fact = chosen or orjson.loads(first_told)
        # PostureFigure's fields, in its order.
        return {
            "component": self._component_of(force["id"]) if force else None,
            "status": wave["status"],
            "wave": _ref(Kind.waves, wave["id"], wave["name"], wave["url"]),
            "force": force,
            "force_status": (tie_status or fact["status"]) if force else None,
            "part": part,
            "quantity": chosen["quantity"] if chosen else None,
            "fact": _ref(Kind.facts, fact["id"], fact["statement"], fact["url"]),
            "rank": fact["rank"],
            "rank_reason": fact["rank_reason"],
            "reported_on": fact["reported_on"],
            "citations": fact["citations"],
            "alternatives": same_thing.others,
            "alternative_count": same_thing.other_count,
        }

    def _component_of(self, force_id: str) -> str | None:
        # Remembered for the request: a page's waves mostly join the same few forces.
        if force_id not in self._components:
            component = self.connection.execute(COMPONENT_OF, {"id": force_id}).scalar()
            self._components[force_id] = component
        return self._components[force_id]

    def totals(self) -> list[Document]:
        """Per component, the sizes of the waves in place and ordered added up: how many troops
        will be there once the ordered waves arrive. A wave of unknown size counts as zero or
        more, which leaves a lower bound; a single wave needs no total. Each total lists the first
        ``TOTAL_SHOWN`` of its waves, facts and citations, and counts them all."""
        if self.on_postgresql:
            # The planner prices the query's thousands of index lookups high enough to compile it
            # first, which takes longer than running it: at 1000x, 0.28 s with JIT, 0.10 s without.
            self.connection.execute(NO_JIT)
        operand_rows = self.connection.execute(self.total_operands, self.parameters).all()
        if self.on_postgresql:
            self.connection.execute(DEFAULT_JIT)  # for this query only
        by_component: dict[str, list[_Operand]] = defaultdict(list)
        for wave_id, component, standing, fact_id, quantity, citation_count in operand_rows:
            size = Quantity.model_validate(quantity) if standing is not None else None
            by_component[component].append(_Operand(wave_id, fact_id, size, citation_count))
        totals = []
        for component, operands in by_component.items():
            if len(operands) < 2:
                continue
            quantities = [operand.quantity for operand in operands]
            try:
                total = add(quantities, unknown_is_zero_or_more=True, words_shown=TOTAL_SHOWN)
            except ValueError:  # figures of different units (troops, Marines) do not add up
                continue
            if total is None:
                continue
            waves = ", ".join(operand.wave_id for operand in operands[:TOTAL_SHOWN])
            if len(operands) > TOTAL_SHOWN:
                waves += f" and {len(operands) - TOTAL_SHOWN:,} more"
            derived_from = [operand.fact_id for operand in operands if operand.quantity is not None]
            label = component.replace("_", " ")
            totals.append(
                PostureTotal(
                    component=component,
                    name=f"{label} troops at the border once the ordered waves arrive",
                    statuses=list(ARRIVED_STATUSES),
                    quantity=DerivedQuantity(
                        value=total.value,
                        min=total.min,
                        max=total.max,
                        approximate=total.approximate,
                        unit=total.unit,
                        per=total.per,
                        text=total.text,
                        in_words=in_words(total),
                        rule=f"the sizes of the waves in place and ordered added up ({waves}): "
                        f"{total.bounds_rule}",
                        derived_from=derived_from[:TOTAL_SHOWN],
                        derived_from_count=len(derived_from),
                    ),
                    citations=self._first_citations(operands),
                    citation_count=sum(operand.citation_count for operand in operands),
                ).model_dump(mode="json")
            )
        return totals

    def _first_citations(self, operands: Sequence["_Operand"]) -> list[Document]:
        """The first ``TOTAL_SHOWN`` citations of the operands' facts, reading only the facts
        that give them."""
        cited, shown = [], 0
        for operand in operands:
            if shown >= TOTAL_SHOWN:
                break
            cited.append(operand.fact_id)
            shown += operand.citation_count
        rows = self.connection.execute(LISTED_FACTS, {"ids": list(set(cited))})
        facts = {fact_id: orjson.loads(document) for fact_id, document in rows}
        citations = [citation for fact_id in cited for citation in facts[fact_id]["citations"]]
        return citations[:TOTAL_SHOWN]


@dataclass(frozen=True)
class _SameThing:
    """Of the facts about the same thing as a figure's fact, the one that stands (None when none
    may), the first others, and how many others there are."""

    chosen: Document | None
    others: list[Document]
    other_count: int


@dataclass(frozen=True)
class _Operand:
    """One wave's size in a total: the wave, the fact that gives the figure (or, when none gives
    it, the first told about the wave), the figure, and how many citations that fact has."""

    wave_id: str
    fact_id: str
    quantity: Quantity | None
    citation_count: int


def posture_on(
    reading: Reading,
    as_of: dt.date | None,
    *,
    after: tuple[int, str] | None,
    limit: int,
    totals: Totals,
) -> tuple[Document, tuple[int, str] | None]:
    """The posture on ``as_of`` (by default on the day of the newest report), as ``Posture``
    shows it: the figures of up to ``limit`` waves after the wave whose key is ``after``, the
    totals of every wave, and the key of the page's last wave when more follow."""
    day = as_of or newest_report(reading)
    builder = _PostureReader(reading, day)
    page = builder.waves(after=after, limit=limit + 1)
    more = len(page) > limit
    page = page[:limit]

    posture = {
        "as_of": day.isoformat() if day else None,
        "data_version": reading.state.version,
        "figures": builder.figures([wave for wave, _ in page]),
        # Over every wave, so the same on every page: worked out once per version and day, and
        # shared by every request that asks for them (read, never changed).
        "totals": totals.remembered(reading, ("posture totals", day), builder.totals),
        "next": None,
    }
    return posture, page[-1][1] if more and page else None
