"""Running the Alembic migrations that ship inside the package.

Alembic is imported only where a migration runs or a database is found at another revision:
importing it takes a third of a second, which every ``muster serve`` would otherwise pay just to
learn that the schema is current.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Connection, NullPool, inspect, text

import migrations
from app.db import make_engine

if TYPE_CHECKING:
    from alembic.config import Config

VERSION_TABLE = "alembic_version"

MIGRATION_LOCK_KEY = 0x6D7573746572
"""The PostgreSQL advisory lock that migrations hold: the bytes of ``b"muster"`` as an integer.

Replicas that start together all run ``muster db upgrade``; the lock makes them migrate one after
the other, so the first migrates and the others find the schema already at head.
"""


def alembic_config(database_url: str, connection: Connection | None = None) -> "Config":
    """Alembic's configuration; with ``connection``, migrations/env.py migrates through it."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(Path(migrations.__file__).parent))
    # ConfigParser interpolation would read a "%" in a password as a placeholder.
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def upgrade(database_url: str, revision: str = "head") -> None:
    from alembic import command

    with _migration_connection(database_url) as connection:
        command.upgrade(alembic_config(database_url, connection), revision)


def downgrade(database_url: str, revision: str) -> None:
    from alembic import command

    with _migration_connection(database_url) as connection:
        command.downgrade(alembic_config(database_url, connection), revision)


@contextmanager
def _migration_connection(database_url: str) -> Iterator[Connection]:
    """A connection to migrate through; on PostgreSQL it holds the migration lock until closed."""
    # Without a pool, closing the connection ends the database session, and ending the session
    # releases the lock even if the migration failed half-way.
    engine = make_engine(database_url, poolclass=NullPool)
    try:
        with engine.connect() as connection:
            if connection.dialect.name == "postgresql":
                connection.execute(
                    text("SELECT pg_advisory_lock(:key)"), {"key": MIGRATION_LOCK_KEY}
                )
                # Alembic must start its own transaction once the lock is held: one begun before
                # could read the schema as it was before another replica migrated it.
                connection.commit()
            yield connection
    finally:
        engine.dispose()


def current_revision(database_url: str) -> str | None:
    """The revision the database is migrated to; None for a schema never migrated."""
    engine = make_engine(database_url)
    try:
        with engine.connect() as connection:
            return revision_of(connection)
    finally:
        engine.dispose()


def revision_of(connection: Connection) -> str | None:
    """The revision a database is migrated to, read from Alembic's version table without
    Alembic; None for a schema never migrated."""
    if not inspect(connection).has_table(VERSION_TABLE):
        return None
    return connection.execute(text(f"SELECT version_num FROM {VERSION_TABLE}")).scalars().first()


def is_known(revision: str) -> bool:
    """Whether ``revision`` is one of this Muster's migrations: if not, a newer Muster made it."""
    from alembic.script import ScriptDirectory

    known = ScriptDirectory.from_config(alembic_config("")).walk_revisions()
    return revision in {script.revision for script in known}


def not_current(revision: str | None) -> str | None:
    """Why a database migrated to ``revision`` is not this Muster's schema, ``migrations.HEAD``,
    and what to do; None when it is."""
    if revision == migrations.HEAD:
        return None
    if revision is None:
        return "the database is not migrated: run `muster db upgrade`"
    if is_known(revision):
        return (
            f"the database's schema is revision {revision}, older than this Muster's: "
            f"run `muster db upgrade` (to {migrations.HEAD})"
        )
    return (
        f"the database's schema is revision {revision}, which this Muster does not know (its "
        f"newest is {migrations.HEAD}): a newer Muster migrated it, and only that Muster reads and "
        "writes all of it, so use that Muster with it"
    )
