"""The two times of a fact: when it was reported, and when what it says holds.

Reported time answers "what did the sources say by this day?": a fact is known from its earliest
source's publication date (``reported_on``). A fact whose sources carry no date, such as the
us-code reference citations, is reference knowledge and known on every day.

Valid time answers "when is it true?": ``valid_from`` and ``valid_to`` bound the days the
statement holds, either end open. A coarse date ("this week") or a window of days ("earlier
this week": Monday or Tuesday) stands for its whole period, so a statement counts as holding on
every day its period could include.
"""

import calendar
import datetime as dt

from app.models.common import DatePrecision, DateValue


def reported_by(reported_on: dt.date | None, day: dt.date) -> bool:
    """Whether a fact first reported on ``reported_on`` was known on ``day``."""
    return reported_on is None or reported_on <= day


def last_day(date: DateValue) -> dt.date:
    """The last day of the period a date stands for: itself, its window's last day, its week,
    month or year."""
    if date.latest is not None:
        return date.latest
    day = date.date
    match date.precision:
        case DatePrecision.day:
            return day
        case DatePrecision.week:
            return day + dt.timedelta(days=6)
        case DatePrecision.month:
            return day.replace(day=calendar.monthrange(day.year, day.month)[1])
        case DatePrecision.year:
            return day.replace(month=12, day=31)


def _interval(valid_from: DateValue | None, valid_to: DateValue | None) -> tuple[dt.date, dt.date]:
    return (
        valid_from.date if valid_from else dt.date.min,
        last_day(valid_to) if valid_to else dt.date.max,
    )


def holds_on(valid_from: DateValue | None, valid_to: DateValue | None, day: dt.date) -> bool:
    """Whether a statement valid from ``valid_from`` to ``valid_to`` may hold on ``day``."""
    start, end = _interval(valid_from, valid_to)
    return start <= day <= end


def overlap(
    first: tuple[DateValue | None, DateValue | None],
    second: tuple[DateValue | None, DateValue | None],
) -> bool:
    """Whether two (valid_from, valid_to) intervals may share a day."""
    first_start, first_end = _interval(*first)
    second_start, second_end = _interval(*second)
    return first_start <= second_end and second_start <= first_end
