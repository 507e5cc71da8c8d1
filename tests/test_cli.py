"""The ``muster`` command as a newcomer meets it: its version, its help, what `db upgrade` did,
and bad settings named in one line with their fix, never a traceback."""

import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

import migrations
from app import __version__
from app.cli import cli, main
from app.config import get_settings
from tests.conftest import SEED_DATA

runner = CliRunner()


def run_main(
    arguments: list[str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> tuple[int, str, str]:
    """Run the installed ``muster`` entry point in-process, as a shell would."""
    monkeypatch.setattr(sys, "argv", ["muster", *arguments])
    get_settings.cache_clear()
    with pytest.raises(SystemExit) as exit_:
        main()
    get_settings.cache_clear()
    captured = capsys.readouterr()
    return int(exit_.value.code or 0), captured.out, captured.err


def test_version() -> None:
    result = runner.invoke(cli, ["--version"])
    assert result.exit_code == 0
    assert result.output == f"muster {__version__}\n"


def test_load_help_says_which_database_it_writes() -> None:
    result = runner.invoke(cli, ["load", "--help"], terminal_width=200)
    assert result.exit_code == 0
    assert "MUSTER_DATABASE_URL" in result.output
    assert "sqlite:///./muster.db" in result.output


def test_db_upgrade_says_what_it_did(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    url = f"sqlite:///{tmp_path / 'muster.db'}"
    monkeypatch.setenv("MUSTER_DATABASE_URL", url)
    get_settings.cache_clear()
    first = runner.invoke(cli, ["db", "upgrade"])
    again = runner.invoke(cli, ["db", "upgrade"])
    get_settings.cache_clear()
    assert first.exit_code == 0
    assert again.exit_code == 0
    assert first.output == f"migrated {url} from an empty schema to revision {migrations.HEAD}\n"
    assert again.output == f"{url} is already at the newest revision, {migrations.HEAD}\n"


@pytest.mark.parametrize(
    ("variable", "value", "expected"),
    [
        ("MUSTER_PORT", "abc", "error: MUSTER_PORT='abc' is not valid: Input should be a valid"),
        (
            "MUSTER_LOG_LEVEL",
            "verbose",
            "error: MUSTER_LOG_LEVEL='verbose' is not valid: Input should be 'critical', 'error',"
            " 'warning', 'info' or 'debug'",
        ),
    ],
)
def test_a_bad_setting_is_one_line_naming_it_and_the_fix(
    variable: str,
    value: str,
    expected: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv(variable, value)
    monkeypatch.setenv("MUSTER_DATABASE_URL", f"sqlite:///{tmp_path / 'muster.db'}")
    code, out, err = run_main(["db", "upgrade"], monkeypatch, capsys)
    assert code == 2
    [line] = err.splitlines()
    assert line.startswith(expected)
    assert line.endswith(f"; set a valid value, or unset {variable} for the default")
    assert out == ""


@pytest.mark.parametrize(
    "url",
    ["postgresql+psycopg://muster@db.invalid/muster", "postgresql://muster@db.invalid/muster"],
)
def test_a_postgresql_url_without_its_driver_says_to_install_the_extra(
    url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("MUSTER_DATABASE_URL", url)
    monkeypatch.setitem(sys.modules, "psycopg", None)  # as without the [postgres] extra
    code, out, err = run_main(["db", "upgrade"], monkeypatch, capsys)
    assert code == 2
    [line] = err.splitlines()
    assert line.startswith(f"error: MUSTER_DATABASE_URL={url!r} is not valid: ")
    assert "psycopg is not installed" in line
    assert "pip install '.[postgres]'" in line
    assert out == ""


def test_check_imports_no_database_code(tmp_path: Path) -> None:
    """`muster check` touches no database, so it does not pay for importing SQLAlchemy and the
    tables (app/cli.py): it checks the seed data in a fresh interpreter without them."""
    script = (
        "import sys\n"
        "from app.cli import main\n"
        "sys.argv = ['muster', 'check', sys.argv[1]]\n"
        "try:\n"
        "    main()\n"
        "finally:\n"
        "    print(sorted(m for m in ('sqlalchemy', 'sqlmodel', 'fastapi') if m in sys.modules))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script, str(SEED_DATA)], capture_output=True, text=True, cwd=tmp_path
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("ok: "), done.stdout
    assert done.stdout.splitlines()[-1] == "[]"


def test_a_load_into_a_database_file_that_does_not_exist_is_refused_and_makes_none(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A refused load changes nothing: into a SQLite file that was never made it says to migrate
    first, and leaves no empty file behind."""
    never = tmp_path / "never.db"
    monkeypatch.setenv("MUSTER_DATABASE_URL", f"sqlite:///{never}")
    get_settings.cache_clear()
    try:
        result = runner.invoke(cli, ["load", str(SEED_DATA)])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 1
    assert result.output.splitlines() == [
        "error: the database is not migrated: run `muster db upgrade`"
    ]
    assert not never.exists()


def test_a_first_start_that_cannot_fill_the_embedded_database_says_why_in_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The embedded database's first load of the seed data fails on a file it cannot write (a
    directory where the load's lock file goes stands for a read-only folder): one line, not a
    traceback, and the server does not start."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("MUSTER_DATABASE_URL", raising=False)
    (tmp_path / ".muster.db.load-lock").mkdir()
    get_settings.cache_clear()
    try:
        result = runner.invoke(cli, ["serve"])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 1
    lines = result.output.splitlines()
    assert lines[0].startswith("First start: ")
    assert lines[1:] == [
        "error: the embedded database could not be filled with the seed data: "
        ".muster.db.load-lock: is a directory"
    ]
