"""Reported time and valid time: what was known on a day, and what held on it."""

import datetime as dt
from pathlib import Path

from typer.testing import CliRunner

from app.cli import cli
from app.models.common import DateValue
from app.services.as_of import holds_on, last_day, overlap, reported_by
from tests.conftest import ARTICLE_BUNDLE
from tests.data import edit_fact

JAN_22 = dt.date(2025, 1, 22)


def day(iso: str, precision: str = "day") -> DateValue:
    return DateValue.model_validate({"date": iso, "precision": precision})


def test_a_fact_is_known_from_its_report_and_an_undated_one_always() -> None:
    assert not reported_by(JAN_22, dt.date(2025, 1, 21))
    assert reported_by(JAN_22, JAN_22)
    assert reported_by(None, dt.date(1800, 1, 1))


def test_a_coarse_date_ends_with_its_period() -> None:
    assert last_day(day("2025-01-22")) == JAN_22
    assert last_day(day("2025-01-20", "week")) == dt.date(2025, 1, 26)
    assert last_day(day("2024-02-01", "month")) == dt.date(2024, 2, 29)
    assert last_day(day("1878-01-01", "year")) == dt.date(1878, 12, 31)


def test_a_statement_holds_within_its_valid_time_and_open_ends_are_unbounded() -> None:
    window = (day("2025-01-20"), day("2025-04-20"))
    assert holds_on(*window, JAN_22)
    assert not holds_on(*window, dt.date(2025, 4, 21))
    assert not holds_on(*window, dt.date(2025, 1, 19))
    assert holds_on(None, None, dt.date(1900, 1, 1))
    assert holds_on(day("2025-01-22"), None, dt.date(2030, 1, 1))
    assert holds_on(None, day("2025-01-20", "week"), dt.date(2025, 1, 26))


def test_intervals_overlap_when_they_may_share_a_day() -> None:
    assert overlap((day("2025-01-22"), None), (None, day("2025-01-22")))
    assert not overlap((day("2025-01-24"), None), (None, day("2025-01-23")))
    assert overlap((day("2025-01-24"), None), (None, day("2025-01-20", "week")))
    assert overlap((None, None), (day("2025-01-24"), day("2025-01-24")))


def test_check_refuses_a_valid_time_that_ends_before_it_starts(seed_copy: Path) -> None:
    bundle = seed_copy / ARTICLE_BUNDLE
    line = edit_fact(
        bundle,
        "fact-initial-wave-1500",
        valid_from={"date": "2025-01-27"},
        valid_to={"date": "2025-01-20", "precision": "week"},
    )
    result = CliRunner().invoke(cli, ["check", str(seed_copy)])
    assert result.exit_code == 1
    assert f"facts.yaml:{line}: record: Value error, valid_from is after valid_to" in result.output
