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

from app.models.common import Quantity, Rank, WaveStatus
from app.models.public import (
    DerivedQuantity,
    FactPublic,
    Posture,
    PostureFigure,
    PostureTotal,
    Ref,
    WaveDetail,
)
from app.services.as_of import holds_on
from app.services.quantities import Measure, add, in_words, measure
from app.services.snapshot import Snapshot

STATUS_ORDER = [status.value for status in WaveStatus]
# The totals: waves of these statuses added up, per component.
ARRIVED_STATUSES = (WaveStatus.in_place, WaveStatus.ordered)


def newest_report(snapshot: Snapshot) -> dt.date | None:
    """The day of the newest report in the data: the default day of a posture."""
    return max((fact.reported_on for fact in snapshot.facts if fact.reported_on), default=None)


def _measure_of(fact: FactPublic) -> Measure | None:
    return measure(fact.about[0].id, fact.property, fact.quantity)


def _choose(candidates: Sequence[FactPublic], named: str | None) -> FactPublic | None:
    """The fact whose figure stands: preferred over normal, then the newest report, then the
    one the wave names; never a deprecated one."""
    usable = [fact for fact in candidates if fact.rank != Rank.deprecated]
    pool = [fact for fact in usable if fact.rank == Rank.preferred] or usable
    if not pool:
        return None
    return max(pool, key=lambda fact: (fact.reported_on or dt.date.min, fact.id == named))


class _PostureBuilder:
    """The posture's figures and totals from the facts known on a day and holding on it."""

    def __init__(self, snapshot: Snapshot, day: dt.date | None) -> None:
        self.view = snapshot.known_on(day)
        holding = [
            fact
            for fact in self.view.facts
            if day is None or holds_on(fact.valid_from, fact.valid_to, day)
        ]
        self.same_thing: dict[Measure, list[FactPublic]] = defaultdict(list)
        for fact in holding:
            key = _measure_of(fact)
            if key is not None:
                self.same_thing[key].append(fact)

    def figures(self) -> list[PostureFigure]:
        waves = sorted(self.view.waves, key=lambda w: (STATUS_ORDER.index(w.status), w.id))
        figures = []
        for wave in waves:
            told = [fact for fact in wave.facts if fact.about[0].id == wave.id]
            if not told:
                continue  # not reported yet
            size_fact = wave.size_fact.id if wave.size_fact else None
            shares = [member for member in wave.composition if member.fact.id != size_fact]
            # A wave of one force, whose size is that force's, counts that force.
            whole = [member.force for member in wave.composition if member.fact.id == size_fact]
            force = wave.joins or (whole[0] if whole else None)
            figures.append(self._figure(wave, "size", force, size_fact, told[0]))
            figures += [
                self._figure(wave, "share", member.force, member.fact.id, told[0])
                for member in shares
            ]
        return figures

    def _figure(
        self,
        wave: WaveDetail,
        part: Literal["size", "share"],
        force: Ref | None,
        named: str | None,
        first_told: FactPublic,
    ) -> PostureFigure:
        key = _measure_of(self.view.facts.by_id[named]) if named else None
        candidates = self.same_thing.get(key, []) if key else []
        chosen = _choose(candidates, named)
        fact = chosen or first_told
        return PostureFigure(
            component=self.view.forces.by_id[force.id].component if force else None,
            status=wave.status,
            wave=self.view.refs[wave.id],
            force=force,
            part=part,
            quantity=chosen.quantity if chosen else None,
            fact=self.view.refs[fact.id],
            rank=fact.rank,
            rank_reason=fact.rank_reason,
            reported_on=fact.reported_on,
            citations=fact.citations,
            alternatives=[other for other in candidates if other is not chosen],
        )

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


def posture_on(snapshot: Snapshot, as_of: dt.date | None) -> Posture:
    """The posture on ``as_of``, by default on the day of the newest report."""
    day = as_of or newest_report(snapshot)
    builder = _PostureBuilder(snapshot, day)
    figures = builder.figures()
    return Posture(
        as_of=day,
        data_version=snapshot.version,
        figures=figures,
        totals=builder.totals(figures),
    )
