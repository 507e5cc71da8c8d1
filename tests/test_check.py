"""``muster check``: every kind of bad input is refused with its file, line and reason."""

import shutil
import threading
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from app.cli import cli
from app.ingest import check as check_module
from app.ingest.check import RECORD_MODELS, Dataset, read_dataset
from app.models.common import NAME_MAX_CHARACTERS
from bench.synthetic import write_bundles
from tests.conftest import ARTICLE_BUNDLE
from tests.helpers import append_fact, edit_records, facts_file, first_fact, read_in_workers

runner = CliRunner()


@pytest.fixture(autouse=True, params=["one process", "worker processes"])
def reading(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every test twice: bundles read in this process, as a few are, and in two worker
    processes, as many are (whatever the cores of the machine the tests run on)."""
    if request.param == "worker processes":
        read_in_workers(monkeypatch)


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
    line = append_fact(bundle, fact) + yaml_dump_line_of(fact, "about") + 1
    code, output = check(seed_copy)
    assert code == 1
    assert f"facts.yaml:{line}: fact-new: about 'no-such-force' is not one of the" in output


def test_quote_not_in_source_shows_the_closest_passage(seed_copy: Path) -> None:
    bundle = seed_copy / ARTICLE_BUNDLE
    fact = first_fact(bundle)
    citation = fact["citations"][0]
    altered = citation["quote"][:-6] + "XYZXYZ"
    fact |= {"id": "fact-misquoted", "citations": [citation | {"quote": altered}]}
    line = append_fact(bundle, fact) + yaml_dump_line_of(fact, "- quote")
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


def fact_lines(bundle: Path, fact_id: str) -> dict[str, int]:
    """The line of each top-level key of the fact ``fact_id`` in the bundle's facts.yaml."""
    lines = facts_file(bundle).read_text(encoding="utf-8").splitlines()
    start = lines.index(f"- id: {fact_id}")
    found = {"id": start + 1}
    for number, row in enumerate(lines[start + 1 :], start + 2):
        if row.startswith("- "):
            break
        if row.startswith("  ") and not row.startswith("   ") and ":" in row:
            found.setdefault(row.strip().split(":")[0], number)
    return found


@pytest.mark.parametrize("command", ["check", "load"])
def test_a_quote_of_the_wrong_length_is_a_problem_not_a_traceback(
    seed_copy: Path, command: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MUSTER_DATABASE_URL", f"sqlite:///{tmp_path / 'never.db'}")
    bundle = seed_copy / ARTICLE_BUNDLE
    fact = first_fact(bundle)
    citation = fact["citations"][0] | {"end": fact["citations"][0]["end"] + 1}
    line = append_fact(bundle, fact | {"id": "fact-long", "citations": [citation]})
    result = runner.invoke(cli, [command, str(seed_copy)])
    assert result.exit_code == 1
    assert result.exception is None or isinstance(result.exception, SystemExit)
    [message] = [
        row for row in result.output.splitlines() if "fact-long" in row or "end - start" in row
    ]
    end_line = line + yaml_dump_line_of(fact | {"citations": [citation]}, "end")
    assert message.startswith(f"{bundle / 'facts.yaml'}:{end_line}: citations.0.end:")
    assert "end - start is" in message
    assert "Traceback" not in result.output
    assert not (tmp_path / "never.db").exists()  # a refused load does not even make the file


def yaml_dump_line_of(fact: dict[str, object], key: str) -> int:
    """How many lines after its record's first line ``append_fact`` writes ``key``."""
    dumped = yaml.safe_dump([fact], allow_unicode=True, sort_keys=False).splitlines()
    return next(n for n, row in enumerate(dumped) if row.strip().startswith(f"{key}:"))


@pytest.mark.parametrize("command", ["check", "load"])
def test_an_impossible_date_names_the_file_line_and_reason(
    seed_copy: Path, command: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MUSTER_DATABASE_URL", f"sqlite:///{tmp_path / 'never.db'}")
    bundle = seed_copy / ARTICLE_BUNDLE
    path = facts_file(bundle)
    lines = fact_lines(bundle, "fact-trump-mandate-2025-01-20")
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("    date: 2025-01-20\n", "    date: 2025-13-22\n", 1))
    date_line = 1 + path.read_text(encoding="utf-8").splitlines().index("    date: 2025-13-22")
    result = runner.invoke(cli, [command, str(seed_copy)])
    assert result.exit_code == 1
    assert result.exception is None or isinstance(result.exception, SystemExit)
    problems = [row for row in result.output.splitlines() if row.startswith(str(path))]
    assert problems == [
        f"{path}:{date_line}: date.date: Input should be a valid date or datetime, month value "
        "is outside expected range of 1-12"
    ]
    assert lines["date"] < date_line
    assert not (tmp_path / "never.db").exists()


def test_a_bad_reference_is_reported_at_its_field_not_the_records_first_line(
    seed_copy: Path,
) -> None:
    bundle = seed_copy / ARTICLE_BUNDLE
    fact = first_fact(bundle) | {"id": "fact-new", "about": ["initial-wave", "no-such-force"]}
    line = append_fact(bundle, fact)
    code, output = check(seed_copy)
    assert code == 1
    about_line = line + yaml_dump_line_of(fact, "about") + 2  # the list's second item
    assert f"facts.yaml:{about_line}: fact-new: about 'no-such-force' is not one of the" in output


def test_a_quote_off_its_offsets_is_reported_at_its_start(seed_copy: Path) -> None:
    bundle = seed_copy / ARTICLE_BUNDLE
    fact = first_fact(bundle)
    citation = fact["citations"][0]
    shifted = citation | {"start": citation["start"] + 1, "end": citation["end"] + 1}
    fact = fact | {"id": "fact-shifted", "citations": [shifted]}
    line = append_fact(bundle, fact)
    code, output = check(seed_copy)
    assert code == 1
    start_line = line + yaml_dump_line_of(fact, "start")
    assert f"facts.yaml:{start_line}: fact-shifted: quote not at" in output


def test_broken_yaml_brings_no_follow_on_errors(seed_copy: Path) -> None:
    path = facts_file(seed_copy / ARTICLE_BUNDLE)
    path.write_text(path.read_text(encoding="utf-8") + "- id: [unclosed\n", encoding="utf-8")
    code, output = check(seed_copy)
    assert code == 1
    problems = output.splitlines()[:-1]
    assert len(problems) == 1, output
    assert "not valid YAML" in problems[0]


def test_an_invalid_record_brings_no_follow_on_errors(seed_copy: Path) -> None:
    """A fact refused for a bad field is still known by its id: the waves citing it are fine."""
    path = facts_file(seed_copy / ARTICLE_BUNDLE)
    text = path.read_text(encoding="utf-8")
    path.write_text(
        text.replace("    text: around 1,500\n", "    text: around 1,500\n    sure: no\n")
    )
    code, output = check(seed_copy)
    assert code == 1
    problems = output.splitlines()[:-1]
    assert len(problems) == 1, output
    assert "quantity.sure: Extra inputs are not permitted" in problems[0]


def test_a_misspelt_text_file_brings_no_errors_in_another_bundle(seed_copy: Path) -> None:
    source = seed_copy / ARTICLE_BUNDLE / "source.yaml"
    text = source.read_text(encoding="utf-8")
    source.write_text(text.replace("text_file: article.txt", "text_file: artcle.txt"))
    code, output = check(seed_copy)
    assert code == 1
    problems = output.splitlines()[:-1]
    assert len(problems) == 1, output
    assert "artcle.txt does not exist" in problems[0]


def test_a_path_that_does_not_exist_is_named_as_such(tmp_path: Path) -> None:
    missing = tmp_path / "nonexistent"
    code, output = check(missing)
    assert code == 1
    assert output.splitlines()[0] == f"{missing}:0: the path does not exist"


def test_worker_processes_read_what_one_process_reads(tmp_path: Path) -> None:
    generated = write_bundles(tmp_path / "bundles", 3)

    def read(folders_per_process: int) -> tuple[Dataset, list[tuple[object, Path, int]], int]:
        with pytest.MonkeyPatch.context() as reading:  # whichever way the fixture reads
            pools = read_in_workers(reading, folders_per_process)
            dataset = read_dataset(generated.root)
            records = [
                (one.record, one.path, one.item)
                for kind in RECORD_MODELS
                for one in dataset.read(kind)
            ]
        return dataset, records, sum(pools)

    in_workers, alone = read(folders_per_process=1), read(folders_per_process=100)
    assert in_workers[:2] == alone[:2]
    assert len(alone[1]) == sum(alone[0].counts.values()) > 0
    # Two workers read the bundles, then each kind's files again.
    assert (in_workers[2], alone[2]) == (2 * (1 + len(RECORD_MODELS)), 0)


def test_a_second_bundle_of_the_same_source_is_one_problem(seed_copy: Path) -> None:
    copy = seed_copy / "zz-copy"
    shutil.copytree(seed_copy / ARTICLE_BUNDLE, copy)
    code, output = check(seed_copy)
    assert code == 1
    source_id = yaml.safe_load((copy / "source.yaml").read_text())["id"]
    problem = f"{copy / 'source.yaml'}:1: duplicate source id {source_id!r}"
    assert output.splitlines() == [problem, "1 problem(s) found"]


def test_a_wave_is_checked_against_the_facts_of_another_bundle(seed_copy: Path) -> None:
    """A bundle's waves may name the facts of another: what they say of them is checked once
    every bundle is read, as it is for their own."""
    facts = yaml.safe_load(facts_file(seed_copy / ARTICLE_BUNDLE).read_text(encoding="utf-8"))
    figureless = next(fact["id"] for fact in facts if fact.get("quantity") is None)
    waves = seed_copy / "us-code" / "waves.yaml"
    waves.write_text(
        "- id: follow-up-wave\n"
        "  name: A wave another bundle tells of\n"
        "  status: ordered\n"
        f"  size_fact: {figureless}\n"
        "  joins: jtf-north\n"
        "  joins_status: reported\n"
        f"  joins_fact: {figureless}\n",
        encoding="utf-8",
    )
    code, output = check(seed_copy)
    assert code == 1
    assert output.splitlines() == [
        f"{waves}:4: follow-up-wave: fact {figureless!r} has no quantity",
        f"{waves}:7: follow-up-wave: joins_fact {figureless!r} is not about both the wave and "
        "'jtf-north'",
        "2 problem(s) found",
    ]


@pytest.mark.parametrize("cited", ["cnn-2025-01-22", "no-such-source"])
def test_a_timing_counts_only_the_quotes_of_sources_that_were_read(
    seed_copy: Path, cited: str
) -> None:
    """A fact's timing may be in its quote of another bundle's source; a quote of a source
    that is not there vouches for nothing."""
    bundle = seed_copy / "us-code"
    fact = first_fact(bundle) | {"id": "fact-dated-by-the-article", "timing": "2025-01-22"}
    dateline = {"source": cited, "quote": "date 2025-01-22", "start": 1, "end": 16}
    fact["citations"] = [*fact["citations"], dateline | {"attributed_to": None}]
    line = append_fact(bundle, fact)
    code, output = check(seed_copy)
    if cited == "cnn-2025-01-22":
        assert code == 0, output
        return
    path = facts_file(bundle)
    source_line = line + yaml_dump_line_of(fact, "- source")
    assert output.splitlines() == [
        f"{path}:{source_line}: fact-dated-by-the-article: citations.source 'no-such-source' "
        "is not one of the sources",
        f"{path}:{line + yaml_dump_line_of(fact, 'timing')}: fact-dated-by-the-article: timing "
        "'2025-01-22' is in none of the fact's quotes",
        "2 problem(s) found",
    ]


def test_an_id_used_by_two_kinds_in_two_bundles_is_one_problem(seed_copy: Path) -> None:
    """The copy read later, in the folders' order, is the duplicate, and a reference to either
    kind is no second problem, whichever bundle makes it."""
    fact_id = first_fact(seed_copy / ARTICLE_BUNDLE)["id"]
    forces = seed_copy / "us-code" / "forces.yaml"
    forces.write_text(
        f"- id: {fact_id}\n  name: A force named like a fact\n  kind: task_force\n",
        encoding="utf-8",
    )
    with (seed_copy / ARTICLE_BUNDLE / "forces.yaml").open("a", encoding="utf-8") as article:
        article.write("- id: a-unit-of-that-force\n  name: A unit\n  kind: unit\n")
        article.write(f"  parent: {fact_id}\n")
    code, output = check(seed_copy)
    assert code == 1
    assert output.splitlines() == [
        f"{forces}:1: duplicate id {fact_id!r}: already used by one of the facts",
        "1 problem(s) found",
    ]


def test_a_process_running_other_threads_reads_in_itself(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A fork copies only the thread that calls it: beside another thread, bundles are read in
    this process, and read the same."""
    generated = write_bundles(tmp_path / "bundles", 3)
    alone = read_dataset(generated.root)
    monkeypatch.undo()  # whichever way the fixture reads
    can_fork = check_module._can_fork
    pools = read_in_workers(monkeypatch)
    monkeypatch.setattr(check_module, "_can_fork", can_fork)
    stop = threading.Event()
    waiting = threading.Thread(target=stop.wait)
    waiting.start()
    try:
        beside_a_thread = read_dataset(generated.root)
    finally:
        stop.set()
        waiting.join()
    assert pools == []
    assert beside_a_thread == alone


@pytest.mark.parametrize("changed", ["facts.yaml", "article.txt"])
def test_a_file_changed_while_it_is_checked_is_one_more_problem(
    seed_copy: Path, monkeypatch: pytest.MonkeyPatch, changed: str
) -> None:
    """The checks across bundles read the article's facts again (for a wave of another bundle
    that names them) and its text (for a quote of it): a file changed since its bundle was read
    is reported, and the problems found before it are kept."""
    article, other = seed_copy / ARTICLE_BUNDLE, seed_copy / "us-code"
    facts = yaml.safe_load(facts_file(article).read_text(encoding="utf-8"))
    sized = next(fact["id"] for fact in facts if fact.get("quantity") is not None)
    waves = other / "waves.yaml"
    waves.write_text(
        f"- id: a-later-wave\n  name: A later wave\n  status: ordered\n  size_fact: {sized}\n"
        "  tasks:\n    - no-such-activity\n",
        encoding="utf-8",
    )
    dateline = {"source": ARTICLE_BUNDLE, "quote": "date 2025-01-22", "start": 1, "end": 16}
    fact = first_fact(other) | {"id": "fact-citing-the-article"}
    append_fact(other, fact | {"citations": [*fact["citations"], dateline]})
    check_references = check_module._check_references

    def check_references_then_change(*arguments: Any) -> None:
        """The first check once every bundle is read, then a change."""
        check_references(*arguments)
        with (article / changed).open("a", encoding="utf-8") as file:
            file.write("\n# changed\n")

    monkeypatch.setattr(check_module, "_check_references", check_references_then_change)
    code, output = check(seed_copy)
    assert code == 1
    assert output.splitlines() == [
        f"{article / changed}:1: changed while it was being checked: check the bundles again",
        f"{waves}:6: a-later-wave: tasks 'no-such-activity' is not one of the activities",
        "2 problem(s) found",
    ]


def test_a_force_may_share_its_id_with_a_source(seed_copy: Path) -> None:
    """Sources and records are named apart (a citation names a source, a parent a force): a
    force named like another bundle's source is that bundle's parent to name."""
    with (seed_copy / "us-code" / "forces.yaml").open("w", encoding="utf-8") as forces:
        forces.write(f"- id: {ARTICLE_BUNDLE}\n  name: A force named like a source\n")
        forces.write("  kind: task_force\n")
    with (seed_copy / ARTICLE_BUNDLE / "forces.yaml").open("a", encoding="utf-8") as article:
        article.write(f"- id: a-unit\n  name: A unit\n  kind: unit\n  parent: {ARTICLE_BUNDLE}\n")
    code, output = check(seed_copy)
    assert code == 0, output


def test_a_name_longer_than_a_cursor_holds_is_refused_with_its_line(seed_copy: Path) -> None:
    """A list sorted by name pages by it: a longer name would make cursors the API refuses."""
    path = seed_copy / ARTICLE_BUNDLE / "forces.yaml"
    name = "x" * (NAME_MAX_CHARACTERS + 1)
    edit_records(path.parent, path.name, lambda forces: [forces[0] | {"name": name}, *forces[1:]])
    code, output = check(seed_copy)
    assert code == 1
    line = path.read_text(encoding="utf-8").splitlines().index(f"  name: {name}")
    assert f"forces.yaml:{line + 1}: name: String should have at most" in output


def test_an_agency_level_the_level_filter_cannot_ask_for_is_refused_with_its_line(
    seed_copy: Path,
) -> None:
    """/v1/agencies?level= takes federal or state: an agency of any other level could be listed
    but never filtered for, and its field would hold a value the document does not name."""
    path = seed_copy / ARTICLE_BUNDLE / "agencies.yaml"
    edit_records(
        path.parent, path.name, lambda agencies: [agencies[0] | {"level": "county"}, *agencies[1:]]
    )
    code, output = check(seed_copy)
    assert code == 1
    line = path.read_text(encoding="utf-8").splitlines().index("  level: county") + 1
    assert f"agencies.yaml:{line}: level: Input should be 'federal' or 'state'" in output
