"""The ``muster`` command: check and load source bundles, migrate the database, serve the API."""

from pathlib import Path
from typing import Annotated

import typer

from app import migrate
from app.config import get_settings
from app.db import make_engine
from app.ingest.check import InvalidBundlesError, read_dataset
from app.ingest.loader import LoadReport, NotMigratedError, load_dataset

cli = typer.Typer(
    help="Muster: source-cited facts about the January 2025 U.S. troop deployment to the border.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
db_cli = typer.Typer(help="Migrate the database schema (Alembic).", no_args_is_help=True)
cli.add_typer(db_cli, name="db")

BundlesPath = Annotated[
    Path, typer.Argument(help="A folder of source bundles (or one bundle).", show_default=False)
]


def _fail(lines: list[str]) -> None:
    for line in lines:
        typer.echo(line, err=True)
    raise typer.Exit(1)


@cli.command()
def check(path: BundlesPath) -> None:
    """Validate a folder of bundles without touching any database; list every problem."""
    try:
        dataset = read_dataset(path)
    except InvalidBundlesError as failure:
        _fail([*map(str, failure.problems), f"{len(failure.problems)} problem(s) found"])
        return
    counts = ", ".join(f"{len(getattr(dataset, kind))} {kind}" for kind in _KINDS)
    typer.echo(f"ok: {len(dataset.sources)} sources, {counts}; data version {dataset.version}")


_KINDS = ("forces", "agencies", "waves", "authorities", "activities", "facts")


@cli.command()
def load(path: BundlesPath) -> None:
    """Check a folder of bundles, then replace the dataset with it in one transaction."""
    try:
        dataset = read_dataset(path)
        report = load_dataset(make_engine(get_settings().database_url), dataset)
    except InvalidBundlesError as failure:
        _fail([*map(str, failure.problems), "nothing was loaded: the data is as it was"])
        return
    except NotMigratedError as error:
        _fail([f"error: {error}"])
        return
    typer.echo(_describe(report))


def _describe(report: LoadReport) -> str:
    if report.unchanged:
        return f"unchanged: data version {report.version} is already loaded"
    lines = [f"loaded data version {report.version} (was {report.previous_version or 'empty'})"]
    for kind, counts in sorted(report.changes.items()):
        if counts:
            parts = ", ".join(f"{counts[change]} {change}" for change in sorted(counts))
            lines.append(f"  {kind}: {parts}")
    if len(lines) == 1:
        lines.append("  no record changed")
    return "\n".join(lines)


@db_cli.command()
def upgrade(revision: Annotated[str, typer.Argument(help="Target revision.")] = "head") -> None:
    """Migrate the database up to REVISION (the newest by default)."""
    migrate.upgrade(get_settings().database_url, revision)


@db_cli.command()
def downgrade(
    revision: Annotated[str, typer.Argument(help='Target revision, e.g. "base".')],
) -> None:
    """Migrate the database down to REVISION."""
    migrate.downgrade(get_settings().database_url, revision)


def main() -> None:
    cli()
