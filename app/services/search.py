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
import unicodedata
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from pydantic import BaseModel
from sqlalchemy import Engine, bindparam, text
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session, col, select

from app.models import tables
from app.models.public import (
    AuthorityDetail,
    FactPublic,
    ForceDetail,
    SearchHit,
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

NEWEST_VERSION = (
    select(tables.DatasetLoad.version).order_by(col(tables.DatasetLoad.seq).desc()).limit(1)
)


# Both remembered: every search looks through the same fields of the same records, and folding
# their words again took nine tenths of its time (3.4 ms of a search for "Marines"; 0.75 ms now).
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


def _documents(snapshot: Snapshot) -> Iterator[dict[str, str]]:
    for kind in KINDS:
        for record in _collection(snapshot, kind):
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
    """Asks the database which records match; a request's snapshot says what they are."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def search(self, snapshot: Snapshot, query: str, kind: str | None = None) -> list[SearchHit]:
        """The records of ``snapshot`` that hold every word of ``query``, best first; records
        of equal rank in the order of ``KINDS`` and, within a kind, of their collection.

        The index only narrows the candidates, and only when it is of the snapshot's data
        version: while a newer load is committed and the snapshot not yet replaced, the
        snapshot's records are looked through instead. Either way each hit is checked against
        the snapshot's own text, so a response never mixes two versions.
        """
        terms = sorted(set(words(query)))
        if not terms:
            raise EmptyQueryError("q: has no letters or digits to search for")
        kinds = [kind] if kind else list(KINDS)
        candidates = self._candidates(terms, kinds, snapshot.version)
        found = []
        for kind_position, kind_name in enumerate(kinds):
            for position, record in enumerate(_collection(snapshot, kind_name)):
                if candidates is not None and (kind_name, record.id) not in candidates:
                    continue
                hit = _hit(snapshot, kind_name, record, terms)
                if hit is not None:
                    found.append((kind_position, position, hit))
        found.sort(key=lambda item: (-item[2].rank, item[0], item[1]))
        return [hit for _, _, hit in found]

    def _candidates(
        self, terms: list[str], kinds: list[str], version: str | None
    ) -> set[tuple[str, str]] | None:
        """The (kind, id) of every indexed record that matches all ``terms``; None when the
        index is of another data version than ``version``."""
        postgresql = self._engine.dialect.name == "postgresql"
        if postgresql:  # every term a quoted prefix, all required; terms are letters and digits
            condition = "words @@ to_tsquery('simple', :query)"
            query = " & ".join(f"'{term}':*" for term in terms)
        else:
            condition = f"{INDEX_TABLE} MATCH :query"
            query = " AND ".join(f'"{term}"*' for term in terms)
        statement = text(
            f"SELECT kind, record_id FROM {INDEX_TABLE} WHERE {condition} AND kind IN :kinds"
        ).bindparams(bindparam("kinds", expanding=True))
        try:
            # One transaction, so that the version read is the version of the index searched.
            with self._engine.connect() as connection, connection.begin():
                if connection.execute(NEWEST_VERSION).scalar() != version:
                    return None
                rows = connection.execute(statement, {"query": query, "kinds": kinds})
                return {(row.kind, row.record_id) for row in rows}
        except SQLAlchemyError as error:
            reason = str(getattr(error, "orig", None) or error).splitlines()[0][:200]
            raise DataUnavailableError(f"the search index cannot be read: {reason}") from error


def _hit(snapshot: Snapshot, kind: str, record: Any, terms: list[str]) -> SearchHit | None:
    """``record`` as a hit, if it holds every term."""
    fields = fields_of(record)
    in_name = _terms_in(fields.name, terms)
    in_names = in_name.union(*(_terms_in(alias, terms) for alias in fields.aliases))
    anywhere = in_names.union(*(_terms_in(text, terms) for text in fields.texts))
    if len(anywhere) < len(terms):
        return None
    if len(in_name) == len(terms):
        rank = IN_NAME
    elif len(in_names) == len(terms):
        rank = IN_ALIASES
    else:
        rank = IN_TEXT
    best = max(fields.all(), key=lambda field: len(_terms_in(field, terms)))
    ref = snapshot.refs[record.id]
    return SearchHit(
        kind=kind, id=record.id, name=ref.name, url=ref.url, snippet=snippet(best, terms), rank=rank
    )


def _terms_in(field: str, terms: list[str]) -> set[str]:
    present = words(field)
    return {term for term in terms if any(word.startswith(term) for word in present)}


def snippet(field: str, terms: list[str]) -> str:
    """``field`` with each word that a term begins «marked», cut to a window around the first."""
    spans = [
        match.span()
        for match in WORD.finditer(field)
        if any(word.startswith(term) for word in _fold(match.group()) for term in terms)
    ]
    start, end = _window(field, spans[0][0] if spans else 0)
    pieces = ["…" if start else ""]
    cursor = start
    for span_start, span_end in spans:
        if span_end <= end:
            pieces += [field[cursor:span_start], MARK_OPEN, field[span_start:span_end], MARK_CLOSE]
            cursor = span_end
    pieces += [field[cursor:end], "…" if end < len(field) else ""]
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
