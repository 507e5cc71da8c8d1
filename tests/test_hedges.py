"""The hedge check of ``muster check``: a fact or relation firmer than its quotes is refused.

Each test breaks a copy of the seed data the way the audit of issue 16 found it broken (a hedge
word of a quote lost in a structured field) and expects the check to name the file, the line of
the field and the hedge.
"""

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from app.cli import cli
from tests.conftest import ARTICLE_BUNDLE

runner = CliRunner()
Records = list[dict[str, Any]]


def check(path: Path) -> tuple[int, str]:
    result = runner.invoke(cli, ["check", str(path)])
    return result.exit_code, result.output


def rewrite(
    bundle: Path, file_name: str, record_id: str, change: Callable[[dict[str, Any]], None]
) -> Path:
    """Change one record of a bundle's YAML file in place (the file is written again whole)."""
    path = bundle / file_name
    records: Records = yaml.safe_load(path.read_text(encoding="utf-8"))
    change(next(record for record in records if record["id"] == record_id))
    path.write_text(yaml.safe_dump(records, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def line_of_key(path: Path, record_id: str, key: str) -> int:
    """The line of ``key`` (its first occurrence) in the record ``record_id`` of a dumped file."""
    lines = path.read_text(encoding="utf-8").splitlines()
    start = lines.index(f"- id: {record_id}")
    return next(
        number
        for number, row in enumerate(lines[start:], start + 1)
        if row.strip().removeprefix("- ").startswith(f"{key}:")
    )


def set_field(key: str, value: Any) -> Callable[[dict[str, Any]], None]:
    def change(record: dict[str, Any]) -> None:
        record[key] = value

    return change


def test_the_seed_data_passes_without_warnings(seed_copy: Path) -> None:
    result = runner.invoke(cli, ["check", str(seed_copy)])
    assert result.exit_code == 0, result.output
    assert "warning" not in result.output


@pytest.mark.parametrize(
    ("fact_id", "status", "hedge"),
    [
        ("fact-additional-troops-augment-jtf-north", "ordered", "'expected'"),
        (
            "fact-transcom-told-to-prepare-repatriation-flights",
            "planned",
            "'instructed to prepare'",
        ),
        ("fact-ice-back-to-interior", "expected", "'able to'"),
        ("fact-marines-could-climb-to-2500", "reported", "'could'"),
        ("fact-armed-unclear", "possible", "'not clear'"),
    ],
)
def test_a_status_firmer_than_its_quotes_is_refused(
    seed_copy: Path, fact_id: str, status: str, hedge: str
) -> None:
    path = rewrite(seed_copy / ARTICLE_BUNDLE, "facts.yaml", fact_id, set_field("status", status))
    code, output = check(seed_copy)
    assert code == 1
    [message] = [row for row in output.splitlines() if f"{fact_id}: status" in row]
    assert message.startswith(f"{path}:{line_of_key(path, fact_id, 'status')}: ")
    assert f"status '{status}' is firmer than its quotes allow: " in message
    assert hedge in message


def test_one_unhedged_quote_is_enough_for_a_firm_status(seed_copy: Path) -> None:
    """A fact may be as firm as its best-supported quote: one that says "will" is enough."""
    bundle = seed_copy / ARTICLE_BUNDLE

    def cite_a_hedged_quote_too(fact: dict[str, Any]) -> None:
        fact["citations"].append(
            {"quote": "could", "start": 1223, "end": 1228, "attributed_to": "the first official"}
        )

    rewrite(bundle, "facts.yaml", "fact-initial-wave-1500", cite_a_hedged_quote_too)
    code, output = check(seed_copy)
    assert code == 0, output


@pytest.mark.parametrize(
    ("fact_id", "quantity", "key", "reason"),
    [
        (
            "fact-standing-presence-2200",
            {"value": 2200, "approximate": False, "unit": "troops", "text": "roughly 2,200"},
            "approximate",
            "quantity is exact, but its text says 'roughly'",
        ),
        (
            "fact-readiness-request-up-to-10000",
            {"value": 10000, "unit": "troops", "text": "up to 10,000"},
            "value",
            "quantity has a value, but its text says 'up to', a bound: give max instead",
        ),
        (
            "fact-insurrection-act-decision-within-90-days",
            {"value": 90, "unit": "days", "text": "within 90 days"},
            "value",
            "its text says 'within', a bound",
        ),
        (
            "fact-daily-crossings-1100-to-1300",
            {
                "value": 1100,
                "max": 1300,
                "unit": "migrants",
                "per": "day",
                "text": "between 1,100 to 1,300",
            },
            "value",
            "give min and max instead",
        ),
        (
            "fact-insurrection-act-decision-within-90-days",
            {"value": 90, "unit": "days", "text": "90 days"},
            "text",
            "quantity text '90 days' drops 'within'",
        ),
        (
            "fact-marines-could-climb-to-2500",
            {"value": 2500, "unit": "Marines", "text": "climb to 2,500"},
            "text",
            "quantity text 'climb to 2,500' drops 'could'",
        ),
        (
            "fact-marines-could-climb-to-2500",
            {"max": 2500, "unit": "Marines", "text": "could ultimately climb to 2,500"},
            "max",
            "gives no upper bound",
        ),
    ],
)
def test_a_quantity_firmer_than_its_words_is_refused(
    seed_copy: Path, fact_id: str, quantity: dict[str, Any], key: str, reason: str
) -> None:
    path = rewrite(
        seed_copy / ARTICLE_BUNDLE, "facts.yaml", fact_id, set_field("quantity", quantity)
    )
    code, output = check(seed_copy)
    assert code == 1
    [message] = [row for row in output.splitlines() if reason in row]
    assert message.startswith(f"{path}:{line_of_key(path, fact_id, key)}: {fact_id}: ")


def test_a_relation_firmer_than_its_evidence_is_refused(seed_copy: Path) -> None:
    path = rewrite(
        seed_copy / ARTICLE_BUNDLE,
        "waves.yaml",
        "initial-wave",
        set_field("joins_status", "ordered"),
    )
    code, output = check(seed_copy)
    assert code == 1
    line = line_of_key(path, "initial-wave", "joins_status")
    assert (
        f"{path}:{line}: initial-wave: joins_status 'ordered' is firmer than "
        "fact-additional-troops-augment-jtf-north, whose status is 'expected'"
    ) in output


def test_a_relation_needs_its_status_and_evidence(seed_copy: Path) -> None:
    def drop_status(wave: dict[str, Any]) -> None:
        del wave["joins_status"]

    rewrite(seed_copy / ARTICLE_BUNDLE, "waves.yaml", "initial-wave", drop_status)
    code, output = check(seed_copy)
    assert code == 1
    assert "joins, joins_status and joins_fact go together" in output


def test_a_firm_status_needs_its_override(seed_copy: Path) -> None:
    def drop_override(fact: dict[str, Any]) -> None:
        del fact["hedge_override"]

    path = rewrite(seed_copy / ARTICLE_BUNDLE, "facts.yaml", "fact-pushback-reasons", drop_override)
    code, output = check(seed_copy)
    assert code == 1
    line = line_of_key(path, "fact-pushback-reasons", "status")
    assert f"{path}:{line}: fact-pushback-reasons: status 'reported' is firmer" in output
    assert "'could' allows at most 'possible'" in output


def test_an_override_that_excuses_nothing_is_a_warning(seed_copy: Path) -> None:
    def excuse_more(fact: dict[str, Any]) -> None:
        fact["hedge_override"]["hedges"].append("expected")

    path = rewrite(seed_copy / ARTICLE_BUNDLE, "facts.yaml", "fact-pushback-reasons", excuse_more)
    result = runner.invoke(cli, ["check", str(seed_copy)])
    assert result.exit_code == 0
    [warning] = [row for row in result.output.splitlines() if "warning" in row]
    hedges_line = line_of_key(path, "fact-pushback-reasons", "hedges")
    assert warning == (
        f"{path}:{hedges_line + 2}: warning: fact-pushback-reasons: hedge_override names "
        "'expected', which it does not need: remove it"
    )
    assert result.output.splitlines()[-1].startswith("ok: ")


def test_an_override_needs_a_reason(seed_copy: Path) -> None:
    def no_reason(fact: dict[str, Any]) -> None:
        del fact["hedge_override"]["reason"]

    rewrite(seed_copy / ARTICLE_BUNDLE, "facts.yaml", "fact-pushback-reasons", no_reason)
    code, output = check(seed_copy)
    assert code == 1
    assert "hedge_override.reason: Field required" in output
