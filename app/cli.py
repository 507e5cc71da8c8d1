"""The ``muster`` command: check and load source bundles, migrate the database, serve the API."""

import signal
import socket
import sqlite3
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Annotated

import typer

from app import __version__
from app.config import Settings, SettingsError, get_settings
from app.logging import log_config
from app.models.kinds import Kind

# Each command imports the heavy parts of Muster it uses where it uses them: `muster serve` reads
# no YAML but on a first start, and check and load serve nothing. `muster check` touches no
# database, and without SQLAlchemy and the tables it starts in 0.3 s, not 0.5 s: at 1000x a check
# took a median 5.27 s against 5.57 s, peaking at 95 MB against 117 MB (bench/load_speed.py 1000
# --check-only --against d2d17a8 --rounds 5). A test in tests/test_cli.py guards the imports.
if TYPE_CHECKING:
    from sqlalchemy import Engine

    from app.ingest.check import Problem
    from app.ingest.loader import LoadReport

cli = typer.Typer(
    help="Muster: source-cited facts about the January 2025 U.S. troop deployment to the border.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
db_cli = typer.Typer(help="Migrate the database schema (Alembic).", no_args_is_help=True)
cli.add_typer(db_cli, name="db")


def _print_version(wanted: bool) -> None:
    if wanted:
        typer.echo(f"muster {__version__}")
        raise typer.Exit()


@cli.callback()
def _options(
    version: Annotated[
        bool,
        typer.Option(
            "--version",
            help="Print Muster's version and exit.",
            callback=_print_version,
            is_eager=True,
        ),
    ] = False,
) -> None:
    """Muster: source-cited facts about the January 2025 U.S. troop deployment to the border."""


BundlesPath = Annotated[
    Path, typer.Argument(help="A folder of source bundles (or one bundle).", show_default=False)
]


def _warn(warnings: "list[Problem]") -> None:
    """Print what the check reports without refusing the data, to stderr."""
    for warning in warnings:
        typer.echo(str(warning), err=True)


def _fail(lines: list[str]) -> None:
    for line in lines:
        typer.echo(line, err=True)
    raise typer.Exit(1)


@cli.command()
def check(path: BundlesPath) -> None:
    """Validate a folder of bundles without touching any database; list every problem."""
    from app.ingest.check import InvalidBundlesError, read_dataset

    try:
        dataset = read_dataset(path)
    except InvalidBundlesError as failure:
        _fail([*map(str, failure.problems), f"{len(failure.problems)} problem(s) found"])
        return
    _warn(dataset.warnings)
    counts = ", ".join(
        f"{dataset.counts[kind]} {kind}" for kind in Kind if kind is not Kind.sources
    )
    typer.echo(f"ok: {len(dataset.sources)} sources, {counts}; data version {dataset.version}")


@cli.command()
def load(path: BundlesPath) -> None:
    """Check a folder of bundles, then replace the dataset with it in one transaction.

    It writes the database at MUSTER_DATABASE_URL: by default sqlite:///./muster.db, the file
    muster.db in the current folder. A refused load changes nothing.
    """
    from sqlalchemy.exc import SQLAlchemyError

    from app.db import make_engine
    from app.ingest.check import InvalidBundlesError, read_dataset
    from app.ingest.loader import NotMigratedError, load_dataset

    try:
        dataset = read_dataset(path)
        _warn(dataset.warnings)
        report = load_dataset(make_engine(get_settings().database_url), dataset)
    except InvalidBundlesError as failure:
        _fail([*map(str, failure.problems), "nothing was loaded: the data is as it was"])
        return
    except NotMigratedError as error:
        _fail([f"error: {error}"])
        return
    except SQLAlchemyError as error:
        reason = str(getattr(error, "orig", None) or error).splitlines()[0]
        _fail([f"error: the database refused the load ({reason}); nothing was loaded"])
        return
    except (sqlite3.Error, OSError) as error:
        _fail([f"error: {_unwritten(error)}; nothing was loaded"])
        return
    typer.echo(_describe(report))


def _unwritten(error: sqlite3.Error | OSError) -> str:
    """``file: reason`` for what a load could not read or write outside SQLAlchemy (a full disk,
    a read-only folder): the file an OSError names (the database's, or the lock or staging file a
    SQLite load makes beside it), else the SQLite database file."""
    from sqlalchemy import make_url

    if isinstance(error, OSError):
        reason = (error.strerror or str(error)).lower()
        return f"{error.filename or make_url(get_settings().database_url).database}: {reason}"
    return f"{make_url(get_settings().database_url).database}: {error}"


def _describe(report: "LoadReport") -> str:
    if report.unchanged:
        return f"unchanged: data version {report.version} is already loaded"
    if report.rendered_again:
        return (
            f"rendered again: data version {report.version} is unchanged, "
            "but this version of Muster renders it differently"
        )
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
    """Migrate the database at MUSTER_DATABASE_URL up to REVISION (the newest by default)."""
    from sqlalchemy import make_url

    from app import migrate

    url = get_settings().database_url
    before = migrate.current_revision(url)
    migrate.upgrade(url, revision)
    after = migrate.current_revision(url)
    shown = make_url(url).render_as_string(hide_password=True)
    if before == after:
        typer.echo(f"{shown} is already at the newest revision, {after}")
    else:
        typer.echo(f"migrated {shown} from {before or 'an empty schema'} to revision {after}")


@db_cli.command()
def downgrade(
    revision: Annotated[str, typer.Argument(help='Target revision, e.g. "base".')],
) -> None:
    """Migrate the database at MUSTER_DATABASE_URL down to REVISION."""
    from sqlalchemy import make_url

    from app import migrate

    url = get_settings().database_url
    before = migrate.current_revision(url)
    migrate.downgrade(url, revision)
    after = migrate.current_revision(url)
    shown = make_url(url).render_as_string(hide_password=True)
    typer.echo(f"migrated {shown} from {before or 'an empty schema'} to {after or 'base'}")


SEED_DATA = Path(__file__).resolve().parent / "seed_data"


def _default(name: str) -> str:
    return str(Settings.model_fields[name].default)


@cli.command(
    epilog="Every other setting is an environment variable too (MUSTER_DATABASE_URL, "
    "MUSTER_LOG_LEVEL, MUSTER_LOG_FORMAT, ...): see the README's settings table."
)
def serve(
    host: Annotated[
        str | None,
        typer.Option(
            help="Address to listen on; 0.0.0.0 for every interface.",
            envvar="MUSTER_HOST",
            show_default=_default("host"),
        ),
    ] = None,
    port: Annotated[
        int | None,
        typer.Option(
            help="Port to listen on.",
            envvar="MUSTER_PORT",
            show_default=_default("port"),
            min=1,
            max=65535,
        ),
    ] = None,
    workers: Annotated[
        int | None,
        typer.Option(
            help="Worker processes.",
            envvar="MUSTER_WORKERS",
            show_default=_default("workers"),
            min=1,
        ),
    ] = None,
) -> None:
    """Serve the API. On a first start with the default SQLite file, create and fill it.

    Facing untrusted clients, put nginx in front of it as deploy/nginx.conf does (README).
    """
    import uvicorn
    from uvicorn.supervisors import Multiprocess

    settings = get_settings()
    host = host or settings.host
    port = port or settings.port
    workers = workers or settings.workers
    try:
        _prepare_database(settings)
    except DatabaseNotReadyError as error:
        _fail([f"error: {error}"])
    try:
        listening = _listen(host, port)
    except OSError as error:
        reason = (error.strerror or str(error)).lower()
        _fail([f"error: cannot listen on {host}:{port}: {reason} (choose another with --port)"])
        return
    # On SIGTERM uvicorn finishes the requests in flight, then raises the signal again for the
    # handler it found: a server stopped on purpose exits 0.
    signal.signal(signal.SIGTERM, _exit_cleanly)
    typer.echo(f"Muster serves http://{host}:{port}/ (docs at http://{host}:{port}/docs)")
    config = uvicorn.Config(
        "app.main:create_app",
        factory=True,
        workers=workers,
        # httptools, not h11: h11 refuses a head past h11_max_incomplete_event_size, which
        # httptools does not, but behind nginx (deploy/nginx.conf), which bounds heads, times out
        # slow clients and never pipelines, that is never reached; and h11 answered a quarter
        # as many requests (cached /v1/forces through nginx: 17,600/s on httptools, 4,100-6,500/s
        # on h11, one core each).
        http="httptools",
        log_config=log_config(settings),
        log_level=settings.log_level,
        access_log=False,  # Muster writes its own structured access log
        server_header=False,
        proxy_headers=True,
        forwarded_allow_ips=settings.forwarded_allow_ips,
    )
    if workers > 1:
        Multiprocess(config, sockets=[listening]).run()
        return
    server = uvicorn.Server(config)
    server.run(sockets=[listening])
    if not server.started:  # the application failed to start; uvicorn logged why
        raise typer.Exit(1)


BACKLOG = 2048  # uvicorn's


def _listen(host: str, port: int) -> socket.socket:
    """A socket listening on ``host:port``, as uvicorn makes one: made here, so that a port
    already in use is one line of error, and connections wait in its backlog from the moment the
    server says it is up."""
    listening = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
    listening.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        listening.bind((host, port))
    except OSError:
        listening.close()
        raise
    listening.listen(BACKLOG)
    listening.set_inheritable(True)  # for the worker processes
    return listening


def _exit_cleanly(_signal: int, _frame: FrameType | None) -> None:
    raise SystemExit(0)


class DatabaseNotReadyError(RuntimeError):
    pass


def _prepare_database(settings: Settings) -> None:
    """Make sure the database is migrated and holds data before any worker starts.

    Only the embedded default database is created and filled here; any other database is the
    operator's to migrate and load, so a server never races replicas or overwrites data.
    """
    from sqlalchemy import make_url
    from sqlalchemy.exc import SQLAlchemyError

    import migrations
    from app import migrate
    from app.db import is_sqlite, make_engine, read_only_sqlite_url
    from app.ingest.loader import has_data, load_dataset

    url = checked_url = settings.database_url
    if is_sqlite(url) and not settings.is_default_database:
        database = Path(make_url(url).database or "")
        if not database.is_file():
            raise DatabaseNotReadyError(
                f"the database file {database} does not exist: "
                "run `muster db upgrade && muster load PATH` first"
            )
        checked_url = read_only_sqlite_url(url)  # the operator's: only read it, like the workers
    engine = make_engine(checked_url)
    try:
        with engine.connect() as connection:
            revision = migrate.revision_of(connection)
        if revision == migrations.HEAD and has_data(engine):
            _warn_if_rendered_by_another_muster(engine)
            return
    except SQLAlchemyError as error:
        shown = make_url(url).render_as_string(hide_password=True)
        raise DatabaseNotReadyError(f"the database at {shown} cannot be read: {error}") from error
    finally:
        engine.dispose()
    made_by_a_newer_muster = revision is not None and not migrate.is_known(revision)
    if not settings.is_default_database or made_by_a_newer_muster:
        if revision is None:
            raise DatabaseNotReadyError(
                "the database is not migrated: run `muster db upgrade && muster load PATH` first"
            )
        problem = migrate.not_current(revision)
        raise DatabaseNotReadyError(
            problem or "the database is empty: run `muster load PATH` first"
        )
    # The embedded default is Muster's own to keep at this Muster's schema, but the data in it may
    # be the user's, loaded by `muster load`: only a database with no data gets the bundled seed.
    if revision is None:
        typer.echo("First start: creating the embedded database and loading the bundled seed data")
    elif revision != migrations.HEAD:
        typer.echo(f"Upgrading the embedded database from schema {revision} to {migrations.HEAD}")
    migrate.upgrade(url)
    engine = make_engine(url)
    try:
        if has_data(engine):
            _warn_if_rendered_by_another_muster(engine)
            return
        if revision is not None:
            typer.echo("The embedded database is empty: loading the bundled seed data")
        from app.ingest.check import read_dataset

        load_dataset(engine, read_dataset(SEED_DATA))
    except (sqlite3.Error, OSError) as error:
        raise DatabaseNotReadyError(
            f"the embedded database could not be filled with the seed data: {_unwritten(error)}"
        ) from error
    finally:
        engine.dispose()


def _warn_if_rendered_by_another_muster(engine: "Engine") -> None:
    from app.ingest.loader import rendered_by_another_muster

    if rendered_by_another_muster(engine):
        typer.echo(
            "warning: this data was rendered by other Muster code than this one's and is served "
            "as that code rendered it; load its bundles again (`muster load PATH`) to render it "
            "with this Muster",
            err=True,
        )


def main() -> None:
    try:
        cli()
    except SettingsError as error:
        typer.echo(str(error), err=True)
        raise SystemExit(2) from None
