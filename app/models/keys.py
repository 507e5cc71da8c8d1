"""The database's own secrets: random values made once, by the migration that makes their table
(0021), and never written again. A load keeps them (``app/ingest/loader.py``, ``KEPT_TABLES``),
and ``muster serve`` reads them at start.

Pagination cursors are signed with the database's ``cursor_key`` (unless MUSTER_CURSOR_KEY is
set): every process and replica serving one database, and every restart of them, sign alike with
no setting, so a next link one issued is taken by all of them, and a paged list's body, which
holds it, and so its ETag, stays the same while its data does.
"""

from sqlalchemy import Connection, select
from sqlmodel import Field, SQLModel, col

from app.models import tables  # noqa: F401  (its naming convention names this table's key too)

CURSOR_KEY = "cursor_key"
"""The row of the key that signs pagination cursors: 32 random bytes, in hex."""


class DatabaseSecret(SQLModel, table=True):
    """A named secret of the database's, made by its migration."""

    __tablename__ = "database_secrets"

    name: str = Field(primary_key=True)
    value: str


def cursor_key(connection: Connection) -> bytes | None:
    """The database's key for pagination cursors; None if it has none (not yet migrated)."""
    value = connection.execute(
        select(col(DatabaseSecret.value)).where(col(DatabaseSecret.name) == CURSOR_KEY)
    ).scalar_one_or_none()
    return None if value is None else value.encode()
