"""The hedge check: no fact or relation firmer than the words of its quotes.

A source hedges: troops "are expected to" go, a command was "instructed to prepare", a number
"could ultimately climb to" a figure, a figure is "roughly" or "up to" one. When a statement
becomes structured fields, the hedge is easy to lose: a ``status`` of ``planned`` for an order to
prepare, a ``value`` for "up to". This module keeps the vocabulary of hedges, each with how firm
a statement it allows, and says where a fact's fields are firmer than its quotes.

What is refused (an error, so ``muster check`` and ``muster load`` fail):

- a fact whose ``status`` is firmer than every one of its quotes allows: each quote allows the
  firmness of its weakest hedge (a quote with none allows any status), and the fact may be as
  firm as its best-supported quote;
- a quantity whose ``text`` drops a hedge that comes just before it in the quote ("could
  ultimately" before "climb to 2,500");
- a quantity firmer than its text: an exact ``value`` where the text says "up to", "within",
  "more than" or "between"; ``approximate: false`` where it says "roughly" or "around"; a
  ``max`` or ``min`` where the text gives no such bound;
- a wave's ``joins_status`` firmer than its ``joins_fact``'s status or quotes.

A fact may be firmer than a hedge on purpose: ``hedge_override`` names the hedges and says why,
and the API shows both. What is only a warning (reported, nothing refused): an override that
names a hedge it does not need, since it excuses nothing and would hide a later mistake.
"""

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from enum import IntEnum

from app.ingest.bundle import FactRecord, WaveRecord
from app.models.common import NUMBER_WORDS, FactStatus, Quantity


class Firmness(IntEnum):
    """How firm a statement is, weakest first; each status has one."""

    unclear = 1
    possible = 2
    expected = 3
    requested = 4
    planned = 5
    stated = 6  # reported or ordered: said to be so


FIRMNESS: dict[FactStatus, Firmness] = {
    FactStatus.unclear: Firmness.unclear,
    FactStatus.possible: Firmness.possible,
    FactStatus.expected: Firmness.expected,
    FactStatus.requested: Firmness.requested,
    FactStatus.planned: Firmness.planned,
    FactStatus.reported: Firmness.stated,
    FactStatus.ordered: Firmness.stated,
}


@dataclass(frozen=True)
class Hedge:
    """A hedge word or phrase, as the check and ``hedge_override`` name it."""

    name: str
    pattern: re.Pattern[str]
    allows: Firmness


def _hedge(name: str, pattern: str, allows: Firmness, *, any_case: bool = True) -> Hedge:
    return Hedge(name, re.compile(pattern, re.IGNORECASE if any_case else 0), allows)


STATUS_HEDGES: tuple[Hedge, ...] = (
    _hedge("not clear", r"\b(?:not (?:yet )?clear|unclear)\b", Firmness.unclear),
    _hedge("could", r"\bcould\b", Firmness.possible),
    # Lower case only: "May" may be the month.
    _hedge("may", r"\bmay\b", Firmness.possible, any_case=False),
    _hedge("might", r"\bmight\b", Firmness.possible),
    _hedge("able to", r"\bable to\b", Firmness.possible),
    _hedge("possibly", r"\bpossibl[ey]\b", Firmness.possible),
    _hedge("don't be surprised if", r"\bdon[\u2019']t be surprised if\b", Firmness.possible),
    _hedge("expected", r"\bexpect(?:s|ed|ing)?\b", Firmness.expected),
    _hedge("likely", r"\blikely\b", Firmness.expected),
    # "asked the military ... to be prepared to deploy": a readiness asked for, not an order.
    _hedge("prepared to", r"\bprepared? to\b", Firmness.requested),
    _hedge("instructed to prepare", r"\binstructed to prepare\b", Firmness.requested),
)
# Of the status hedges, those that qualify a number when they come just before it.
MODAL_HEDGES = tuple(h for h in STATUS_HEDGES if h.name in {"could", "may", "might"})


@dataclass(frozen=True)
class QuantityHedge:
    name: str
    pattern: re.Pattern[str]


def _words(*names: str) -> tuple[QuantityHedge, ...]:
    return tuple(
        QuantityHedge(name, re.compile(rf"\b{re.escape(name)}\b", re.IGNORECASE)) for name in names
    )


APPROXIMATE = _words("roughly", "around", "about", "approximately", "nearly", "almost", "some")
UPPER_BOUND = _words("up to", "within", "at most", "as many as", "no more than", "fewer than")
LOWER_BOUND = _words("more than", "at least", "over")
RANGE = _words("between")
QUANTITY_HEDGES = APPROXIMATE + UPPER_BOUND + LOWER_BOUND + RANGE
# "thousands" is at least two thousand: a number word gives a lower bound by itself.
BOUNDING_NUMBER_WORDS = _words(*(word for word in NUMBER_WORDS if word.endswith("s")))


@dataclass(frozen=True)
class Finding:
    """One thing the check says about a record: where (a field), what, and which hedges."""

    where: tuple[int | str, ...]
    message: str
    hedges: frozenset[str]


def hedges_in(quote: str) -> list[Hedge]:
    return [hedge for hedge in STATUS_HEDGES if hedge.pattern.search(quote)]


def allowed_by(quote: str, excused: Iterable[str] = ()) -> tuple[Firmness, list[Hedge]]:
    """The firmest status ``quote`` allows, and the hedges that bound it."""
    hedges = [hedge for hedge in hedges_in(quote) if hedge.name not in set(excused)]
    if not hedges:
        return Firmness.stated, []
    weakest = min(hedge.allows for hedge in hedges)
    return weakest, [hedge for hedge in hedges if hedge.allows == weakest]


def _firmest(firmness: Firmness) -> str:
    """The statuses of exactly that firmness: "requested", "reported or ordered"."""
    return " or ".join(repr(status.value) for status, f in FIRMNESS.items() if f == firmness)


def _status_findings(
    status: FactStatus, quotes: list[str], where: tuple[int | str, ...], excused: frozenset[str]
) -> Iterator[Finding]:
    best = max((allowed_by(quote, excused) for quote in quotes), key=lambda found: found[0])
    firmness, bounding = best
    if FIRMNESS[status] <= firmness:
        return
    names = sorted({hedge.name for hedge in bounding})
    said = " and ".join(repr(name) for name in names)
    yield Finding(
        where,
        f"status {status.value!r} is firmer than its quotes allow: {said} "
        f"allow{'s' if len(names) == 1 else ''} at most {_firmest(firmness)}; weaken the "
        "status, or give a hedge_override naming the hedge and why",
        frozenset(names),
    )


def _found(hedges: Iterable[QuantityHedge], text: str) -> list[str]:
    return [hedge.name for hedge in hedges if hedge.pattern.search(text)]


def _quantity_findings(quantity: Quantity, quotes: list[str]) -> Iterator[Finding]:
    where: tuple[int | str, ...] = ("quantity",)
    text = quantity.text
    quote = next((quote for quote in quotes if text in quote), None)
    if quote is not None:
        # The two words before the figure: "could ultimately" in "could ultimately climb to".
        before = " ".join(quote[: quote.index(text)].split()[-2:])
        dropped = [h.name for h in MODAL_HEDGES if h.pattern.search(before)]
        dropped += _found(QUANTITY_HEDGES, before)
        dropped = [name for name in dropped if not re.search(rf"\b{name}\b", text, re.I)]
        if dropped:
            yield Finding(
                (*where, "text"),
                f"quantity text {text!r} drops {', '.join(map(repr, dropped))}, which comes just "
                f"before it in the quote ({before!r}): keep the hedge in text",
                frozenset(dropped),
            )
    approximate, upper, lower = (
        _found(APPROXIMATE, text),
        _found(UPPER_BOUND, text),
        _found(LOWER_BOUND, text),
    )
    ranged = _found(RANGE, text)
    if approximate and not quantity.approximate:
        yield Finding(
            (*where, "approximate"),
            f"quantity is exact, but its text says {approximate[0]!r}: set approximate: true",
            frozenset(approximate),
        )
    bounds = upper + lower + ranged
    if bounds and quantity.value is not None:
        yield Finding(
            (*where, "value"),
            f"quantity has a value, but its text says {bounds[0]!r}, a bound: give "
            f"{'min and max' if ranged else 'max' if upper else 'min'} instead",
            frozenset(bounds),
        )
    if quantity.max is not None and not (upper or ranged):
        yield Finding(
            (*where, "max"),
            f"quantity has a max, but its text {text!r} gives no upper bound (such as 'up to' "
            "or 'within'): a possible figure is a value with a status of possible",
            frozenset(),
        )
    if quantity.min is not None and not (lower or ranged or _found(BOUNDING_NUMBER_WORDS, text)):
        yield Finding(
            (*where, "min"),
            f"quantity has a min, but its text {text!r} gives no lower bound (such as 'more "
            "than' or 'at least')",
            frozenset(),
        )


def check_fact(fact: FactRecord, quotes: list[str]) -> tuple[list[Finding], list[Finding]]:
    """The errors and the warnings of the hedge check for one fact with its quotes."""
    override = fact.hedge_override
    excused = frozenset(override.hedges if override else ())

    def findings(excusing: frozenset[str]) -> list[Finding]:
        found = list(_status_findings(fact.status, quotes, ("status",), excusing))
        if fact.quantity is not None:
            found += [
                finding
                for finding in _quantity_findings(fact.quantity, quotes)
                if not (finding.hedges and finding.hedges <= excusing)
            ]
        return found

    errors = findings(excused)
    warnings = [
        Finding(
            ("hedge_override", "hedges", index),
            f"hedge_override names {name!r}, which it does not need: remove it",
            frozenset({name}),
        )
        for index, name in enumerate(override.hedges if override else [])
        if len(findings(excused - {name})) == len(errors)
    ]
    return errors, warnings


def check_relation(wave: WaveRecord, evidence: FactRecord, quotes: list[str]) -> list[Finding]:
    """Errors for a wave's tie to the force it joins, if firmer than the fact that gives it."""
    if wave.joins_status is None:
        return []
    where: tuple[int | str, ...] = ("joins_status",)
    if FIRMNESS[wave.joins_status] > FIRMNESS[evidence.status]:
        return [
            Finding(
                where,
                f"joins_status {wave.joins_status.value!r} is firmer than {evidence.id}, "
                f"whose status is {evidence.status.value!r}",
                frozenset(),
            )
        ]
    found = list(_status_findings(wave.joins_status, quotes, where, frozenset()))
    return [
        Finding(where, f"joins_{finding.message} ({evidence.id})", finding.hedges)
        for finding in found
    ]
