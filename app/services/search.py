"""Full-text search over every record: what is indexed, how a load writes it, how a request asks it.

The index holds one document per record: its name, aliases and other text (description, statement,
quotes, ...) as the API shows them, built from the same public records that a hit resolves to.

Words are made here, in Python, for both the index and the query: runs of letters and digits,
casefolded and without diacritics. Only those plain words reach the database, so SQLite's FTS5
(``unicode61``) and PostgreSQL's ``to_tsvector('simple', ...)`` (no stemming, no stop words) split
them the same way and the two backends give the same answers. A query word matches every indexed
word it begins ("marine" finds "Marines"); a record matches when all the query's words do. User
input reaches ``MATCH`` and ``to_tsquery`` only as such words, each quoted: no query syntax can.

A hit's rank and snippet are worked out from the request's snapshot, so that they, its name and
its url are all of the data version the request is answered from.
"""

import re
import sqlite3
import unicodedata
from bisect import bisect_left
from collections.abc import Iterator, Sequence
from contextlib import closing
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from pydantic import BaseModel
from sqlalchemy import Engine, event, text
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool

from app.models import tables
from app.models.public import (
    AuthorityDetail,
    FactPublic,
    ForceDetail,
    SourcePublic,
    WaveDetail,
)
from app.services.snapshot import Collection, Snapshot, snapshot_in
from app.services.store import DataUnavailableError

INDEX_TABLE = "search_index"
# The collections searched, in the order hits of equal rank are listed: entities, then sources
# and facts.
KINDS = ("forces", "agencies", "waves", "authorities", "activities", "sources", "facts")
WORD = re.compile(r"[^\W_]+")
MARK_OPEN, MARK_CLOSE = "«", "»"
SNIPPET_LENGTH = 160  # characters of a long text kept around its first match

# Ranks, from best: every query word is in the record's name, in its names and aliases, or only
# somewhere in its other text.
IN_NAME, IN_ALIASES, IN_TEXT = 3, 2, 1

# The version of the newest load beside the index's documents or matches, in one statement and
# so of one moment (without the cost of a transaction). Its row is the one whose first column is
# NULL.
_NEWEST_VERSION = (
    f"SELECT version FROM {tables.DatasetLoad.__tablename__} ORDER BY seq DESC LIMIT 1"
)
SQLITE_DOCUMENTS = (
    f"SELECT NULL, ({_NEWEST_VERSION}), NULL, NULL UNION ALL "
    f"SELECT rowid, kind, record_id, words FROM {INDEX_TABLE}"
)
POSTGRESQL_MATCHES = text(
    f"SELECT NULL, ({_NEWEST_VERSION}) UNION ALL "
    f"SELECT kind, record_id FROM {INDEX_TABLE} "
    "WHERE words @@ to_tsquery('simple', :query)"
)
# On SQLite, a copy of the index's words in memory, made once per data version. Asking the file
# took eight system calls a search to take and release its lock, which made the index the
# costliest step of an uncached search under load; the copy takes none. Contentless, as only the
# rowids of matches are asked of it (FTS5 gives them at half the cost of its other columns).
REPLICA_TABLE = (
    f"CREATE VIRTUAL TABLE {INDEX_TABLE} USING fts5("
    "words, content = '', tokenize = 'unicode61 remove_diacritics 0')"
)
REPLICA_INSERT = f"INSERT INTO {INDEX_TABLE} (rowid, words) VALUES (?, ?)"
REPLICA_MATCHES = f"SELECT rowid FROM {INDEX_TABLE} WHERE {INDEX_TABLE} MATCH ?"


# Both remembered: a load and each data version's preparation for search fold the words of the
# same texts, and queries repeat.
@lru_cache(maxsize=16384)
def _fold(word: str) -> tuple[str, ...]:
    """A word as the index keeps it: casefolded, without diacritics; ligatures and the like
    may make it several."""
    decomposed = unicodedata.normalize("NFKD", word.casefold())
    return tuple(WORD.findall("".join(c for c in decomposed if not unicodedata.combining(c))))


@lru_cache(maxsize=4096)
def words(text: str) -> tuple[str, ...]:
    """The words of ``text``, as both the index and a query see them."""
    return tuple(folded for match in WORD.finditer(text) for folded in _fold(match.group()))


@dataclass(frozen=True)
class Fields:
    """What is searched in one record."""

    name: str
    aliases: Sequence[str]
    texts: Sequence[str]

    def all(self) -> list[str]:
        return [self.name, *self.aliases, *self.texts]


def fields_of(record: BaseModel) -> Fields:
    """The searched text of a public record. A fact's statement is its text, not a name."""
    if isinstance(record, FactPublic):
        quotes = [citation.quote for citation in record.citations]
        speakers = sorted({c.attributed_to for c in record.citations if c.attributed_to})
        return Fields("", (), [record.statement, *quotes, *speakers])
    if isinstance(record, SourcePublic):
        texts = [record.description, record.publisher, *record.authors]
        return Fields(record.title or "", (), [t for t in texts if t])
    extra: list[str | None] = []
    if isinstance(record, ForceDetail):
        extra = [record.base]
    elif isinstance(record, AuthorityDetail):
        extra = [record.citation, record.binds]
    elif isinstance(record, WaveDetail):
        extra = [record.origin, record.destination]
    named: Any = record  # every other kind is an entity: name, aliases, description
    texts = [named.description, *extra]
    return Fields(named.name, named.aliases, [t for t in texts if t])


def _collection(snapshot: Snapshot, kind: str) -> Collection[Any]:
    collection: Collection[Any] = getattr(snapshot, kind)
    return collection


def _indexed(snapshot: Snapshot) -> Iterator[tuple[str, Any]]:
    """Every record of ``snapshot`` with its kind: by ``KINDS``, then as its collection lists
    them, which is also the order of hits of equal rank."""
    for kind in KINDS:
        for record in _collection(snapshot, kind):
            yield kind, record


def _documents(snapshot: Snapshot) -> Iterator[dict[str, str]]:
    for kind, record in _indexed(snapshot):
        document = " ".join(word for field in fields_of(record).all() for word in words(field))
        yield {"kind": kind, "record_id": record.id, "words": document}


def rebuild_search_index(session: Session) -> None:
    """Replace the index's documents with those of the data the session sees.

    The loader calls it inside its transaction, after writing the rows, so that the index and the
    data commit together.
    """
    documents = list(_documents(snapshot_in(session)))
    session.execute(text(f"DELETE FROM {INDEX_TABLE}"))
    if not documents:
        return
    words_value = "to_tsvector('simple', :words)" if _is_postgresql(session) else ":words"
    session.execute(
        text(
            f"INSERT INTO {INDEX_TABLE} (kind, record_id, words) "
            f"VALUES (:kind, :record_id, {words_value})"
        ),
        documents,
    )


def search_index_is_empty(session: Session) -> bool:
    return session.execute(text(f"SELECT 1 FROM {INDEX_TABLE} LIMIT 1")).first() is None


def _is_postgresql(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def include_in_autogenerate(name: str | None, type_: str, _parent_names: object) -> bool:
    """Alembic's ``include_name`` hook: the index is no model of SQLModel's metadata (an FTS5
    virtual table and its shadow tables on SQLite, a tsvector table on PostgreSQL), so the
    comparison of models and database leaves it out."""
    return not (type_ == "table" and name is not None and name.startswith(INDEX_TABLE))


class EmptyQueryError(ValueError):
    """The query holds no word to search for."""


class SearchIndex:
    """Asks the database which records match; a request's snapshot says what they are.

    On SQLite the index is copied into memory once per data version (``REPLICA_TABLE``), and
    the copy is asked on the event loop: it answers in microseconds, and a trip through the
    thread pool would cost several times that. The copy is read from the file through a
    connection that never waits for a lock: while a load commits, which locks the
    file for a moment, waiting would hold up every request, so the snapshot's records are looked
    through instead, as when the index is of another version. PostgreSQL is a network round
    trip away: it is asked from the thread pool, through the engine, on every search.
    """

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._on_sqlite = engine.dialect.name == "sqlite"
        self._replica: _Replica | None = None
        if self._on_sqlite:
            event.listen(engine, "engine_disposed", self._close_replica)
        self._records: _Records | None = None  # of the newest snapshot searched

    async def search(
        self, snapshot: Snapshot, query: str, kind: str | None = None
    ) -> list[dict[str, Any]]:
        """The records of ``snapshot`` that hold every word of ``query``, best first; records
        of equal rank in the order of ``KINDS`` and, within a kind, of their collection. Each
        hit as the API shows it: the fields of ``SearchHit``, ready for JSON, as a list's records
        are (``Collection.listed``).

        The index only narrows the candidates, and only when it is of the snapshot's data
        version: while a newer load is committed and the snapshot not yet replaced, the
        snapshot's records are looked through instead. Either way each hit is checked against
        the snapshot's own text, so a response never mixes two versions.
        """
        terms = sorted(set(words(query)))
        if not terms:
            raise EmptyQueryError("q: has no letters or digits to search for")
        records = self._records_of(snapshot)
        if self._on_sqlite:
            candidates = self._sqlite_candidates(terms, records)
        else:
            candidates = await run_in_threadpool(self._postgresql_candidates, terms, records)
        if candidates is None:
            candidates = records.in_order
        needles = [f" {term}" for term in terms]
        found = []
        for record in candidates:
            if kind is None or record.kind == kind:
                hit = record.hit(terms, needles)
                if hit is not None:
                    found.append((-hit["rank"], record.place, hit))
        found.sort(key=lambda item: item[:2])
        return [hit for _, _, hit in found]

    def _records_of(self, snapshot: Snapshot) -> "_Records":
        if self._records is None or self._records.snapshot is not snapshot:
            self._records = _Records(snapshot)
        return self._records

    def _sqlite_candidates(self, terms: list[str], records: "_Records") -> "list[_Record] | None":
        """The records whose documents match; None when the index cannot tell (of another data
        version than the snapshot, or locked by a load)."""
        replica = self._replica_of(records.snapshot.version)
        if replica is None:
            return None
        query = " AND ".join(f'"{term}"*' for term in terms)
        rows = replica.connection.execute(REPLICA_MATCHES, (query,)).fetchall()
        return [records.by_key[replica.keys[rowid]] for (rowid,) in rows]

    def _replica_of(self, version: str | None) -> "_Replica | None":
        """The index of ``version`` in memory; None when the file's index is not of it, or is
        locked by a load."""
        if self._replica is not None and self._replica.version == version:
            return self._replica
        (file,), options = self._engine.dialect.create_connect_args(self._engine.url)
        try:
            with closing(sqlite3.connect(file, timeout=0, **options)) as database:
                rows = database.execute(SQLITE_DOCUMENTS).fetchall()
        except sqlite3.OperationalError as error:
            if error.sqlite_errorcode & 0xFF == sqlite3.SQLITE_BUSY:  # a load is committing
                return None
            raise _unreadable(error) from error
        except sqlite3.Error as error:
            raise _unreadable(error) from error
        documents = _of_version(rows, version)
        if documents is None:
            return None
        self._close_replica()
        self._replica = _Replica.of(version, documents)
        return self._replica

    def _postgresql_candidates(
        self, terms: list[str], records: "_Records"
    ) -> "list[_Record] | None":
        """The records whose documents match; None when the index is of another data version
        than the snapshot."""
        # every term a quoted prefix, all required; terms are letters and digits
        query = " & ".join(f"'{term}':*" for term in terms)
        try:
            with self._engine.connect() as connection:
                rows = connection.execute(POSTGRESQL_MATCHES, {"query": query}).all()
        except SQLAlchemyError as error:
            raise _unreadable(getattr(error, "orig", None) or error) from error
        matches = _of_version(rows, records.snapshot.version)
        if matches is None:
            return None
        return [records.by_key[kind, record_id] for kind, record_id in matches]

    def _close_replica(self, _engine: Engine | None = None) -> None:
        """Closes the copy in memory, with the engine's connections when the server stops (a
        later search makes another)."""
        if self._replica is not None:
            self._replica.connection.close()
            self._replica = None


@dataclass(frozen=True)
class _Replica:
    """The index of one data version in memory (``REPLICA_TABLE``), with the rowids it shares
    with the file's index."""

    version: str | None
    connection: sqlite3.Connection
    keys: dict[int, tuple[str, str]]  # each rowid's document: its record's kind and id

    @classmethod
    def of(cls, version: str | None, documents: Sequence[Any]) -> "_Replica":
        """From the rows of SQLITE_DOCUMENTS: rowid, kind, record id and words."""
        # Used on the event loop only, which may run in another thread than the one it began in.
        connection = sqlite3.connect(":memory:", check_same_thread=False)
        connection.execute(REPLICA_TABLE)
        connection.executemany(REPLICA_INSERT, [(rowid, words) for rowid, _, _, words in documents])
        keys = {rowid: (kind, record_id) for rowid, kind, record_id, _ in documents}
        return cls(version, connection, keys)


def _of_version(rows: Sequence[Any], version: str | None) -> list[Any] | None:
    """The rows of SQLITE_DOCUMENTS or POSTGRESQL_MATCHES, if the index is of ``version``."""
    indexed_version = next(row[1] for row in rows if row[0] is None)
    if indexed_version != version:
        return None
    return [row for row in rows if row[0] is not None]


def _unreadable(error: Exception) -> DataUnavailableError:
    reason = str(error).splitlines()[0][:200]
    return DataUnavailableError(f"the search index cannot be read: {reason}")


@dataclass(frozen=True)
class _Text:
    """One searched text of a record, with its words worked out once per data version."""

    text: str
    words: str  # its folded words, each after a space: a term begins one if " term" is in it
    vocabulary: list[str]  # its distinct folded words, sorted: those a term begins are adjacent
    places: dict[str, list[tuple[int, int]]]  # where in the text each folded word stands

    @classmethod
    def of(cls, text: str) -> "_Text":
        places: dict[str, list[tuple[int, int]]] = {}
        for match in WORD.finditer(text):
            for folded in _fold(match.group()):
                places.setdefault(folded, []).append(match.span())
        spaced = "".join(f" {word}" for word in words(text))
        return cls(text, spaced, sorted(places), places)

    def spans(self, terms: list[str]) -> list[tuple[int, int]]:
        """Where the words that a term begins stand, in order."""
        vocabulary, found = self.vocabulary, set()
        for term in terms:
            at = bisect_left(vocabulary, term)
            while at < len(vocabulary) and vocabulary[at].startswith(term):
                found.update(self.places[vocabulary[at]])
                at += 1
        return sorted(found)


@dataclass(frozen=True)
class _Record:
    """A record as a search looks at it, worked out once per data version."""

    kind: str
    place: int  # in the order of the index's documents: among hits of equal rank, first first
    shown: dict[str, str]  # what a hit shows of it besides its snippet and rank
    texts: tuple[_Text, ...]  # its name, aliases and other texts
    in_name: str  # the words of its name, as in _Text.words
    in_names: str  # of its name and aliases
    anywhere: str  # of all its texts

    @classmethod
    def of(cls, snapshot: Snapshot, kind: str, record: Any, place: int) -> "_Record":
        fields = fields_of(record)
        texts = tuple(_Text.of(text) for text in fields.all())
        names = 1 + len(fields.aliases)
        ref = snapshot.refs[record.id]
        return cls(
            kind,
            place,
            {"kind": kind, "id": record.id, "name": ref.name, "url": ref.url},
            texts,
            in_name=texts[0].words,
            in_names="".join(text.words for text in texts[:names]),
            anywhere="".join(text.words for text in texts),
        )

    def hit(self, terms: list[str], needles: list[str]) -> dict[str, Any] | None:
        """The record as a hit, if it holds every term; ``needles`` are the terms, each after a
        space."""
        if not _holds(self.anywhere, needles):
            return None
        if not _holds(self.in_names, needles):
            rank = IN_TEXT
        elif _holds(self.in_name, needles):
            rank = IN_NAME
        else:
            rank = IN_ALIASES
        best = self._best(needles)
        return {**self.shown, "snippet": _snippet(best.text, best.spans(terms)), "rank": rank}

    def _best(self, needles: list[str]) -> _Text:
        """The first of its texts that holds the most of the needles."""
        best, most = self.texts[0], 0
        for candidate in self.texts:
            held = sum(needle in candidate.words for needle in needles)
            if held > most:
                best, most = candidate, held
                if held == len(needles):
                    break
        return best


def _holds(words: str, needles: list[str]) -> bool:
    """Whether every needle is in ``words``: a loop, as ``all()`` of a generator costs more
    than the test itself for the one or two words of most queries."""
    for needle in needles:  # noqa: SIM110
        if needle not in words:
            return False
    return True


class _Records:
    """The records of one snapshot as a search looks at them."""

    def __init__(self, snapshot: Snapshot) -> None:
        self.snapshot = snapshot
        self.in_order = [
            _Record.of(snapshot, kind, record, place)
            for place, (kind, record) in enumerate(_indexed(snapshot))
        ]
        self.by_key = {(record.kind, record.shown["id"]): record for record in self.in_order}


def _snippet(text: str, spans: list[tuple[int, int]]) -> str:
    """``text`` with the words at ``spans`` «marked», cut to a window around the first."""
    start, end = _window(text, spans[0][0] if spans else 0)
    pieces = ["…" if start else ""]
    cursor = start
    for span_start, span_end in spans:
        if span_end <= end:
            pieces += [text[cursor:span_start], MARK_OPEN, text[span_start:span_end], MARK_CLOSE]
            cursor = span_end
    pieces += [text[cursor:end], "…" if end < len(text) else ""]
    return "".join(pieces)


def _window(text: str, first_match: int) -> tuple[int, int]:
    """Where to cut a long ``text``: from a little before its first match, at word boundaries."""
    if len(text) <= SNIPPET_LENGTH:
        return 0, len(text)
    start = max(0, first_match - SNIPPET_LENGTH // 3)
    if start:
        start = text.rfind(" ", 0, start) + 1
    end = text.find(" ", start + SNIPPET_LENGTH)
    return start, end if end != -1 else len(text)
