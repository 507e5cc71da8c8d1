"""Full-text search over every record: what is indexed, how a load writes it, how a request asks it.

The index holds one document per record, in three columns: its name, its aliases, and its other
text (description, statement, quotes, ...), as the API shows them. Its rowid is the record's place
(``search_records.place``): records of one kind are adjacent (the entities, then the sources, then
the facts), so a kind is a range of places; a fact's place is its ``told_at``, from 0, and every
other record's is below 0 (``loader._SearchPlaces``).

Words are made here, in Python, for both the index and the query: runs of letters and digits,
NFKC-normalised, casefolded and without diacritics. Only those plain words reach the database, so
SQLite's FTS5 (``unicode61``) and PostgreSQL's ``to_tsvector('simple', ...)`` (no stemming, no stop
words) split them the same way and the two backends give the same answers. A query word matches
every indexed word it begins ("marine" finds "Marines"); a record matches when all the query's
words do. User input reaches ``MATCH`` and ``to_tsquery`` only as such words, each quoted: no query
syntax can.

A hit's rank is the first column set that holds every word: the name (3), the name and aliases
(2), or anywhere (1). Each rank is one indexed query, in place order, so a page costs what its own
hits cost however many records match: the database never sorts the matches.
"""

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import orjson
from pydantic import BaseModel
from sqlalchemy import Connection, bindparam, text

from app.db import execute_many, insert_rows
from app.models import tables
from app.models.public import AuthorityPublic, FactPublic, ForcePublic, SourcePublic, WavePublic

INDEX_TABLE = "search_index"
WORD = re.compile(r"[^\W_]+")
MARK_OPEN, MARK_CLOSE = "«", "»"
SNIPPET_LENGTH = 160  # characters of a long text kept around its first match

# Ranks, from best: every query word is in the record's name, in its names and aliases, or only
# somewhere in its other text.
IN_NAME, IN_ALIASES, IN_TEXT = 3, 2, 1
RANKS = (IN_NAME, IN_ALIASES, IN_TEXT)
INDEX_BATCH = 2000


# Both remembered: a load and each data version's preparation for search fold the words of the
# same texts, and queries repeat.
@lru_cache(maxsize=16384)
def _fold(word: str) -> tuple[str, ...]:
    """A word as the index keeps it: casefolded, without diacritics; ligatures and the like
    may make it several."""
    decomposed = unicodedata.normalize("NFKD", unicodedata.normalize("NFKC", word).casefold())
    return tuple(WORD.findall("".join(c for c in decomposed if not unicodedata.combining(c))))


@lru_cache(maxsize=4096)
def words(text: str) -> tuple[str, ...]:
    """The words of ``text``, as both the index and a query see them."""
    normalized = unicodedata.normalize("NFKC", text)
    return tuple(folded for match in WORD.finditer(normalized) for folded in _fold(match.group()))


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
    if isinstance(record, ForcePublic):
        extra = [record.base]
    elif isinstance(record, AuthorityPublic):
        extra = [record.citation, record.binds]
    elif isinstance(record, WavePublic):
        extra = [record.origin, record.destination]
    named: Any = record  # every other kind is an entity: name, aliases, description
    texts = [named.description, *extra]
    return Fields(named.name, named.aliases, [t for t in texts if t])


def include_in_autogenerate(name: str | None, type_: str, _parent_names: object) -> bool:
    """Alembic's ``include_name`` hook: the index is no model of SQLModel's metadata (an FTS5
    virtual table and its shadow tables on SQLite, a tsvector table on PostgreSQL), so the
    comparison of models and database leaves it out."""
    return not (type_ == "table" and name is not None and name.startswith(INDEX_TABLE))


class IndexWriter:
    """Writes the index and ``search_records`` inside the load's transaction, in batches."""

    def __init__(self, connection: Connection) -> None:
        self._connection = connection
        words_value = (
            "setweight(to_tsvector('simple', ?), 'A') || "
            "setweight(to_tsvector('simple', ?), 'B') || "
            "setweight(to_tsvector('simple', ?), 'C')"
        )
        if connection.dialect.name == "postgresql":
            self._insert = f"INSERT INTO {INDEX_TABLE} (place, words) VALUES (?, {words_value})"
        else:
            self._insert = (
                f"INSERT INTO {INDEX_TABLE} (rowid, name, aliases, other) VALUES (?, ?, ?, ?)"
            )
        self._records: list[dict[str, Any]] = []
        self._documents: list[tuple[int, str, str, str]] = []

    def add(self, place: int, entry: dict[str, Any]) -> None:
        """One record: ``entry`` is its row of ``search_records`` without its place."""
        texts: list[str] = entry["texts"]
        names = entry["names"]
        self._records.append({**entry, "place": place})
        self._documents.append(
            (place, _indexed(texts[:1]), _indexed(texts[1:names]), _indexed(texts[names:]))
        )
        if len(self._records) >= INDEX_BATCH:
            self.flush()

    def flush(self) -> None:
        if self._records:
            insert_rows(self._connection, tables.SearchRecord, self._records)
            # By place: FTS5 writes its pending terms out as a segment whenever a rowid comes
            # lower than the last, and records come bundle by bundle while their places go by
            # kind and id. Sorted, the index's writes took 1.6-1.8 s of a load at 1000x instead
            # of 4.4 s (timed by hand).
            execute_many(self._connection, self._insert, sorted(self._documents))
        self._records, self._documents = [], []


def _indexed(texts: Sequence[str]) -> str:
    return " ".join(word for field in texts for word in words(field))


class EmptyQueryError(ValueError):
    """The query holds no word to search for."""


def terms_of(query: str) -> list[str]:
    """The words of a query, as the index holds words; refused when it holds none."""
    terms = sorted(set(words(query)))
    if not terms:
        raise EmptyQueryError("q: has no letters or digits to search for")
    return terms


@dataclass(frozen=True)
class Matcher:
    """The statements that find the records holding every term, on one backend."""

    terms: Sequence[str]
    on_postgresql: bool

    def _expression(self, columns: str) -> str:
        """FTS5's query or tsquery for every term in ``columns``: name (A), names (AB), all."""
        if self.on_postgresql:
            weights = {"name": "A", "names": "AB", "all": ""}[columns]
            return " & ".join(f"'{term}':*{weights}" for term in self.terms)
        every = " AND ".join(f'"{term}"*' for term in self.terms)
        return {
            "name": f"{{name}} : ({every})",
            "names": f"{{name aliases}} : ({every})",
            "all": f"({every})",
        }[columns]

    def condition(self, rank: int | None) -> tuple[str, dict[str, str]]:
        """A WHERE condition on the index (as ``search_index``) for the records of ``rank``, or
        for every match when None; and its parameters."""
        held, better = {
            None: ("all", None),
            IN_NAME: ("name", None),
            IN_ALIASES: ("names", "name"),
            IN_TEXT: ("all", "names"),
        }[rank]
        if self.on_postgresql:
            condition = "search_index.words @@ to_tsquery('simple', :held)"
            if better:
                condition += " AND NOT search_index.words @@ to_tsquery('simple', :better)"
        else:
            condition = "search_index MATCH :held"
            if better:  # FTS5 takes one MATCH per table: the exclusion is inside it
                return condition, {
                    "held": f"{self._expression(held)} NOT {self._expression(better)}"
                }
        parameters = {"held": self._expression(held)}
        if better:
            parameters["better"] = self._expression(better)
        return condition, parameters

    @property
    def place(self) -> str:
        return "search_index.place" if self.on_postgresql else "search_index.rowid"


def matcher(connection: Connection, query: str) -> Matcher:
    return Matcher(terms_of(query), connection.dialect.name == "postgresql")


def of_kind(found: Matcher, kind: str) -> tuple[str, dict[str, str]]:
    """A condition on the index, and its parameter: the place is one of the records of ``kind``,
    in the range of places they hold, which the index seeks to. A kind with no records has the
    range 1 to 0, which holds no place: FTS5 takes a NULL bound for no bound at all."""
    first, last = (
        f"COALESCE((SELECT {end}(place) FROM search_records WHERE kind = :indexed_kind), {empty})"
        for end, empty in (("min", 1), ("max", 0))
    )
    return f"{found.place} BETWEEN {first} AND {last}", {"indexed_kind": kind}


PLACE_NUMBERING = "facts from 0 by told_at"
"""How places are numbered (see the docstring), since migration 0018: before it they counted from
0 with the facts last, and a cursor holding a place of that count is refused."""


def of_facts(found: Matcher) -> str:
    """A condition on the index: the place is a fact's. Facts hold the places from 0 up, every
    other record those below (see the docstring), so the index seeks to the first fact."""
    return f"{found.place} >= 0"


UNKNOWN_ON = " AND ".join(
    f"NOT EXISTS (SELECT 1 FROM search_records JOIN {table} ON {table}.id = "
    f"search_records.record_id WHERE search_records.place = {{place}} AND search_records.kind = "
    f"'{table}' AND {table}.{day} > :as_of)"
    for table, day in (("facts", "reported_on"), ("sources", "published"))
)
"""Not a fact reported after the day ``:as_of``, nor a source published after it: looked up by
key for each hit as the index reads them, not a set of every record unknown that day, which
took 75 to 138 ms a rank query at 1000x against 0.6 to 1.2 ms (timed by hand on the file)."""


def _kept(found: Matcher, kind: str | None, as_of: str | None) -> tuple[str, dict[str, Any]]:
    """The conditions, each after " AND ", that keep the records of ``kind`` known on the day
    ``as_of`` (either only when given), and their parameters."""
    conditions = ""
    parameters: dict[str, Any] = {}
    if kind is not None:
        condition, kind_parameters = of_kind(found, kind)
        conditions += f" AND {condition}"
        parameters |= kind_parameters
    if as_of is not None:
        conditions += " AND " + UNKNOWN_ON.format(place=found.place)
        parameters["as_of"] = as_of
    return conditions, parameters


def count(
    connection: Connection,
    found: Matcher,
    kind: str | None,
    as_of: str | None = None,
) -> int:
    """How many records hold every term (of ``kind`` when given; known on the day ``as_of`` when
    given)."""
    condition, parameters = found.condition(None)
    kept, kept_parameters = _kept(found, kind, as_of)
    sql = f"SELECT count(*) FROM {INDEX_TABLE} WHERE {condition}{kept}"
    bound: dict[str, Any] = dict(parameters) | kept_parameters
    return int(connection.execute(text(sql), bound).scalar_one())


def hits(
    connection: Connection,
    found: Matcher,
    kind: str | None,
    after: tuple[int, int] | None,
    limit: int,
    as_of: str | None = None,
) -> list[dict[str, Any]]:
    """Up to ``limit`` hits, best first, after the hit ``after`` (its rank and place), of
    ``kind`` when given and of the records known on the day ``as_of`` when given: each as the API
    shows it, with its ``place`` for the next page's cursor."""
    chosen: list[tuple[int, int]] = []
    kept, kept_parameters = _kept(found, kind, as_of)
    for rank in RANKS:
        if after is not None and rank > after[0]:
            continue
        condition, parameters = found.condition(rank)
        sql = f"SELECT {found.place} FROM {INDEX_TABLE} WHERE {condition}{kept}"
        bound: dict[str, Any] = dict(parameters) | kept_parameters
        if after is not None and rank == after[0]:
            sql += f" AND {found.place} > :after"
            bound["after"] = after[1]
        sql += f" ORDER BY {found.place} LIMIT :limit"
        bound["limit"] = limit - len(chosen)
        chosen += [(rank, place) for (place,) in connection.execute(text(sql), bound)]
        if len(chosen) >= limit:
            break
    if not chosen:
        return []
    rows = {
        row.place: row
        for row in connection.execute(HIT_RECORDS, {"places": [p for _, p in chosen]})
    }
    marks = Marks(found.terms)
    return [_hit(rows[place], rank, marks) for rank, place in chosen]


PLACE_OF_RECORD = text("SELECT place FROM search_records WHERE kind = :kind AND record_id = :id")


def place_of(connection: Connection, kind: str, record_id: str) -> int | None:
    """The place in the index of a record, found by its kind and id (which a search cursor holds,
    as a load numbers the places anew); None when the data holds no such record."""
    place: int | None = connection.execute(
        PLACE_OF_RECORD, {"kind": kind, "id": record_id}
    ).scalar()
    return place


HIT_RECORDS = text(
    "SELECT place, kind, record_id, name, url, texts FROM search_records WHERE place IN :places"
).bindparams(bindparam("places", expanding=True))


ASCII_WORD_START = "(?<![A-Za-z0-9])"
NOT_ASCII = re.compile(r"[^\x00-\x7f]")


def _separates_alone(character: str) -> bool:
    """Whether ``character`` is punctuation or a space that stays no letter or digit under NFKC
    and composes with no neighbour, as curly quotes and the section sign: the words around it
    are as they would be in ASCII."""
    return (
        unicodedata.category(character)[0] in "PZ"
        and WORD.search(unicodedata.normalize("NFKC", character)) is None
    )


class Marks:
    """Which of a query's terms a text holds, and where the words they begin stand in it.

    Where every letter and digit of a text is ASCII, a word is a run of ASCII letters and digits
    and folding it is lower-casing it: regular expressions find both, without folding each word
    in Python. Other text is folded word by word, as the index was. (Uncached, a search for
    "Marines" at 1000x answered 432 requests a second against 352 folding every text, medians of
    5: bench.served_beside --uncached --scale 1000.)
    """

    def __init__(self, terms: Sequence[str]) -> None:
        self.terms = terms
        self._needles = [f" {term}" for term in terms]
        ascii_terms = [re.escape(term) for term in terms if term.isascii()]
        flags = re.IGNORECASE | re.ASCII
        self._each_term = [re.compile(ASCII_WORD_START + term, flags) for term in ascii_terms]
        any_term = "|".join(ascii_terms) or "(?!)"  # (?!) matches nowhere
        self._begun_words = re.compile(f"{ASCII_WORD_START}(?:{any_term})[A-Za-z0-9]*", flags)

    def held(self, text: str) -> int:
        """How many of the terms begin a word of ``text``."""
        if _words_are_ascii(text):
            return sum(1 for term in self._each_term if term.search(text))
        spaced = "".join(f" {word}" for word in words(text))
        return sum(needle in spaced for needle in self._needles)

    def spans(self, text: str) -> list[tuple[int, int]]:
        """Where in ``text`` the words that a term begins stand, in order."""
        if _words_are_ascii(text):
            return [match.span() for match in self._begun_words.finditer(text)]
        prefixes = tuple(self.terms)
        return [
            match.span()
            for match in WORD.finditer(text)
            if any(word.startswith(prefixes) for word in _fold(match.group()))
        ]


def _words_are_ascii(text: str) -> bool:
    """Whether every letter and digit of ``text`` is ASCII, and nothing else in it makes one."""
    return text.isascii() or all(map(_separates_alone, set(NOT_ASCII.findall(text))))


def _hit(row: Any, rank: int, marks: Marks) -> dict[str, Any]:
    # JSON: parsed by psycopg, a string from SQLite
    texts = row.texts if isinstance(row.texts, list) else orjson.loads(row.texts)
    # The text holding the most terms; where its words stand is worked out for that one alone
    # (for every text, it was half the CPU time of a search for "Marines" at 1000x, py-spy).
    best, most = texts[0], 0
    for candidate in texts:
        held = marks.held(candidate)
        if held > most:
            best, most = candidate, held
            if held == len(marks.terms):
                break
    return {
        "kind": row.kind,
        "id": row.record_id,
        "name": row.name,
        "url": row.url,
        "snippet": _snippet(best, marks.spans(best)),
        "rank": rank,
        "place": row.place,
    }


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
