"""The current snapshot of the data, refreshed when ``muster load`` commits a new version."""

import os
import sqlite3
import threading
import time
from collections.abc import Callable

from sqlalchemy import Engine, func, select
from sqlalchemy.exc import SQLAlchemyError

from app.models import tables
from app.services.snapshot import Snapshot, read_snapshot


class DataUnavailableError(RuntimeError):
    """The database cannot be read: missing, corrupt, unmigrated or unreachable."""


class DataStore:
    """Hands each request the current snapshot, re-reading the database only when it changed.

    ``change_token`` is cheap and is asked on every request: on SQLite, ``PRAGMA data_version``
    on a connection of our own (it changes when another connection commits); on other databases,
    the newest load's sequence number, asked at most every ``poll_seconds``.
    """

    def __init__(self, engine: Engine, change_token: Callable[[], object]) -> None:
        self._engine = engine
        self._change_token = change_token
        self._token: object = None
        self._snapshot: Snapshot | None = None
        self._lock = threading.Lock()

    @property
    def engine(self) -> Engine:
        """The read-only engine, for the queries a snapshot cannot answer (search)."""
        return self._engine

    def current(self) -> Snapshot:
        try:
            token = self._change_token()
            if self._snapshot is not None and token == self._token:
                return self._snapshot
            with self._lock:
                if self._snapshot is None or token != self._token:
                    self._snapshot = read_snapshot(self._engine)
                    self._token = token
                return self._snapshot
        except (SQLAlchemyError, sqlite3.Error) as error:
            self._snapshot = None
            raise DataUnavailableError(_reason(error)) from error


def _reason(error: Exception) -> str:
    text = str(getattr(error, "orig", None) or error).splitlines()[0]
    return text[:200]


SQLITE_WAL_FORMAT = 2  # the header's file format version (byte 18) of a database in WAL mode


def sqlite_change_token(database: str) -> Callable[[], object]:
    """A token that changes whenever another connection commits to the SQLite file.

    In rollback-journal mode (the default, Muster's), every commit increments the file change
    counter, bytes 24 to 27 of the file's header, and that counter is what SQLite itself compares
    to tell that another connection committed (``PRAGMA data_version``). Reading it is one
    ``pread``; the pragma also takes and releases a file lock, a sixth of the time of a cached
    response. A database in WAL mode does not keep the counter, so there the pragma answers.
    """
    connection = sqlite3.connect(
        f"file:{database}?mode=ro", uri=True, check_same_thread=False, isolation_level=None
    )
    descriptor = os.open(database, os.O_RDONLY)

    def token() -> object:
        header = os.pread(descriptor, 10, 18)  # bytes 18 to 27: format versions ... change counter
        if len(header) == 10 and header[0] != SQLITE_WAL_FORMAT:
            return header[6:]
        return connection.execute("PRAGMA data_version").fetchone()[0]

    return token


def polled_change_token(engine: Engine, poll_seconds: float) -> Callable[[], object]:
    """A token from the newest load's sequence number, asked at most every ``poll_seconds``."""
    state: dict[str, object] = {"token": None, "asked_at": float("-inf")}

    def token() -> object:
        now = time.monotonic()
        if now - float(state["asked_at"]) >= poll_seconds:  # type: ignore[arg-type]
            with engine.connect() as connection:
                state["token"] = connection.execute(
                    select(func.max(tables.DatasetLoad.seq))
                ).scalar()
            state["asked_at"] = now
        return state["token"]

    return token
