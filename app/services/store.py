"""The database as the server reads it: which load is current, and one read transaction per request.

A request reads what it needs in one transaction, so a response is wholly from one data version:
on SQLite a read transaction sees one file (a load replaces the file, never writes it: see
app/ingest/loader.py), on PostgreSQL a REPEATABLE READ transaction sees one snapshot. The server
keeps no copy of the data, only which load is current (``LoadState``), for the response cache and
the ``X-Data-Version`` header.

``DataStore.known()`` is asked on the event loop for every request, and ``current()`` in each
read's thread; both are cheap while the load being served stays the same:

- on SQLite, one ``stat`` of the file. A new inode is a new file (a load, or an operator who
  replaced it, as one ships a file to replicas); a new size or modification time is a file changed
  in place (a migration, a repair). Either way the pooled connections, which keep what they saw,
  are dropped and the current load is read again. A missing file is unavailable data.
- on PostgreSQL, the newest load as a background thread last polled it, every
  ``poll_seconds``. A poll that fails, or is late by ``poll_timeout_seconds`` (a frozen server),
  makes the data unavailable at once, so requests answer 503 instead of waiting on the database,
  and reads already waiting on it give up (``answering_for``).

A read has a deadline, and at most ``reads_at_once`` run at a time, each in a thread of their own
limiter: reads stuck on a frozen server hold those threads only, never the ones the rest of the
server runs on, and never the connection that the poller needs. On SQLite a read past its
deadline, or given up because its client went away, is interrupted, which frees its thread; on
PostgreSQL the server's statement_timeout does that at the deadline, as long as the server runs
at all.
"""

import logging
import math
import os
import sqlite3
import threading
import time
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from anyio import CapacityLimiter
from sqlalchemy import Connection, Engine, Row, select
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import col

import migrations
from app import migrate
from app.models import tables

logger = logging.getLogger("muster.store")

NEWEST_LOAD = (
    select(
        col(tables.DatasetLoad.seq),
        col(tables.DatasetLoad.version),
        col(tables.DatasetLoad.render_version),
    )
    .order_by(col(tables.DatasetLoad.seq).desc())
    .limit(1)
)
"""The newest load's number, data version and render version, if there was a load: what the
server serves (``LoadState``)."""


NOT_IN_TIME = "the database did not answer in time"

INTERRUPT_CHECK_STEPS = 10_000
"""How many SQLite virtual-machine steps a read runs between looks at its deadline and at
whether it was given up."""


class DataUnavailableError(RuntimeError):
    """The database cannot be read: missing, corrupt, unmigrated, unreachable or not answering in
    time. Its message is safe to show to clients; the cause, which may say where the database is,
    goes to the log."""


@dataclass(frozen=True)
class LoadState:
    """The load being served: its sequence number (None when there is no data), its data version
    and the version of the code that rendered its documents. All three key what is remembered of
    it: a database replaced by another (a file renamed over it, a restore) may hold a load of the
    same number, of other data or rendered by another Muster."""

    seq: int | None
    version: str | None
    render_version: str | None

    @classmethod
    def of(cls, newest_load: Row[int | None, str, str] | None) -> "LoadState":
        """The state of a database whose ``NEWEST_LOAD`` row is ``newest_load``."""
        if newest_load is None:
            return EMPTY
        return cls(newest_load.seq, newest_load.version, newest_load.render_version)

    @property
    def is_empty(self) -> bool:
        return self.seq is None


EMPTY = LoadState(None, None, None)


@dataclass(frozen=True)
class Reading:
    """One request's read transaction and the load it sees."""

    connection: Connection
    state: LoadState

    @property
    def on_postgresql(self) -> bool:
        return self.connection.dialect.name == "postgresql"


def unavailable(error: BaseException) -> DataUnavailableError:
    """A client-safe error for a database fault; the detail is logged."""
    logger.warning("the database cannot be read: %s", _first_line(error))
    reason = "the database cannot be read"
    if isinstance(getattr(error, "orig", error), sqlite3.DatabaseError):
        # SQLite's reasons name no place ("no such table: dataset_loads", "file is not a
        # database"), and tell an operator what to repair.
        reason += f": {_first_line(error)}"
    return DataUnavailableError(reason)


def _first_line(error: BaseException) -> str:
    return str(getattr(error, "orig", None) or error).splitlines()[0][:200]


class DataStore:
    def __init__(
        self,
        engine: Engine,
        *,
        sqlite_file: Path | None = None,
        poll_seconds: float = 1.0,
        poll_timeout_seconds: float = 0.5,
        reads_at_once: int = 14,
    ) -> None:
        self.engine = engine
        self.reads = CapacityLimiter(reads_at_once)
        """The threads reads run in (``Data.read``); the rest of the server keeps its own."""
        self._sqlite_file = sqlite_file
        self._poll_seconds = poll_seconds
        self._poll_timeout = poll_timeout_seconds
        self._identity: tuple[int, ...] | None = None
        self._checked_identity: tuple[int, ...] | None = None
        self._damage: str | None = None
        self._state: LoadState | None = None
        self._lock = threading.Lock()
        self._poll_error: str | None = None
        self._polled_at = 0.0
        self._poller: threading.Thread | None = None
        self._closed = threading.Event()

    @property
    def on_postgresql(self) -> bool:
        return self.engine.dialect.name == "postgresql"

    def current(self) -> LoadState:
        """The load being served; raises DataUnavailableError when the database cannot tell.
        It may read the database, and wait on it: asked in a read's thread, never on the event
        loop (``known``)."""
        if self._sqlite_file is not None:
            return self._current_sqlite(self._sqlite_file)
        return self._current_polled()

    def known(self) -> LoadState | None:
        """The load being served, if that is known without reading the database, else None;
        raises DataUnavailableError when it is known not to answer. What the event loop asks: a
        SQLite file that changed is read again by the next read, in its thread, as the read may
        wait on a writer's lock (for SQLite's busy timeout, 5 s); PostgreSQL's first poll too,
        and every poll when ``poll_seconds`` is 0 (each read asks), so nothing is known then."""
        if self._sqlite_file is not None:
            identity = self._identity_of(self._sqlite_file)
            return self._state if identity == self._identity else None
        if self._poller is None or self._poll_seconds <= 0:  # polled by reads alone
            return None
        return self._current_polled()

    def _identity_of(self, database: Path) -> tuple[int, ...]:
        try:
            status = os.stat(database)
        except OSError as error:
            self._forget()
            logger.warning("the database file cannot be read: %s", error)
            raise DataUnavailableError("the database file is missing") from error
        return (status.st_dev, status.st_ino, status.st_size, status.st_mtime_ns)

    def _current_sqlite(self, database: Path) -> LoadState:
        identity = self._identity_of(database)
        state = self._state
        if state is not None and identity == self._identity:
            return state
        with self._lock:
            if self._state is None or identity != self._identity:
                self.engine.dispose()  # its connections saw the file as it was
                self._state = self._read_state()
                self._identity = identity
            return self._state

    def check_integrity(self) -> None:
        """Raise DataUnavailableError when the SQLite file is damaged (a truncated or garbled
        file can still answer what was read before). ``PRAGMA quick_check`` reads every page, so
        it runs once per change of the file, in the thread that asks; PostgreSQL checks itself."""
        if self._sqlite_file is None:
            return
        identity = self._identity
        if identity is not None and identity == self._checked_identity:
            if self._damage is not None:
                raise DataUnavailableError(self._damage)
            return
        try:
            with self.engine.connect() as connection:
                verdicts = [row[0] for row in connection.exec_driver_sql("PRAGMA quick_check")]
        except (SQLAlchemyError, sqlite3.Error) as error:
            self._forget()
            raise unavailable(error) from error
        self._checked_identity = identity
        self._damage = None
        if verdicts != ["ok"]:
            logger.warning("the database file is damaged: %s", "; ".join(verdicts)[:500])
            self._damage = "the database file is damaged: restore it, or run `muster load`"
            raise DataUnavailableError(self._damage)

    def _read_state(self) -> LoadState:
        try:
            with self.engine.connect() as connection:
                revision = migrate.revision_of(connection)
                # An older schema (a file restored or shipped from one) is refused as `muster
                # serve` refuses it at start: some of its tables answer, others not. A newer one
                # is served, as replicas of one database upgrade one after the other.
                if revision != migrations.HEAD and (revision is None or migrate.is_known(revision)):
                    older = migrate.not_current(revision)
                    assert older is not None
                    logger.warning("the database cannot be read: %s", older)
                    self._forget()
                    raise DataUnavailableError(older)
                row = connection.execute(NEWEST_LOAD).first()
        except (SQLAlchemyError, sqlite3.Error) as error:
            self._forget()
            raise unavailable(error) from error
        return LoadState.of(row)

    def _forget(self) -> None:
        self._state = None
        self._identity = None
        self.engine.dispose()

    def _current_polled(self) -> LoadState:
        if self._poll_seconds <= 0:  # asked every time (tests): no thread, no staleness
            self._poll()
            if self._poll_error is not None:
                raise DataUnavailableError(self._poll_error)
            assert self._state is not None
            return self._state
        if self._poller is None:
            with self._lock:
                if self._poller is None:  # started here, not before: uvicorn forks workers
                    self._poll()
                    # The thread holds the store weakly: a store that is dropped unclosed (in
                    # tests, an app never started) stops being polled.
                    self._poller = threading.Thread(
                        target=_keep_polling,
                        args=(weakref.ref(self), self._poll_seconds, self._closed),
                        name="muster-load-poll",
                        daemon=True,
                    )
                    self._poller.start()
        self.answering_for()
        assert self._state is not None
        return self._state

    def answering_for(self) -> float:
        """For how many more seconds the database is taken to answer, from what the poller saw;
        raises DataUnavailableError once it is known not to. Cheap: asked on the event loop,
        before and while a request waits for its read. Unlimited on SQLite and until the poller
        runs: there a read finds out for itself."""
        if self._poller is None:
            return math.inf
        if self._poll_error is not None:
            raise DataUnavailableError(self._poll_error)
        # A poll is due every poll_seconds, and on a server that works it answers within
        # milliseconds: one late by poll_timeout_seconds means the server is not answering.
        late_at = self._polled_at + self._poll_seconds + self._poll_timeout
        left = late_at - time.monotonic()
        if left <= 0:
            raise DataUnavailableError("the database is not answering")
        return left

    def close(self) -> None:
        """Stop polling and close the database connections (when the server stops)."""
        self._closed.set()
        self.engine.dispose()

    def _poll(self) -> None:
        try:
            state = self._read_state()
        except DataUnavailableError as error:
            self._poll_error = str(error)
            return
        self._state = state
        self._poll_error = None
        self._polled_at = time.monotonic()

    @contextmanager
    def reading(
        self, deadline: float = math.inf, given_up: threading.Event | None = None
    ) -> Iterator[Reading]:
        """A read transaction, and the load it sees. On SQLite, a statement still running at
        ``deadline`` (``time.monotonic()``), or once ``given_up`` is set (its client has gone),
        is interrupted, and the read raises."""
        # Drops the connections to a file that was replaced, and fails at once when the
        # database is known not to answer.
        self.current()
        try:
            with (
                self.engine.connect() as connection,
                _until(connection, deadline, given_up),
                connection.begin(),
            ):
                row = connection.execute(NEWEST_LOAD).first()
                yield Reading(connection, LoadState.of(row))
        except (SQLAlchemyError, sqlite3.Error) as error:
            # The file is fine: the read was too long (or given up, and nobody reads this).
            if _interrupted(error):
                raise DataUnavailableError(NOT_IN_TIME) from error
            if self._sqlite_file is not None:
                self._forget()  # a connection that saw a broken file keeps seeing it
            raise unavailable(error) from error


@contextmanager
def _until(
    connection: Connection, deadline: float, given_up: threading.Event | None
) -> Iterator[None]:
    """On SQLite, interrupt the statements of ``connection`` that run past ``deadline`` or after
    ``given_up`` is set. (PostgreSQL's statement_timeout bounds a read there; a read given up
    runs on, as cancelling a pooled connection from another thread could reach its next read.)"""
    raw = connection.connection.dbapi_connection
    if (deadline == math.inf and given_up is None) or not isinstance(raw, sqlite3.Connection):
        yield
        return

    def stop() -> bool:
        return time.monotonic() > deadline or (given_up is not None and given_up.is_set())

    raw.set_progress_handler(stop, INTERRUPT_CHECK_STEPS)
    try:
        yield
    finally:
        raw.set_progress_handler(None, 0)  # the connection goes back to the pool


def _interrupted(error: BaseException) -> bool:
    cause = getattr(error, "orig", error)
    return getattr(cause, "sqlite_errorcode", None) == sqlite3.SQLITE_INTERRUPT


def _keep_polling(
    store_ref: "weakref.ref[DataStore]", every_seconds: float, closed: threading.Event
) -> None:
    while not closed.wait(every_seconds):
        store = store_ref()
        if store is None:
            return
        store._poll()
        del store
