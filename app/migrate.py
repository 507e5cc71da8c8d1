"""Running the Alembic migrations that ship inside the package."""

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, NullPool, text

import migrations
from app.db import make_engine

MIGRATION_LOCK_KEY = 0x6D7573746572
"""The PostgreSQL advisory lock that migrations hold: the bytes of ``b"muster"`` as an integer.

Replicas that start together all run ``muster db upgrade``; the lock makes them migrate one after
the other, so the first migrates and the others find the schema already at head.
"""


def alembic_config(database_url: str, connection: Connection | None = None) -> Config:
    """Alembic's configuration; with ``connection``, migrations/env.py migrates through it."""
    config = Config()
    config.set_main_option("script_location", str(Path(migrations.__file__).parent))
    # ConfigParser interpolation would read a "%" in a password as a placeholder.
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def upgrade(database_url: str, revision: str = "head") -> None:
    with _migration_connection(database_url) as connection:
        command.upgrade(alembic_config(database_url, connection), revision)


def downgrade(database_url: str, revision: str) -> None:
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


def is_current(database_url: str) -> bool:
    """Whether the database is migrated to the newest revision."""
    script = ScriptDirectory.from_config(alembic_config(database_url))
    engine = make_engine(database_url)
    try:
        with engine.connect() as connection:
            current = MigrationContext.configure(connection).get_current_heads()
    finally:
        engine.dispose()
    return set(current) == set(script.get_heads())
