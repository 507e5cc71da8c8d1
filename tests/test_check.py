"""``muster check``: every kind of bad input is refused with its file, line and reason."""

from pathlib import Path

import pytest
from typer.testing import CliRunner

from app.cli import cli
from tests.conftest import ARTICLE_BUNDLE
from tests.helpers import append_fact, facts_file, first_fact

runner = CliRunner()


def check(path: Path) -> tuple[int, str]:
    result = runner.invoke(cli, ["check", str(path)])
    return result.exit_code, result.output


def test_the_seed_data_passes(seed_copy: Path) -> None:
    code, output = check(seed_copy)
    assert code == 0, output
    assert output.startswith("ok: 2 sources")


def test_broken_yaml_names_the_file_and_line(seed_copy: Path) -> None:
    path = facts_file(seed_copy / ARTICLE_BUNDLE)
    lines = path.read_text(encoding="utf-8").count("\n")
    with path.open("a", encoding="utf-8") as handle:
        handle.write("- id: [unclosed\n")
    code, output = check(seed_copy)
    assert code == 1
    assert f"facts.yaml:{lines + 1}: not valid YAML" in output or (
        f"facts.yaml:{lines + 2}: not valid YAML" in output
    )


def test_unknown_reference_is_named(seed_copy: Path) -> None:
    bundle = seed_copy / ARTICLE_BUNDLE
    fact = first_fact(bundle) | {"id": "fact-new", "about": ["no-such-force"]}
    line = append_fact(bundle, fact)
    code, output = check(seed_copy)
    assert code == 1
    assert f"facts.yaml:{line}: fact-new: about 'no-such-force' is not one of the" in output


def test_quote_not_in_source_shows_the_closest_passage(seed_copy: Path) -> None:
    bundle = seed_copy / ARTICLE_BUNDLE
    fact = first_fact(bundle)
    citation = fact["citations"][0]
    altered = citation["quote"][:-6] + "XYZXYZ"
    fact |= {"id": "fact-misquoted", "citations": [citation | {"quote": altered}]}
    line = append_fact(bundle, fact)
    code, output = check(seed_copy)
    assert code == 1
    [message] = [row for row in output.splitlines() if "fact-misquoted" in row]
    assert message.startswith(f"{bundle / 'facts.yaml'}:{line}: fact-misquoted: quote not at")
    assert repr(altered) in message
    assert "closest passage (line" in message
    assert citation["quote"][:-6] in message


def test_quote_at_wrong_offsets_says_where_it_is(seed_copy: Path) -> None:
    bundle = seed_copy / ARTICLE_BUNDLE
    fact = first_fact(bundle)
    citation = fact["citations"][0]
    shifted = citation | {"start": citation["start"] + 1, "end": citation["end"] + 1}
    append_fact(bundle, fact | {"id": "fact-shifted", "citations": [shifted]})
    code, output = check(seed_copy)
    assert code == 1
    assert f"it is at {citation['start']}-{citation['end']}" in output


@pytest.mark.parametrize(
    ("quantity", "reason"),
    [
        (
            {"min": 1300, "max": 1100, "unit": "migrants", "text": "between 1,100 to 1,300"},
            "bounds out of order",
        ),
        ({"value": 2300, "unit": "troops", "text": "roughly 2,200"}, "2300 does not appear"),
        ({"unit": "troops", "text": "roughly 2,200"}, "needs at least one of value, min or max"),
    ],
)
def test_incoherent_quantity_is_refused(
    seed_copy: Path, quantity: dict[str, object], reason: str
) -> None:
    bundle = seed_copy / ARTICLE_BUNDLE
    line = append_fact(bundle, first_fact(bundle) | {"id": "fact-bad-number", "quantity": quantity})
    code, output = check(seed_copy)
    assert code == 1
    [message] = [row for row in output.splitlines() if reason in row]
    place, _, detail = message.partition(": ")
    assert place.endswith("facts.yaml:" + place.rsplit(":", 1)[1])
    assert int(place.rsplit(":", 1)[1]) > line  # the quantity key, inside the appended record
    assert detail.startswith("quantity: Value error")


def test_quantity_text_must_be_quoted(seed_copy: Path) -> None:
    bundle = seed_copy / ARTICLE_BUNDLE
    quantity = {"value": 7, "unit": "troops", "text": "7 troops"}
    append_fact(bundle, first_fact(bundle) | {"id": "fact-unquoted", "quantity": quantity})
    code, output = check(seed_copy)
    assert code == 1
    assert "fact-unquoted: quantity text '7 troops' is in none of the fact's quotes" in output


def test_duplicate_id_is_refused(seed_copy: Path) -> None:
    bundle = seed_copy / ARTICLE_BUNDLE
    fact = first_fact(bundle)
    line = append_fact(bundle, fact)
    code, output = check(seed_copy)
    assert code == 1
    assert f"facts.yaml:{line}: duplicate id {fact['id']!r}" in output


def test_missing_source_text_is_refused(seed_copy: Path) -> None:
    source = seed_copy / ARTICLE_BUNDLE / "source.yaml"
    text = source.read_text(encoding="utf-8")
    source.write_text(text.replace("text_file: article.txt", "text_file: gone.txt"))
    line = next(n for n, row in enumerate(text.splitlines(), 1) if row.startswith("text_file"))
    code, output = check(seed_copy)
    assert code == 1
    assert f"source.yaml:{line}: text_file: the source text" in output
    assert "gone.txt does not exist" in output


def test_unknown_field_is_refused_with_its_line(seed_copy: Path) -> None:
    bundle = seed_copy / ARTICLE_BUNDLE
    line = append_fact(bundle, {"extra_field": 1} | first_fact(bundle) | {"id": "fact-extra"})
    code, output = check(seed_copy)
    assert code == 1
    assert f"facts.yaml:{line}: extra_field: Extra inputs are not permitted" in output


def test_every_problem_is_listed_not_just_the_first(seed_copy: Path) -> None:
    bundle = seed_copy / ARTICLE_BUNDLE
    append_fact(bundle, first_fact(bundle) | {"id": "fact-one", "about": ["nowhere-1"]})
    append_fact(bundle, first_fact(bundle) | {"id": "fact-two", "about": ["nowhere-2"]})
    code, output = check(seed_copy)
    assert code == 1
    assert "nowhere-1" in output
    assert "nowhere-2" in output
    assert "2 problem(s) found" in output


def test_a_path_with_no_bundle_is_refused(tmp_path: Path) -> None:
    code, output = check(tmp_path)
    assert code == 1
    assert "no bundle here" in output
