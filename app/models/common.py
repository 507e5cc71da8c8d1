"""Value types shared by the seed files, the database and the API: the public contracts.

A number is never bare (``Quantity``), a statement never lacks its evidence (``Citation``) and a
date always says how precise it is and, when inferred, how (``DateValue``).
"""

import datetime as dt
import re
from enum import StrEnum
from typing import Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

ID_MAX_CHARACTERS = 80
NAME_MAX_CHARACTERS = 200
"""The longest id and name a record may have. A list sorted by name pages by both, so a cursor
holds them (``app.api.pagination.CURSOR_MAX_CHARACTERS``); and a name is a few words."""


class FactStatus(StrEnum):
    """How firm a statement is, in the article's own terms."""

    reported = "reported"
    ordered = "ordered"
    requested = "requested"
    planned = "planned"
    expected = "expected"
    possible = "possible"
    unclear = "unclear"


class FactKind(StrEnum):
    """What sort of statement a fact is."""

    quantity = "quantity"
    identity = "identity"
    event = "event"
    location = "location"
    role = "role"
    legal_effect = "legal_effect"
    plan = "plan"
    prediction = "prediction"
    open_question = "open_question"
    assessment = "assessment"
    legal_citation = "legal_citation"


class AgencyLevel(StrEnum):
    """Whether an agency is federal or a state's."""

    federal = "federal"
    state = "state"


class Rank(StrEnum):
    """Which of several facts about the same thing to prefer, as Wikidata ranks statements."""

    preferred = "preferred"
    normal = "normal"
    deprecated = "deprecated"


class WaveStatus(StrEnum):
    """Where a wave stands: already at the border, ordered there, or only talked of."""

    in_place = "in_place"
    ordered = "ordered"
    requested = "requested"
    possible = "possible"
    expected = "expected"


class ActivityStatus(StrEnum):
    """Whether troops may do an activity."""

    permitted = "permitted"
    prohibited = "prohibited"
    unclear = "unclear"


class AuthorityKind(StrEnum):
    """What sort of legal instrument an authority is."""

    statute = "statute"
    executive_order = "executive_order"
    declaration = "declaration"
    regulation = "regulation"


class AuthorityEffect(StrEnum):
    """How an authority bears on an activity."""

    permits = "permits"
    prohibits = "prohibits"
    would_permit = "would_permit"


class Component(StrEnum):
    """Active duty forces or the National Guard."""

    active_duty = "active_duty"
    national_guard = "national_guard"


class DatePrecision(StrEnum):
    """How precise a date is; a week, month or year is dated by its first day."""

    day = "day"
    week = "week"
    month = "month"
    year = "year"


class ValueModel(BaseModel):
    """Base of the value types: unknown keys are errors, so a typo in a seed file is caught."""

    # Answers hold every field (null where there is nothing), so the document marks each required.
    model_config = ConfigDict(
        extra="forbid", frozen=True, json_schema_serialization_defaults_required=True
    )


# Words the article uses in place of digits, with the number each stands for. "thousands" is at
# least two thousand; "two days" is two.
NUMBER_WORDS: dict[str, int] = {
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "ten": 10,
    "dozens": 24,
    "hundreds": 200,
    "thousands": 2000,
    "a century": 100,
}


def number_is_written_in(number: int, text: str) -> bool:
    """Whether ``number`` appears in ``text`` as digits (with or without separators) or a word."""
    lowered = text.lower()
    for spelled in (f"{number:,}", str(number)):
        if re.search(rf"(?<![\d,]){re.escape(spelled)}(?![\d,])", lowered):
            return True
    return any(
        value == number and re.search(rf"\b{re.escape(word)}\b", lowered)
        for word, value in NUMBER_WORDS.items()
    )


class Quantity(ValueModel):
    """A number as the source gives it: exact, approximate, a bound or a range, and its words.

    "roughly 2,200" is ``value=2200, approximate=true``; "up to 10,000" is ``max=10000`` with no
    value; "between 1,100 to 1,300 ... daily" is ``min=1100, max=1300, per="day"``.
    """

    value: int | None = Field(None, description="The figure itself, when the source gives one.")
    min: int | None = Field(None, description="Lower bound, inclusive, when the source gives one.")
    max: int | None = Field(None, description="Upper bound, inclusive, when the source gives one.")
    approximate: bool = Field(
        False, description='True for "roughly", "around", "about" and words like "thousands".'
    )
    unit: str = Field(description="What is counted: troops, Marines, guardsmen, migrants, days.")
    per: str | None = Field(None, description='The rate\'s period, e.g. "day" for "daily".')
    text: str = Field(min_length=1, description="The source's own words for the figure.")

    @model_validator(mode="after")
    def _coherent(self) -> Self:
        bounds = [n for n in (self.min, self.value, self.max) if n is not None]
        if not bounds:
            raise ValueError("a quantity needs at least one of value, min or max")
        if bounds != sorted(bounds):
            raise ValueError(
                f"bounds out of order: min={self.min}, value={self.value}, max={self.max} "
                "(need min <= value <= max)"
            )
        missing = [n for n in bounds if not number_is_written_in(n, self.text)]
        if missing:
            raise ValueError(f"{missing[0]} does not appear in the quantity's text {self.text!r}")
        return self


class Citation(ValueModel):
    """A verbatim quote located by code-point offsets: ``source_text[start:end] == quote``."""

    source_id: str = Field(description="The source quoted.", examples=["cnn-2025-01-22"])
    quote: str = Field(min_length=1, description="The source's words, verbatim.")
    start: int = Field(ge=0, description="Offset of the quote's first character in the source.")
    end: int = Field(ge=0, description="Offset just past the quote's last character.")
    attributed_to: str | None = Field(
        None,
        description="Who said it, in the source's words; null where the reporters say it.",
        examples=["officials familiar with the matter"],
    )

    @model_validator(mode="after")
    def _span_matches_quote(self) -> Self:
        if self.end - self.start != len(self.quote):
            raise ValueError(
                f"end - start is {self.end - self.start} "
                f"but the quote has {len(self.quote)} characters"
            )
        return self


class DateValue(ValueModel):
    """A date with its precision and, when inferred from words like "Monday", how it was derived."""

    date: dt.date = Field(
        description="ISO date; for week or month precision, the period's first day."
    )
    precision: DatePrecision = Field(DatePrecision.day, description="How precise the date is.")
    derivation: str | None = Field(
        None,
        description="How the date was worked out from the source's words, when it was inferred.",
        examples=['"Monday" before publication on Wednesday 2025-01-22'],
    )
    latest: dt.date | None = Field(
        None,
        description="For a date the source gives as a window of days rather than one day or a "
        "whole week, month or year: the window's last day (``date`` is its first). "
        '"Earlier this week" in an article of Wednesday 2025-01-22 is 2025-01-20 to 2025-01-21.',
        examples=["2025-01-21"],
    )

    @model_validator(mode="after")
    def _window_of_days(self) -> Self:
        if self.latest is not None:
            if self.precision is not DatePrecision.day:
                raise ValueError("latest (a window of days) needs precision day")
            if self.latest <= self.date:
                raise ValueError(f"latest {self.latest} is not after date {self.date}")
        return self


class RaisedBy(StrEnum):
    """Who raises a statement: the source, or Muster's editors noting what the source leaves out."""

    source = "source"
    muster = "muster"


class HedgeOverride(ValueModel):
    """A reasoned exception to the hedge check: a fact whose status or figure is firmer than a
    hedge word in its quotes, on purpose, and why."""

    hedges: list[str] = Field(
        min_length=1,
        description="The hedge words of the quotes that the fact is firmer than, as the check "
        "names them.",
        examples=[["could"]],
    )
    reason: str = Field(
        min_length=1,
        description="Why the fact is firmer than those words, in plain words.",
        examples=["The fact is the officials' belief, reported as held; 'could' is inside it."],
    )
