"""Ranks: facts about the same thing from several sources are kept side by side, and ``muster
check`` refuses two preferred ones that disagree at the same valid time."""

from pathlib import Path
from typing import Any

import yaml
from typer.testing import CliRunner

from app.cli import cli
from tests.conftest import ARTICLE_BUNDLE
from tests.data import LATER_FACT, add_later_report, edit_fact
from tests.helpers import append_fact

runner = CliRunner()
ARTICLE_FACT = "fact-initial-wave-1500"


def check(path: Path) -> tuple[int, str]:
    result = runner.invoke(cli, ["check", str(path)])
    return result.exit_code, result.output


def test_a_second_source_checks_beside_the_article(seed_copy: Path) -> None:
    add_later_report(seed_copy)
    code, output = check(seed_copy)
    assert code == 0, output
    assert output.startswith("ok: 3 sources")


def test_two_preferred_facts_that_disagree_at_the_same_time_are_refused(seed_copy: Path) -> None:
    later = add_later_report(seed_copy)
    article = seed_copy / ARTICLE_BUNDLE
    article_line = edit_fact(article, ARTICLE_FACT, rank="preferred")
    later_line = edit_fact(later, LATER_FACT)
    rows = (later / "facts.yaml").read_text(encoding="utf-8").splitlines()
    rank_line = next(
        n for n, row in enumerate(rows, 1) if n > later_line and row == "  rank: preferred"
    )
    code, output = check(seed_copy)
    assert code == 1
    [message] = [line for line in output.splitlines() if "preferred" in line]
    # At the line of the rank that makes the two disagree, not the record's first line.
    assert message.startswith(f"{later / 'facts.yaml'}:{rank_line}: {LATER_FACT}: preferred, ")
    assert f"like {ARTICLE_FACT} ({article / 'facts.yaml'}:{article_line})" in message
    assert "troop-strength of initial-wave in troops" in message
    assert "'about 1,600' against 'around 1,500'" in message


def test_preferred_facts_whose_valid_times_do_not_overlap_are_accepted(seed_copy: Path) -> None:
    add_later_report(seed_copy)
    edit_fact(
        seed_copy / ARTICLE_BUNDLE, ARTICLE_FACT, rank="preferred", valid_to={"date": "2025-01-23"}
    )
    code, output = check(seed_copy)
    assert code == 0, output


def test_a_coarse_valid_time_overlaps_every_day_of_its_period(seed_copy: Path) -> None:
    add_later_report(seed_copy)
    until_that_week = {"date": "2025-01-20", "precision": "week"}  # the week holds 2025-01-24
    edit_fact(seed_copy / ARTICLE_BUNDLE, ARTICLE_FACT, rank="preferred", valid_to=until_that_week)
    code, output = check(seed_copy)
    assert code == 1
    assert f"{LATER_FACT}: preferred, like {ARTICLE_FACT}" in output


def test_preferred_facts_that_agree_are_accepted(seed_copy: Path) -> None:
    article = seed_copy / ARTICLE_BUNDLE
    edit_fact(article, ARTICLE_FACT, rank="preferred")
    append_fact(article, {**_fact(article, ARTICLE_FACT), "id": "fact-initial-wave-1500-again"})
    code, output = check(seed_copy)
    assert code == 0, output


def test_preferred_facts_about_different_things_are_accepted(seed_copy: Path) -> None:
    # The initial wave's 500 Marines and its 1,500 troops: the same wave, other units.
    article = seed_copy / ARTICLE_BUNDLE
    edit_fact(article, ARTICLE_FACT, rank="preferred")
    edit_fact(article, "fact-initial-wave-500-marines", rank="preferred")
    code, output = check(seed_copy)
    assert code == 0, output


def test_a_deprecated_fact_needs_its_reason(seed_copy: Path) -> None:
    later = add_later_report(seed_copy)
    line = edit_fact(later, LATER_FACT, rank="deprecated", rank_reason=None)
    code, output = check(seed_copy)
    assert code == 1
    assert f"{later / 'facts.yaml'}:{line}: record: Value error, a deprecated fact needs" in output


def _fact(bundle: Path, fact_id: str) -> dict[str, Any]:
    facts = yaml.safe_load((bundle / "facts.yaml").read_text(encoding="utf-8"))
    [fact] = [fact for fact in facts if fact["id"] == fact_id]
    return dict(fact)
