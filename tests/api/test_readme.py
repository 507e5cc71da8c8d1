"""The README's "Using the API" examples stay true: each command runs with curl and jq against a
real `muster serve` over the seed data and prints exactly what the README shows."""

import os
import re
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

from tests.conftest import ROOT

README = ROOT / "README.md"
DOCUMENTED_ADDRESS = "localhost:8000"


def examples() -> Iterator[tuple[str, list[str]]]:
    """Each ``$ command`` of the section's shell blocks, with the lines shown after it."""
    section = README.read_text(encoding="utf-8").split("## Using the API", 1)[1].split("\n## ")[0]
    for block in re.findall(r"```sh\n(.*?)```", section, re.S):
        command: str | None = None
        shown: list[str] = []
        for line in [*block.splitlines(), ""]:
            if command is not None and (line.startswith(("$ ", "# ")) or not line):
                yield command, shown
                command, shown = None, []
            if line.startswith("$ "):
                command = line.removeprefix("$ ")
            elif command is not None:
                shown.append(line)


def test_every_example_prints_what_the_readme_shows(
    installed: Callable[[str], str], served: str
) -> None:
    for program in ("bash", "curl", "jq"):
        installed(program)
    address = served.removeprefix("http://")
    # Earlier commands may set shell variables that later ones use ($etag).
    script = ""
    checked = 0
    for command, shown in examples():
        script += command.replace(DOCUMENTED_ADDRESS, address) + "\n"
        if not shown:
            continue
        result = subprocess.run(
            ["bash", "-o", "pipefail", "-c", script],
            capture_output=True,
            text=True,
            timeout=60,
            cwd=Path(ROOT),
            # `python` is this interpreter, with the test extra's pandas.
            env=os.environ
            | {"PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"},
        )
        assert result.returncode == 0, (command, result.stderr)
        assert result.stdout.splitlines() == shown, command
        script = ""
        checked += 1
    assert checked >= 20
