"""Reading records as the API serves them: a page of a list by an index, a record by its key.

Every list is keyset-paged: its order is a tuple of indexed columns ending in a unique one, and
the next page starts after the last row's values of those columns. So a page deep in a list costs
what the first page costs, and no page is ever counted or skipped through. ``total`` is one
``count(*)`` per data version and filter, remembered (``Totals``).
"""

import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, TypeVar

import orjson
from sqlalchemy import Connection, bindparam, text

from app.services.search import INDEX_TABLE, Matcher, of_facts
from app.services.store import Reading

SortValue = str | int
ResultT = TypeVar("ResultT")
SortKey = tuple[SortValue, ...]


@dataclass(frozen=True)
class Order:
    """A list's order: columns (SQL expressions) and the type of each one's values."""

    columns: tuple[str, ...]
    types: tuple[type, ...]
    descending: bool = False
    numbering: str = ""
    """How its values are counted, where another release may count them otherwise in the same
    columns (the search index's places, ``search.PLACE_NUMBERING``): a cursor's fingerprint
    holds it, so that one counted otherwise is refused."""
    named: tuple[str, ...] = ()
    """The columns as a cursor's fingerprint names them, where each backend spells them otherwise
    in SQL (the search index's place): a cursor means the same on both. Else ``columns``."""
    held_as: tuple[str | None, ...] = ()
    """For each column that is a fact's place in the order of telling (its ``told_at``, which is
    also its place in the search index), the column of the fact's id, which a cursor holds
    instead; None for the other columns, and () when none is a place. A load numbers the places
    anew, so a cursor that held one would resume before or after the last item seen once a fact
    is told before it: ``read_page`` looks the fact's place up again in the data it reads."""

    def reversed(self) -> "Order":
        return replace(self, descending=not self.descending)

    def held(self) -> tuple[str, ...]:
        """The columns whose values a cursor holds, in order."""
        if not self.held_as:
            return self.columns
        held = zip(self.columns, self.held_as, strict=True)
        return tuple(fact_id or column for column, fact_id in held)


def told_by_id(*columns: str, told_at: str, fact_id: str) -> Order:
    """An order by ``columns`` then by a fact's place in the order of telling, the ``told_at``
    column, whose cursors hold the fact's id, the ``fact_id`` column (``Order.held_as``)."""
    return Order(
        (*columns, told_at),
        (str,) * (len(columns) + 1),
        held_as=(*(None for _ in columns), fact_id),
    )


class RecordGoneError(LookupError):
    """A cursor's last record is in none of the data a page reads: a load removed it, so where
    the list goes on is unknown."""


PLACE_OF_FACT = text("SELECT told_at FROM facts WHERE id = :id")


def placed_again(reading: Reading, order: Order, after: SortKey) -> SortKey:
    """``after`` with each fact's id that a cursor holds for its place (``Order.held_as``)
    replaced by that fact's place in the data ``reading`` reads."""
    if not order.held_as:
        return after
    key = list(after)
    for index, fact_id in enumerate(order.held_as):
        if fact_id is not None:
            place = reading.connection.execute(PLACE_OF_FACT, {"id": key[index]}).scalar()
            if place is None:
                raise RecordGoneError(key[index])
            key[index] = place
    return tuple(key)


@dataclass
class Selection:
    """The rows a list shows: from which tables, on which conditions, with which parameters."""

    source: str
    document: str
    conditions: list[str] = field(default_factory=list)
    parameters: dict[str, Any] = field(default_factory=dict)
    planned_for_its_values: bool = False
    """Whether PostgreSQL must plan the statements for their parameters' values each time, and
    never reuse a generic plan, which cannot know how many rows a condition keeps (how many
    records hold some words, say)."""
    walk: "Walk | None" = None
    """Another way to the same rows, for reading a page of them when it pays (``read_page``)."""

    def where(self, condition: str, **parameters: Any) -> "Selection":
        self.conditions.append(condition)
        self.parameters.update(parameters)
        return self

    def join(self, table_on: str) -> "Selection":
        """Join one more table: ``table_on`` is the table and its ON condition."""
        self.source += f" JOIN {table_on}"
        return self

    def where_clause(self, extra: Sequence[str] = ()) -> str:
        conditions = [*self.conditions, *extra]
        return f" WHERE {' AND '.join(conditions)}" if conditions else ""


PLANNED_FOR_ITS_VALUES = text("SET LOCAL plan_cache_mode = force_custom_plan")


@dataclass(frozen=True)
class Walk:
    """The rows of a selection of facts that hold some words, read the other way round: walking
    the index of ``order`` and keeping each fact the words find (``walked``), instead of finding
    every fact the words find and sorting them all. The walk stops once it has a page, so it pays
    when many facts hold the words (for a word none holds it would walk the whole table, but such
    a list counts 0 and reads no page: ``read_page``); or when the other filters keep few facts
    (``kept``), which it walks alone. ``order`` is the list's, or in the order of telling the
    facts' own, whose keys are the index's (a fact's place is its ``told_at``): either way a
    cursor means one place in the list.

    At 1000x, the statement of a page of 50 in date order timed alone (by hand), found then
    sorted against walked: on SQLite, for "the" (55,000 of 58,000 facts) 86 to 117 against 12 to
    15 ms, for "troops" (26,000) 70 against 10 ms, for "Marines" (7,000) 21 against 29 ms, and for
    a word no fact holds 2.4 against 122 ms; on PostgreSQL, for "the" 113 to 453 against 1.3 ms,
    for "Marines" 40 to 48 against 33 to 62 ms. So a page is walked when ``WALK_SHARE`` of the
    facts or more hold the words (``holding``, counted once per data version), or when the other
    filters keep ``FEW_SHARE`` of them or fewer (``kept``, counted so too).

    The words' share is of the words alone, whatever the other filters: with a filter a walk passes
    more facts for a page, but a search still joins and sorts every fact the words find before it
    filters them. With "the", walked against found: ``status=possible`` (3,000 facts) 18 against 90
    ms on SQLite, 10 against 368 ms on PostgreSQL; ``kind=event`` 31 against 95 ms and 19 against
    338 ms; a day's range 20 against 108 ms and 0.9 against 125 ms. The worst case was a filter that
    keeps no fact and had no index in the order: ``rank=preferred`` at 1000x walked every fact, 169
    against 87 ms on SQLite (0.8 against 1.4 ms on PostgreSQL), until migration 0016 gave each
    filter an index in each order (3.0 ms walked, by curl).

    In the order of telling, the index's own, the words' facts are read in order and never
    sorted, so only the other filters' share decides (``sorts_found`` is False). With "the", found
    against walked, on SQLite: a record's 18 facts 69 against 8.8 ms, a source's 56 42 against
    10 ms, but ``status=possible`` (5% of the facts) 0.7 against 8.9 ms and ``about=jtf-north``
    (12%) 1.1 against 16 ms; in date order, "Marines" with a source's facts 14 against 1.9 ms."""

    walked: Selection
    holding: Selection
    kept: Selection
    """The facts the other filters keep, the words aside."""
    order: Order
    sorts_found: bool
    """Whether the facts the words find are sorted into the list's order when not walked."""


WALK_SHARE = 0.2
"""Between the shares measured: 12% of the facts ("Marines") were faster found, 45% ("troops")
walked."""

FEW_SHARE = 0.05
"""The share of the facts that the other filters keep at most for a walk to pay whatever the
words. A walk along them costs little more than gathering the words' places (at 1000x on SQLite,
with "the", 9 to 11 ms a page); found, a page costs what the index's hits before its last fact
cost, from nothing to every hit. Timed alone, found against walked: ``source=us-code`` (3.4% of
the facts, all told last) 81 against 11 ms, ``kind=legal_citation`` (3.4%) 16 against 11 ms, but
``status=possible`` (5.2%, spread evenly) 0.5 against 11 ms."""


@dataclass(frozen=True)
class Page:
    documents: list[str]
    """The rows' JSON documents, in order."""
    next_key: SortKey | None
    """The last row's sort key when there are more rows; None on the last page."""
    total: int


class Totals:
    """``count(*)`` of lists and of the facts a detail page embeds, remembered per load
    (``LoadState``) and filter: a bounded number of integers, so the memory a client can grow
    with filters is bounded too."""

    def __init__(self, max_entries: int = 4096) -> None:
        self._max_entries = max_entries
        self._counts: OrderedDict[tuple[Any, ...], Any] = OrderedDict()
        self._lock = threading.Lock()  # the reads that use it run in the thread pool

    def count(self, reading: Reading, key: tuple[Any, ...], compute: Callable[[], int]) -> int:
        """The count ``compute`` gives, remembered under ``key`` for the reading's version."""
        total: int = self.remembered(reading, key, compute)
        return total

    def remembered(
        self, reading: Reading, key: tuple[Any, ...], compute: Callable[[], ResultT]
    ) -> ResultT:
        """What ``compute`` gives, remembered under ``key`` for the reading's version."""
        versioned = (reading.state, *key)
        with self._lock:
            if versioned in self._counts:
                self._counts.move_to_end(versioned)
                remembered: ResultT = self._counts[versioned]
                return remembered
        value = compute()
        with self._lock:
            self._counts[versioned] = value
            while len(self._counts) > self._max_entries:
                self._counts.popitem(last=False)
        return value


def read_page(
    reading: Reading,
    selection: Selection,
    order: Order,
    *,
    after: SortKey | None,
    limit: int,
    totals: Totals,
) -> Page:
    """The ``limit`` rows of ``selection`` after the row whose key is ``after``, read by its
    ``walk`` when that pays; its ``total`` is counted as ``selection`` finds them."""
    if selection.planned_for_its_values and reading.on_postgresql:
        # Until the read's transaction ends: for the counts, the page, and its walk too.
        reading.connection.execute(PLANNED_FOR_ITS_VALUES)
    total = count(reading, selection, totals)
    if total == 0:
        # The count, remembered for the version, already says it: a page that finds nothing
        # would read its index to the end (PostgreSQL at 1000x, about=jtf-north&q=marines: 56 ms).
        return Page(documents=[], next_key=None, total=0)
    read = selection
    # A list that its page holds whole is found by its filters (or by its walk's) and its rows,
    # at most ``limit``, sorted: read along its order's index, the page would read that index to
    # its end to find that nothing follows. SQLite at 1000x, /v1/facts?from=2025-03-01&as_of=
    # 2025-02-01&sort=id (31 facts), served side by side: 415 against 10 req/s (bench.
    # served_beside --uncached --connections 2; at 32 clients the index walk's answers timed
    # out). SQLite's unary + keeps an index from giving the order (sqlite.org/optoverview.html);
    # PostgreSQL's is for numbers alone.
    sorted_whole = total <= limit and not reading.on_postgresql
    if after is not None:
        # The same in the walk's order: a fact's place is one, in either.
        after = placed_again(reading, order, after)
    if selection.walk is not None and _walk_pays(reading, selection.walk, totals):
        read, order = selection.walk.walked, selection.walk.order
    columns = ", ".join(order.columns)
    direction = " DESC" if order.descending else ""
    extra = []
    parameters = dict(read.parameters)
    if after is not None:
        names = [f"after_{i}" for i in range(len(after))]
        comparison = "<" if order.descending else ">"
        placeholders = ", ".join(f":{name}" for name in names)
        extra.append(f"({columns}) {comparison} ({placeholders})")
        parameters |= dict(zip(names, after, strict=True))
    unindexed = "+" if sorted_whole else ""
    ordering = ", ".join(f"{unindexed}{column}{direction}" for column in order.columns)
    sql = (
        f"SELECT {read.document}, {', '.join(order.held())} FROM {read.source}"
        f"{read.where_clause(extra)} ORDER BY {ordering} LIMIT :limit"
    )
    rows = reading.connection.execute(text(sql), {**parameters, "limit": limit + 1}).all()
    more = len(rows) > limit
    rows = rows[:limit]
    return Page(
        documents=[row[0] for row in rows],
        next_key=tuple(rows[-1][1:]) if more and rows else None,
        total=total,
    )


def count(reading: Reading, selection: Selection, totals: Totals) -> int:
    """How many rows ``selection`` picks, remembered for the data version."""
    sql = f"SELECT count(*) FROM {selection.source}{selection.where_clause()}"
    return totals.count(
        reading,
        (sql, orjson.dumps(selection.parameters, option=orjson.OPT_SORT_KEYS)),
        lambda: int(reading.connection.execute(text(sql), selection.parameters).scalar_one()),
    )


def _walk_pays(reading: Reading, walk: Walk, totals: Totals) -> bool:
    every_fact = count(reading, Selection("facts", "facts.listed"), totals)
    if count(reading, walk.kept, totals) <= FEW_SHARE * every_fact:
        return True
    return walk.sorts_found and count(reading, walk.holding, totals) >= WALK_SHARE * every_fact


def facts_holding(found: Matcher) -> Selection:
    """The facts that hold every term, joined from the index so that the database reads them in
    the index's order: a fact's place is its place in the order of telling (``told_at``,
    ``loader._SearchPlaces``), so that order is also the facts' default one, and a page of them
    in it ends where its facts do. /v1/facts?q=troops at 1000x read its first page in 1.2 ms
    instead of 91 ms, which first sorted all 26,000 matches (EXPLAIN QUERY PLAN and timings of
    the statements by hand)."""
    condition, parameters = found.condition(None)
    # SQLite must read the index first, in its order; told a fact's place, FTS5 would run the
    # whole search again for each fact a filter keeps, which SQLite takes for cheap: at 1000x,
    # /v1/facts?about=jtf-north&q=marines&sort=date took 2.0 s a request, against 19 ms (when a
    # list that counts nothing still read its page). The unary + keeps it from telling
    # (sqlite.org/optoverview.html); PostgreSQL looks a place up by its key.
    place = found.place if found.on_postgresql else f"+{found.place}"
    return Selection(
        f"{INDEX_TABLE} JOIN facts ON facts.told_at = {place}",
        "facts.listed",
        # Only the facts' places, which the index seeks to, instead of joining every other match
        # only to drop it (4.7 ms to 1.2 ms, the same page).
        [condition, of_facts(found)],
        dict(parameters),
        # PostgreSQL reads the index in place order for words that many facts hold, and finds
        # the facts of rare ones by its GIN index; a generic plan takes the GIN index for both:
        # at 100x, 13 ms a page of "troops" against 3 ms.
        planned_for_its_values=True,
    )


def facts_found_by(found: Matcher) -> Selection:
    """The facts that hold every term, as the table's rows whose place the index finds: for a
    ``Walk`` in the order of one of the facts' indexes (a fact's place is its ``told_at``, see
    ``facts_holding``)."""
    condition, parameters = found.condition(None)
    if found.on_postgresql:
        # Each fact looked up in the index by its place. (PostgreSQL planned the IN below, with
        # its far too low estimate of the facts a prefix finds, as a walk of the index of the
        # day alone, since dropped, that then sorted each day's facts by id: 230 ms for "the",
        # against 1.3 ms.)
        found_by = (
            f"EXISTS (SELECT 1 FROM {INDEX_TABLE} "
            f"WHERE {found.place} = facts.told_at AND {condition})"
        )
    else:
        # The places the words find, gathered once. (SQLite runs the EXISTS above as a whole
        # search of the index for each fact: 90 s for a word no fact holds.) The unary + keeps
        # SQLite from reading the facts by their told_at index, one for each place found, and
        # sorting them (sqlite.org/optoverview.html): for "the" by date, 99 ms against 10 ms.
        found_by = (
            f"+facts.told_at IN (SELECT {found.place} FROM {INDEX_TABLE} "
            f"WHERE {condition} AND {of_facts(found)})"
        )
    return Selection("facts", "facts.listed", [found_by], dict(parameters))


def read_document(reading: Reading, table: str, column: str, record_id: str) -> str | None:
    return reading.connection.execute(
        text(f"SELECT {column} FROM {table} WHERE id = :id"), {"id": record_id}
    ).scalar()


def known_on(table: str) -> str:
    """The condition that a fact is known on the day ``:as_of``: reported by then, or from an
    undated reference source. On the rows of ``table``: ``facts``, or ``fact_about`` for the facts
    about a record and ``fact_sources`` for those citing a source, which hold each fact's
    reported_on beside the record or source. Checked on the entry of the index that finds the
    fact, as every index of the facts' orders, in the three tables, ends with reported_on
    (``tables.Fact``, ``tables.FactAbout``, ``tables.FactSource``)."""
    return f"({table}.reported_on IS NULL OR {table}.reported_on <= :as_of)"


FIRST_FACTS_ABOUT = (
    "SELECT facts.listed FROM fact_about JOIN facts ON facts.id = fact_about.fact_id "
    "WHERE fact_about.entity_id = :id{known} ORDER BY fact_about.told_at LIMIT :limit"
)
COUNT_FACTS_ABOUT = (
    "SELECT count(*) FROM fact_about WHERE fact_about.entity_id = :id AND " + known_on("fact_about")
)


def facts_about(
    reading: Reading, record_id: str, as_of: str | None, limit: int
) -> list[orjson.Fragment]:
    """The first ``limit`` facts about a record, in the order the sources tell them."""
    known = f" AND {known_on('fact_about')}" if as_of else ""
    rows = reading.connection.execute(
        text(FIRST_FACTS_ABOUT.format(known=known)),
        {"id": record_id, "as_of": as_of, "limit": limit},
    )
    return [orjson.Fragment(document) for (document,) in rows]


def count_facts_about(reading: Reading, record_id: str, as_of: str) -> int:
    return int(
        reading.connection.execute(
            text(COUNT_FACTS_ABOUT), {"id": record_id, "as_of": as_of}
        ).scalar_one()
    )


UNKNOWN_FACTS = text("SELECT id FROM facts WHERE id IN :ids AND reported_on > :as_of").bindparams(
    bindparam("ids", expanding=True)
)


def wave_known_on(connection: Connection, wave: dict[str, Any], as_of: str) -> None:
    """A wave's document as known on ``as_of``: without the size, shares and tie to a force that
    facts reported later give."""
    waves_known_on(connection, [wave], as_of)


def waves_known_on(connection: Connection, waves: Sequence[dict[str, Any]], as_of: str) -> None:
    """Each wave's document as known on ``as_of`` (``wave_known_on``), for all of them in one
    query: a posture page's 50 waves were 50 queries, a quarter of its time at 1000x."""
    cited = [fact_id for wave in waves for fact_id in _facts_cited(wave)]
    if not cited:
        return
    unknown = {
        fact_id for (fact_id,) in connection.execute(UNKNOWN_FACTS, {"ids": cited, "as_of": as_of})
    }
    for wave in waves:
        if wave["size_fact"] is not None and wave["size_fact"]["id"] in unknown:
            wave["size"] = wave["size_fact"] = None
        if wave.get("joins_fact") is not None and wave["joins_fact"]["id"] in unknown:
            wave["joins"] = wave["joins_status"] = wave["joins_fact"] = None
        wave["composition"] = [m for m in wave["composition"] if m["fact"]["id"] not in unknown]


def _facts_cited(wave: dict[str, Any]) -> list[str]:
    cited = [member["fact"]["id"] for member in wave["composition"]]
    for cited_by in ("size_fact", "joins_fact"):
        if wave.get(cited_by) is not None:
            cited.append(wave[cited_by]["id"])
    return cited
