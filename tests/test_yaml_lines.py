"""Bundle YAML is read as PyYAML's safe loader reads it, with the line of every record and key."""

from datetime import date
from pathlib import Path

import pytest
import yaml

from app.ingest.yaml_lines import YamlError, line_of, read_yaml

DOCUMENT = """\
defaults: &defaults
  kind: quantity
  status: reported
facts:
  - id: fact-a
    <<: *defaults
    about: &subjects
      - jtf-north
    count: 2200
    published: 2025-01-22
    approximate: true
    note: null
  - id: fact-b
    about: *subjects
    quote: "roughly 2,200"
    tags: !!set {a: null}
"""


def written(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "facts.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_the_data_is_what_the_safe_loader_reads(tmp_path: Path) -> None:
    assert read_yaml(written(tmp_path, DOCUMENT)) == yaml.safe_load(DOCUMENT)


@pytest.mark.parametrize("lines", [True, False])
def test_scalars_mean_what_they_mean_in_yaml_1_1(tmp_path: Path, lines: bool) -> None:
    # The bundle format is PyYAML's YAML 1.1: a YAML 1.2 parser reads all but the quoted date
    # otherwise, and yaml-rs even that.
    text = (
        'quoted: "2025-01-22"\nplain: 2025-01-22\nanswer: yes\noctal: 012\nsexagesimal: 1:20\n'
        "base: &base {kind: quantity}\nmerged: {<<: *base, status: reported}\n"
    )
    document = read_yaml(written(tmp_path, text), lines=lines)
    assert document == {
        "quoted": "2025-01-22",
        "plain": date(2025, 1, 22),
        "answer": True,
        "octal": 10,
        "sexagesimal": 80,
        "base": {"kind": "quantity"},
        "merged": {"kind": "quantity", "status": "reported"},
    }


def test_records_and_keys_know_their_lines(tmp_path: Path) -> None:
    document = read_yaml(written(tmp_path, DOCUMENT))
    first, second = document["facts"]
    assert (first.line, second.line) == (5, 13)
    assert line_of(first, ("about",)) == 7
    assert line_of(second, ("quote",)) == 15
    assert line_of(document, ("facts", 1, "about")) == 14


def test_aliases_are_shared_not_copied_so_nested_ones_cannot_explode(tmp_path: Path) -> None:
    # Each level is nine aliases of the one before: copied, the last would hold 9**8 lists.
    levels = ["a: &a [x, x, x, x, x, x, x, x, x]"]
    for previous, name in zip("abcdefgh", "bcdefghi", strict=True):
        levels.append(f"{name}: &{name} [{', '.join([f'*{previous}'] * 9)}]")
    document = read_yaml(written(tmp_path, "\n".join(levels) + "\n"))
    assert document["i"][0] is document["i"][8] is document["h"]


def test_a_recursive_alias_is_read_as_the_safe_loader_reads_it(tmp_path: Path) -> None:
    document = read_yaml(written(tmp_path, "- &loop [*loop]\n"))
    assert document[0][0] is document[0]


def test_broken_yaml_names_its_line(tmp_path: Path) -> None:
    with pytest.raises(YamlError) as error:
        read_yaml(written(tmp_path, "- id: a\n  about: [b\n- id: c\n"))
    assert error.value.line == 3
