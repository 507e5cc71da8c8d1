"""Test data: an invented second source (see README.md here) and helpers to vary it."""

import shutil
from pathlib import Path
from typing import Any

import yaml

LATER_REPORT = Path(__file__).resolve().parent / "later-report"
LATER_FACT = "fact-test-initial-wave-1600"


def add_later_report(bundles: Path) -> Path:
    """Copy the invented later report into a folder of bundles; return its copy."""
    return Path(shutil.copytree(LATER_REPORT, bundles / LATER_REPORT.name))


def edit_fact(bundle: Path, fact_id: str, **fields: Any) -> int:
    """Set (or, with None, remove) fields of one fact in a bundle's facts.yaml; return the line
    its record starts on."""
    path = bundle / "facts.yaml"
    facts: list[dict[str, Any]] = yaml.safe_load(path.read_text(encoding="utf-8"))
    [fact] = [fact for fact in facts if fact["id"] == fact_id]
    for name, value in fields.items():
        if value is None:
            fact.pop(name, None)
        else:
            fact[name] = value
    text = yaml.safe_dump(facts, allow_unicode=True, sort_keys=False)
    path.write_text(text, encoding="utf-8")
    return text.splitlines().index(f"- id: {fact_id}") + 1
