"""The deployment as known on a day: every wave's figures as the sources rank them, and the
totals they imply.

A figure is chosen among the facts about the same thing (the same subject, property and unit,
``quantities.measure``) that were reported by the day and hold on it: a preferred fact over
normal ones, then the newest report, then the fact the wave itself names. Deprecated facts are
never chosen. The facts not chosen are listed beside the figure, never merged into it.
"""

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from typing import Literal

import orjson
from sqlalchemy import text

from app.models.common import Quantity, WaveStatus
from app.models.kinds import Kind
from app.models.public import (
    DerivedQuantity,
    FactPublic,
    Posture,
    PostureFigure,
    PostureTotal,
    Ref,
    WaveDetail,
)
from app.services.quantities import add, in_words
from app.services.records import KNOWN_ON, Totals, wave_known_on
from app.services.store import Reading

STATUS_ORDER = [status.value for status in WaveStatus]
# The totals: waves of these statuses added up, per component.
ARRIVED_STATUSES = (WaveStatus.in_place, WaveStatus.ordered)


NEWEST_REPORT = text("SELECT max(reported_on) FROM facts")
STATUS_RANK = (
    "CASE status "
    + " ".join(f"WHEN '{status}' THEN {rank}" for rank, status in enumerate(STATUS_ORDER))
    + " END"
)
# Waves in the posture's order: by status (in place first), then id; a page after a wave's key.
WAVES = (
    f"SELECT detailed, {STATUS_RANK} AS status_rank, id FROM waves{{where}} "
    "ORDER BY status_rank, id{limit}"
)
ALTERNATIVES_SHOWN = 20
"""How many of the other facts about the same thing a figure lists (``alternative_count``
says how many there are)."""
HOLDS_ON = (
    "(facts.holds_from IS NULL OR facts.holds_from <= :day) "
    "AND (facts.holds_until IS NULL OR facts.holds_until >= :day)"
)
FIRST_TOLD = (
    "SELECT facts.listed FROM fact_about JOIN facts ON facts.id = fact_about.fact_id "
    "WHERE fact_about.entity_id = :wave AND fact_about.position = 0{known} "
    "ORDER BY fact_about.told_at LIMIT 1"
)
# The facts about the same thing as the fact ``:named`` (its measure), known and holding on the
# day: the one that stands
# (never a deprecated one; preferred over normal, then the newest report, then the one the wave
# names, then the first told), and the others, first told first, and how many they are.
SAME_THING = "FROM facts WHERE facts.measure = (SELECT measure FROM facts WHERE id = :named){known}"
STANDING = (
    "SELECT facts.listed {same} AND facts.rank != 'deprecated' "
    "ORDER BY CASE facts.rank WHEN 'preferred' THEN 0 ELSE 1 END, facts.reported_on IS NULL, "
    "facts.reported_on DESC, CASE WHEN facts.id = :named THEN 0 ELSE 1 END, facts.told_at LIMIT 1"
)
OTHERS = "SELECT facts.listed {same} AND facts.id != :chosen ORDER BY facts.told_at LIMIT :limit"
OTHERS_COUNT = "SELECT count(*) {same} AND facts.id != :chosen"
COMPONENT_OF = text("SELECT component FROM forces WHERE id = :id")


def newest_report(reading: Reading) -> dt.date | None:
    """The day of the newest report in the data: the default day of a posture."""
    day = reading.connection.execute(NEWEST_REPORT).scalar()
    return dt.date.fromisoformat(day) if isinstance(day, str) else day


def _fact(document: str) -> FactPublic:
    return FactPublic.model_validate(orjson.loads(document))


class _PostureReader:
    """The posture's figures and totals from the facts known on a day and holding on it."""

    def __init__(self, reading: Reading, day: dt.date | None) -> None:
        self.connection = reading.connection
        self.day = day
        # Without a day (no dated report at all), every fact is known and holds.
        on_the_day = f" AND {KNOWN_ON} AND {HOLDS_ON}" if day else ""
        self.first_told = text(FIRST_TOLD.format(known=f" AND {KNOWN_ON}" if day else ""))
        same = SAME_THING.format(known=on_the_day)
        self.standing = text(STANDING.format(same=same))
        self.others = text(OTHERS.format(same=same))
        self.others_count = text(OTHERS_COUNT.format(same=same))
        self.parameters = {"as_of": day.isoformat(), "day": day.isoformat()} if day else {}
        self._components: dict[str, str | None] = {}

    def waves(
        self, *, after: tuple[int, str] | None, limit: int | None, arrived_only: bool = False
    ) -> list[tuple[WaveDetail, tuple[int, str]]]:
        """Up to ``limit`` waves (every one when None) after the one whose key is ``after``, as
        known on the day, each with its key."""
        conditions: list[str] = []
        parameters: dict[str, object] = {"limit": limit}
        if after is not None:
            conditions.append(f"({STATUS_RANK}, id) > (:after_rank, :after_id)")
            parameters |= {"after_rank": after[0], "after_id": after[1]}
        if arrived_only:
            conditions.append("status IN ('in_place', 'ordered')")
        where = f" WHERE {' AND '.join(conditions)}" if conditions else ""
        waves = []
        sql = WAVES.format(where=where, limit=" LIMIT :limit" if limit is not None else "")
        rows = self.connection.execute(text(sql), parameters)
        for document, rank, wave_id in rows:
            data = orjson.loads(document)
            if self.day is not None:
                wave_known_on(self.connection, data, self.day.isoformat())
            waves.append((WaveDetail.model_validate(data), (rank, wave_id)))
        return waves

    def figures(
        self, waves: Sequence[WaveDetail], *, sizes_only: bool = False
    ) -> list[PostureFigure]:
        figures = []
        for wave in waves:
            told = self.connection.execute(
                self.first_told, {"wave": wave.id, **self.parameters}
            ).scalar()
            if told is None:
                continue  # not reported yet
            size_fact = wave.size_fact.id if wave.size_fact else None
            shares = [member for member in wave.composition if member.fact.id != size_fact]
            # A wave of one force, whose size is that force's, counts that force.
            whole = [member.force for member in wave.composition if member.fact.id == size_fact]
            force = wave.joins or (whole[0] if whole else None)
            # A wave that joins a force counts under it only as firmly as the tie is stated.
            tie = wave.joins_status if wave.joins else None
            figures.append(
                self._figure(wave, "size", force, size_fact, told, tie, alternatives=not sizes_only)
            )
            if sizes_only:
                continue
            figures += [
                self._figure(wave, "share", member.force, member.fact.id, told) for member in shares
            ]
        return figures

    def _figure(
        self,
        wave: WaveDetail,
        part: Literal["size", "share"],
        force: Ref | None,
        named: str | None,
        first_told: str,
        tie_status: str | None = None,
        *,
        alternatives: bool = True,
    ) -> PostureFigure:
        """One figure; ``first_told`` is the document of the first fact told about the wave, the
        figure's fact when none stands. ``tie_status`` is how firm the wave's tie to ``force``
        is, when the force is the one it joins, and otherwise the status of the fact that gives
        the figure. Without ``alternatives`` (for the totals) the other facts are not read."""
        chosen, others, other_count = None, [], 0
        if named is not None:
            same = {"named": named, **self.parameters}
            standing = self.connection.execute(self.standing, same).scalar()
            chosen = _fact(standing) if standing else None
            same["chosen"] = chosen.id if chosen else ""
            if alternatives:
                others = [
                    _fact(document)
                    for (document,) in self.connection.execute(
                        self.others, {**same, "limit": ALTERNATIVES_SHOWN}
                    )
                ]
                other_count = int(self.connection.execute(self.others_count, same).scalar_one())
        fact = chosen or _fact(first_told)
        component = self._component_of(force.id) if force else None
        return PostureFigure(
            component=component,
            status=wave.status,
            wave=Ref(id=wave.id, kind=Kind.waves, name=wave.name, url=wave.url),
            force=force,
            force_status=(tie_status or fact.status) if force else None,
            part=part,
            quantity=chosen.quantity if chosen else None,
            fact=Ref(id=fact.id, kind=Kind.facts, name=fact.statement, url=fact.url),
            rank=fact.rank,
            rank_reason=fact.rank_reason,
            reported_on=fact.reported_on,
            citations=fact.citations,
            alternatives=others,
            alternative_count=other_count,
        )

    def _component_of(self, force_id: str) -> str | None:
        # Remembered for the request: the totals ask it of every arrived wave, mostly of the same
        # few forces the waves join.
        if force_id not in self._components:
            component = self.connection.execute(COMPONENT_OF, {"id": force_id}).scalar()
            self._components[force_id] = component
        return self._components[force_id]

    def totals(self, figures: Sequence[PostureFigure]) -> list[PostureTotal]:
        """Per component, the sizes of the waves in place and ordered added up: how many troops
        will be there once the ordered waves arrive. A wave of unknown size counts as zero or
        more, which leaves a lower bound; a single wave needs no total."""
        by_component: dict[str, list[PostureFigure]] = defaultdict(list)
        for figure in figures:
            if figure.part == "size" and figure.component and figure.status in ARRIVED_STATUSES:
                by_component[figure.component].append(figure)
        totals = []
        for component, operands in by_component.items():
            if len(operands) < 2:
                continue
            quantities: list[Quantity | None] = [figure.quantity for figure in operands]
            try:
                total = add(quantities, unknown_is_zero_or_more=True)
            except ValueError:  # figures of different units (troops, Marines) do not add up
                continue
            if total is None:
                continue
            waves = ", ".join(figure.wave.id for figure in operands)
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
                        derived_from=[
                            figure.fact.id for figure in operands if figure.quantity is not None
                        ],
                    ),
                    citations=[c for figure in operands for c in figure.citations],
                )
            )
        return totals


def posture_on(
    reading: Reading,
    as_of: dt.date | None,
    *,
    after: tuple[int, str] | None,
    limit: int,
    totals: Totals,
) -> tuple[Posture, tuple[int, str] | None]:
    """The posture on ``as_of`` (by default on the day of the newest report): the figures of up
    to ``limit`` waves after the wave whose key is ``after``, the totals of every wave, and the
    key of the page's last wave when more follow."""
    day = as_of or newest_report(reading)
    builder = _PostureReader(reading, day)
    page = builder.waves(after=after, limit=limit + 1)
    more = len(page) > limit
    page = page[:limit]

    def every_total() -> list[PostureTotal]:
        arrived = builder.waves(after=None, limit=None, arrived_only=True)
        return builder.totals(builder.figures([wave for wave, _ in arrived], sizes_only=True))

    posture = Posture(
        as_of=day,
        data_version=reading.state.version,
        figures=builder.figures([wave for wave, _ in page]),
        # Over every wave, so the same on every page: worked out once per version and day.
        totals=totals.remembered(reading, ("posture totals", day), every_total),
        next=None,
    )
    return posture, page[-1][1] if more and page else None
