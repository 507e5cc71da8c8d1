"""Adding up quantities as the sources give them, without claiming more than they say.

A quantity is read as bounds: a value is its own lower and upper bound, ``min`` and ``max`` are
one bound each. A sum's lower bound is the sum of the operands' lower bounds, its upper bound the
sum of their upper bounds, and each is known only when every operand has one. So:

- exact + exact is exact; approximate + anything is approximate;
- a range + a range is a range;
- a figure with only a maximum ("up to 10,000") has no lower bound, so the sum keeps only a
  maximum; one with only a minimum ("thousands") keeps only a minimum;
- an unknown figure makes the sum unknown, unless the caller counts it as "zero or more", which
  leaves only a lower bound.

These functions are pure: they neither read the data nor know where the figures come from.
"""

from collections.abc import Sequence
from dataclasses import dataclass

from app.models.common import Quantity

UNKNOWN_TEXT = "an unknown number"


@dataclass(frozen=True)
class Sum:
    """The sum of some quantities, in the shape of a Quantity, with the reason for its bounds."""

    value: int | None
    min: int | None
    max: int | None
    approximate: bool
    unit: str
    per: str | None
    text: str
    """The operands' own words joined by " + ", e.g. "roughly 2,200 + around 1,500"."""
    bounds_rule: str
    """Why the sum is exact, approximate or only bounded, in words."""


def _lower(quantity: Quantity) -> int | None:
    return quantity.min if quantity.min is not None else quantity.value


def _upper(quantity: Quantity) -> int | None:
    return quantity.max if quantity.max is not None else quantity.value


def _total(numbers: Sequence[int | None]) -> int | None:
    return None if any(n is None for n in numbers) else sum(n for n in numbers if n is not None)


def _listed(texts: Sequence[str], shown: int | None) -> str:
    if shown is not None and len(texts) > shown:
        return ", ".join(texts[:shown]) + f" and {len(texts) - shown:,} more"
    return texts[0] if len(texts) == 1 else ", ".join(texts[:-1]) + " and " + texts[-1]


def _joined(texts: Sequence[str], shown: int | None) -> str:
    if shown is not None and len(texts) > shown:
        return " + ".join(texts[:shown]) + f" + {len(texts) - shown:,} more"
    return " + ".join(texts)


def add(
    operands: Sequence[Quantity | None],
    *,
    unknown_is_zero_or_more: bool = False,
    words_shown: int | None = None,
) -> Sum | None:
    """The sum of ``operands``, or None when it is unknown.

    An unknown operand (None) makes the sum unknown; with ``unknown_is_zero_or_more`` it counts
    as zero or more instead, which leaves the sum a lower bound. Operands must count the same
    unit per the same period. With ``words_shown``, ``text`` and ``bounds_rule`` quote at most
    that many operands' words each and say how many more there are, so their length is bounded
    however many operands there are.
    """
    if not operands:
        raise ValueError("nothing to add")
    known = [quantity for quantity in operands if quantity is not None]
    unknowns = len(operands) - len(known)
    if not known or (unknowns and not unknown_is_zero_or_more):
        return None
    kinds = {(quantity.unit, quantity.per) for quantity in known}
    if len(kinds) > 1:
        raise ValueError(f"cannot add figures of different units: {sorted(map(str, kinds))}")
    lowers = [_lower(quantity) for quantity in known] + [0] * unknowns
    uppers = [_upper(quantity) for quantity in known] + [None] * unknowns
    value = _total([quantity.value for quantity in known] + [None] * unknowns)
    low, high = _total(lowers), _total(uppers)
    if value is None and low is None and high is None:
        return None
    [(unit, per)] = kinds
    texts = [quantity.text for quantity in known] + [UNKNOWN_TEXT] * unknowns
    reasons = []
    approximate = [quantity.text for quantity in known if quantity.approximate]
    if approximate:
        verb = "is" if len(approximate) == 1 else "are"
        reasons.append(
            f"approximate, because {_listed(approximate, words_shown)} {verb} approximate"
        )
    if low is None:
        without = [quantity.text for quantity in known if _lower(quantity) is None]
        reasons.append(f"no minimum, because {_listed(without, words_shown)} gives none")
    if high is None:
        without = [quantity.text for quantity in known if _upper(quantity) is None]
        without += [UNKNOWN_TEXT] * unknowns
        reasons.append(f"no maximum, because {_listed(without, words_shown)} gives none")
    if value is None and low is not None and high is not None:
        reasons.append("a range: the lower bounds add up to its minimum, the upper to its maximum")
    return Sum(
        value=value,
        # A bound equal to the value adds nothing: 500 + 1,500 is 2,000, not "2,000 to 2,000".
        min=low if low != value else None,
        max=high if high != value else None,
        approximate=bool(approximate),
        unit=unit,
        per=per,
        text=_joined(texts, words_shown),
        bounds_rule="; ".join(reasons) or "exact, because every figure is exact",
    )


def in_words(total: Sum) -> str:
    """The sum as a reader would say it: "roughly 3,700", "up to 12,200", "at least 2,200"."""
    roughly = "roughly " if total.approximate else ""
    if total.value is not None:
        words = f"{roughly}{total.value:,}"
    elif total.min is not None and total.max is not None:
        words = f"{roughly}{total.min:,} to {total.max:,}"
    elif total.max is not None:
        words = f"up to {roughly}{total.max:,}"
    else:
        words = f"at least {roughly}{total.min:,}"
    return f"{words} {total.unit}" + (f" per {total.per}" if total.per else "")


# What a figure measures: (subject, property, unit, per). Facts with the same measure are about
# the same thing, "the initial wave's troop strength in troops", and are kept side by side.
Measure = tuple[str, str, str, str | None]


def measure(subject: str, property: str | None, quantity: Quantity | None) -> Measure | None:
    """The measure of a fact's figure; None for a fact that gives no figure of a property."""
    if property is None or quantity is None:
        return None
    return (subject, property, quantity.unit, quantity.per)


def disagree(first: Quantity, second: Quantity) -> bool:
    """Whether two figures of the same measure give different numbers (words aside)."""
    return (first.value, first.min, first.max) != (second.value, second.min, second.max)
