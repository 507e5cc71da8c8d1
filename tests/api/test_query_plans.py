"""Pages read by an index range, so that a page costs the same however much data lies before it.

The seed is too small for the difference to show in time, so these tests read SQLite's own plan
of the statements a request runs.
"""

import re
import sqlite3
from contextlib import closing
from pathlib import Path
from typing import Any, get_args

import pytest
from fastapi.testclient import TestClient
from pydantic import BaseModel
from sqlalchemy import Engine, event

from app import migrate
from app.api.listing import ENTITY_ORDERS
from app.api.routes.activities import ActivityQuery
from app.api.routes.agencies import AgencyQuery
from app.api.routes.authorities import AuthorityQuery
from app.api.routes.facts import FACT_ORDERS, FactQuery
from app.api.routes.forces import ForceQuery
from app.api.routes.waves import WaveQuery
from app.config import Settings
from app.db import make_engine
from app.ingest.check import read_dataset
from app.ingest.loader import load_dataset
from app.main import create_app
from app.models import tables
from tests.conftest import ARTICLE_BUNDLE, SEED_DATA


@pytest.fixture
def sqlite_path(tmp_path: Path) -> str:
    """A SQLite database of the seed: the plans are SQLite's."""
    path = tmp_path / "muster.db"
    migrate.upgrade(f"sqlite:///{path}")
    engine = make_engine(f"sqlite:///{path}")
    load_dataset(engine, read_dataset(SEED_DATA))
    engine.dispose()
    return str(path)


DETAIL_PAGE = re.compile(r"/v1/\w+/[^/?]+(\?|$)")
"""A record's own page, which takes no limit."""


def statements_of(database_url: str, path: str) -> list[tuple[str, Any]]:
    """The SELECTs that answering ``path`` runs, with their parameters."""
    return statements_of_each(database_url, [path])[0]


def statements_of_each(database_url: str, paths: list[str]) -> list[list[tuple[str, Any]]]:
    """The SELECTs that answering each of ``paths`` runs, one after the other in one server with
    no response cache, with their parameters. A list whose path sets no limit is asked for one
    row a page: a list that its page holds whole, as the seed's lists are at the default limit,
    is sorted rather than read in its order's index (``records.read_page``)."""
    statements: list[tuple[str, Any]] = []

    def record(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            statements.append((statement, parameters))

    each = []
    event.listen(Engine, "before_cursor_execute", record)
    try:
        settings = Settings(database_url=database_url, response_cache=False)
        with TestClient(create_app(settings)) as client:
            for path in paths:
                statements.clear()  # start-up's own reads, or the path before
                if "limit=" not in path and not DETAIL_PAGE.match(path):
                    path += f"{'&' if '?' in path else '?'}limit=1"
                assert client.get(path).status_code == 200
                each.append(list(statements))
    finally:
        event.remove(Engine, "before_cursor_execute", record)
    return each


def fact_pages(statements: list[tuple[str, Any]]) -> list[tuple[str, Any]]:
    """The statements among ``statements`` that read a page of facts, with their parameters."""
    return [(sql, p) for sql, p in statements if sql.startswith("SELECT facts.listed")]


def plans(sqlite_path: str, statements: list[tuple[str, Any]]) -> list[list[str]]:
    with sqlite3.connect(sqlite_path) as connection:
        return [
            [row[3] for row in connection.execute(f"EXPLAIN QUERY PLAN {sql}", parameters)]
            for sql, parameters in statements
        ]


def test_the_timeline_seeks_past_the_undated_facts(sqlite_path: str) -> None:
    """Undated facts sort first in the date index; a page must start after them, not scan them."""
    statements = statements_of(f"sqlite:///{sqlite_path}", "/v1/timeline?limit=5")
    page = [(sql, params) for sql, params in statements if "facts.event" in sql]
    assert page, statements
    for plan in plans(sqlite_path, page):
        assert any(step.startswith("SEARCH facts USING INDEX") for step in plan), plan


def test_the_posture_finds_its_day_and_its_page_of_waves_by_index(sqlite_path: str) -> None:
    """Its default day, the newest report, and its page of waves in status order: neither a scan
    of every fact nor a sort of every wave."""
    statements = statements_of(f"sqlite:///{sqlite_path}", "/v1/posture?limit=2")
    newest = [(sql, p) for sql, p in statements if "max(reported_on)" in sql]
    page = [(sql, p) for sql, p in statements if sql.startswith("SELECT listed, status_rank")]
    assert newest, statements
    assert page, statements
    for plan in plans(sqlite_path, newest):
        assert any("USING COVERING INDEX ix_facts_reported_on" in step for step in plan), plan
    for plan in plans(sqlite_path, page):
        assert any("USING INDEX ix_waves_status_rank_id" in step for step in plan), plan
        assert not any("TEMP B-TREE" in step for step in plan), plan


COLUMN_FILTERS: dict[str, tuple[type[BaseModel], list[str]]] = {
    "/v1/facts": (FactQuery, ["kind=quantity", "status=reported", "rank=normal"]),
    "/v1/forces": (ForceQuery, ["component=active_duty", "kind=command"]),
    "/v1/agencies": (AgencyQuery, ["level=federal"]),
    "/v1/authorities": (AuthorityQuery, ["kind=statute"]),
    "/v1/activities": (ActivityQuery, ["status=permitted", "category=support"]),
    "/v1/waves": (WaveQuery, ["status=ordered"]),
}
"""Each list's filters on a column of its own table, with a value the seed holds."""


def test_the_orders_the_filters_indexes_are_made_in_are_the_lists_orders() -> None:
    """tables.py spells each list's orders out for its indexes: the same as the lists'."""
    fact_orders = {
        tuple(column.removeprefix("facts.") for column in order.columns)
        for order in FACT_ORDERS.values()
    }
    assert fact_orders == set(tables.FACT_ORDER_COLUMNS)
    entity_orders = {order.columns for order in ENTITY_ORDERS.values()}
    assert entity_orders == set(tables.ENTITY_ORDER_COLUMNS)


@pytest.mark.parametrize(
    "path",
    [
        f"{list_path}?{kept}&sort={sort}"
        for list_path, (query, filters) in COLUMN_FILTERS.items()
        for kept in filters
        for sort in get_args(query.model_fields["sort"].annotation)
    ],
)
def test_a_list_filtered_by_a_column_is_an_index_range_in_every_order(
    sqlite_path: str, path: str
) -> None:
    """Not a walk of the order's index that skips the rows the filter drops, which for a rare
    value reads the whole table, nor a sort of every row it keeps."""
    statements = statements_of(f"sqlite:///{sqlite_path}", path)
    page = [(sql, p) for sql, p in statements if sql.startswith(("SELECT listed", "SELECT facts."))]
    assert page, statements
    for (sql, _), plan in zip(page, plans(sqlite_path, page), strict=True):
        assert any(re.match(r"SEARCH \w+ USING (COVERING )?INDEX", step) for step in plan), plan
        # The seed's waves hold one of each status, a list that even a page of one holds whole:
        # its one row is sorted (see the test of a list that its page holds whole, below).
        if path.startswith("/v1/waves?status="):
            assert WHOLE_LIST_SORTED in sql
        else:
            assert not any("TEMP B-TREE" in step for step in plan), plan


WHOLE_LIST_SORTED = "ORDER BY +"
"""How the statement of a list that its page holds whole orders its rows: not by an index."""


def test_a_list_its_page_holds_whole_is_found_by_its_filters_and_sorted(sqlite_path: str) -> None:
    """Read in its order's index, it would read that index to its end to find that nothing
    follows its rows: at 1000x, /v1/facts?from=2025-03-01&as_of=2025-02-01&sort=id, 31 facts,
    read every fact in id order. Sorted, it is in the order of the pages of a longer list."""
    path = "/v1/facts?from=2025-01-21&sort=id"
    whole, paged = statements_of_each(
        f"sqlite:///{sqlite_path}", [f"{path}&limit=200", f"{path}&limit=1"]
    )
    for statements, sorted_whole in ((whole, True), (paged, False)):
        page = fact_pages(statements)
        assert page, statements
        assert (WHOLE_LIST_SORTED in page[0][0]) is sorted_whole
        [plan] = plans(sqlite_path, page)
        assert any("TEMP B-TREE" in step for step in plan) is sorted_whole, plan
        if sorted_whole:
            assert plan[0].startswith("SEARCH facts USING INDEX ix_facts_date_key"), plan
    with TestClient(create_app(Settings(database_url=f"sqlite:///{sqlite_path}"))) as client:
        answer = client.get(f"{path}&limit=200").json()
        assert 1 < answer["total"] <= 200
        ids, url = [], f"{path}&limit=1"
        while url:
            one = client.get(url).json()
            ids += [fact["id"] for fact in one["data"]]
            url = one["next"]
        assert [fact["id"] for fact in answer["data"]] == ids == sorted(ids)


@pytest.mark.parametrize(
    "path",
    [
        f"/v1/facts?source={source}{also}&sort={sort}"
        for source in ("us-code", ARTICLE_BUNDLE)
        for also in ("", "&as_of=2025-01-22")
        for sort in get_args(FactQuery.model_fields["sort"].annotation)
    ],
)
def test_the_facts_citing_a_source_are_an_index_range_in_every_order(
    sqlite_path: str, path: str
) -> None:
    """A range of the source's own index of its facts (fact_sources), in each order: not a walk
    of the order's index that checks each fact's citations, which reads every fact before the
    source's (the us-code source's facts all come last), nor a sort of all of the source's."""
    statements = statements_of(f"sqlite:///{sqlite_path}", path)
    page = fact_pages(statements)
    assert page, statements
    for plan in plans(sqlite_path, page):
        assert re.match(r"SEARCH fact_sources USING (COVERING )?INDEX ix_fact_sources_", plan[0]), (
            plan
        )
        assert not any("TEMP B-TREE" in step for step in plan), plan


@pytest.mark.parametrize(
    "path",
    [
        f"{list_path}{about}{days}&sort={sort}"
        for list_path, sorts in (("/v1/facts", ("date", "-date")), ("/v1/timeline", ("date",)))
        for about in ("?", "?about=trump-administration&")
        for days in ("from=2025-01-20", "to=2025-01-21", "from=2025-01-20&to=2025-01-21")
        for sort in sorts
    ],
)
def test_facts_between_two_days_are_an_index_range_in_date_order(
    sqlite_path: str, path: str
) -> None:
    """The days are a range of the date order's own index: not a walk of that index from its
    start, past every undated fact (which sort first) and every fact before the range. At 1000x,
    /v1/facts?from=2025-06-01&sort=date walked 54,000 facts, 73 ms a page."""
    statements = statements_of(f"sqlite:///{sqlite_path}", path)
    page = [(sql, p) for sql, p in statements if sql.startswith(("SELECT facts.", "SELECT listed"))]
    assert page, statements
    for plan in plans(sqlite_path, page):
        assert any(re.match(r"SEARCH \w+ USING .*INDEX .*\(.*date_key[<>]", s) for s in plan), plan
        assert not any("TEMP B-TREE" in step for step in plan), plan


@pytest.mark.parametrize("path", ["/v1/facts?q=troops", "/v1/facts?q=troops&about=jtf-north"])
def test_facts_that_hold_words_are_read_in_the_search_index_s_order(
    sqlite_path: str, path: str
) -> None:
    """The index finds the facts in their default order, from the first fact's place, and a page
    stops at its last fact: no sort of every match."""
    statements = statements_of(f"sqlite:///{sqlite_path}", path)
    page = fact_pages(statements)
    assert page, statements
    for plan in plans(sqlite_path, page):
        assert plan[0].startswith("SCAN search_index VIRTUAL TABLE"), plan
        assert plan[0].endswith(">"), plan  # FTS5's own plan: from a lowest rowid
        assert not any("TEMP B-TREE" in step for step in plan), plan


def statistics_at_scale(sqlite_path: str, factor: int) -> None:
    """The planner's statistics of the file as if each table held ``factor`` times its rows, each
    key of an index as many: a load at scale, whose plans the seed's few rows do not show."""
    with closing(sqlite3.connect(sqlite_path)) as connection:
        for table, index, stat in connection.execute("SELECT * FROM sqlite_stat1").fetchall():
            rows, *per_key = stat.split(" ")
            connection.execute(
                "UPDATE sqlite_stat1 SET stat = ? WHERE tbl = ? AND idx IS ?",
                (" ".join([str(int(rows) * factor), *per_key]), table, index),
            )
        connection.commit()


@pytest.mark.parametrize("sort", ["source", "date"])
def test_at_scale_a_page_of_words_about_a_record_reads_the_search_index_first(
    sqlite_path: str, sort: str
) -> None:
    """With the statistics of a load a thousand times the seed, the facts about a record that
    hold words rarer than a walk takes are read from the search index first, in its order. Told a
    fact's place, FTS5 searches again for each fact the filter keeps, which SQLite takes for
    cheap: at 1000x, /v1/facts?about=jtf-north&q=marines&sort=date took 2.0 s, against 19 ms
    (when a list that counts nothing, as that one, still read its page)."""
    path = f"/v1/facts?about=jtf-north&q=already&sort={sort}"
    statements = statements_of(f"sqlite:///{sqlite_path}", path)
    page = fact_pages(statements)
    assert len(page) == 1, statements
    assert "FROM search_index JOIN" in page[0][0], page  # not a walk
    statistics_at_scale(sqlite_path, 1000)
    plan = plans(sqlite_path, page)[0]
    assert plan[0].startswith("SCAN search_index VIRTUAL TABLE"), plan


@pytest.mark.parametrize("sort", ["date", "-id"])
def test_a_page_of_words_most_facts_hold_walks_the_order_s_index(
    sqlite_path: str, sort: str
) -> None:
    """In another order than the index's, a page of facts that most facts' words hold is read
    along the order's index, each fact checked against the words' matches, and stops at its last
    fact; one of words few facts hold is read from the index, and sorted (records.Walk)."""
    common, rare = statements_of_each(
        f"sqlite:///{sqlite_path}",
        [f"/v1/facts?q=the&sort={sort}", f"/v1/facts?q=Marines&sort={sort}"],
    )
    for statements, walked in ((common, True), (rare, False)):
        page = fact_pages(statements)
        assert len(page) == 1, statements
        plan = plans(sqlite_path, page)[0]
        if walked:
            assert plan[0].startswith("SCAN facts USING INDEX"), plan  # the order's
            assert "USE TEMP B-TREE FOR ORDER BY" not in plan, plan
        else:
            assert plan[0].startswith("SCAN search_index VIRTUAL TABLE"), plan
            assert "USE TEMP B-TREE FOR ORDER BY" in plan, plan


@pytest.mark.parametrize("sort", ["date", "-id"])
def test_a_page_of_words_most_facts_hold_is_read_from_the_facts_on_each_backend(
    seeded_database_url: str, sort: str
) -> None:
    """The walk is taken on PostgreSQL too, whose plans of the seed's few rows say nothing of
    scale: the page of a common word reads the facts table itself, each fact checked against the
    words, and a rare word's page reads the search index and joins its facts (records.Walk)."""
    common, rare = statements_of_each(
        seeded_database_url, [f"/v1/facts?q=the&sort={sort}", f"/v1/facts?q=Marines&sort={sort}"]
    )
    for statements, source in ((common, "FROM facts WHERE"), (rare, "FROM search_index JOIN")):
        page = [sql for sql, _ in fact_pages(statements)]
        assert len(page) == 1, statements
        assert source in page[0], page[0]


def test_a_search_as_known_on_a_day_checks_each_hit_by_its_keys(sqlite_path: str) -> None:
    """A hit is checked against the day on its own record, found by key, as the index reads it in
    place order, and a page stops at its last hit: never a set of every record unknown that day
    (at 1000x, 75 to 138 ms a rank query against 0.6 to 1.2 ms)."""
    statements = statements_of(f"sqlite:///{sqlite_path}", "/v1/search?q=troops&as_of=2025-01-22")
    ranks = [(sql, p) for sql, p in statements if sql.startswith("SELECT search_index.rowid")]
    assert ranks, statements
    for plan in plans(sqlite_path, ranks):
        assert plan[0].startswith("SCAN search_index VIRTUAL TABLE"), plan
        assert not any("LIST SUBQUERY" in step or "B-TREE" in step for step in plan), plan
        assert not any(step.startswith("SCAN") for step in plan[1:]), plan  # by key, each


@pytest.mark.parametrize(
    "path",
    [
        "/v1/facts?kind=quantity",
        "/v1/facts?q=troops",
        "/v1/search?q=troops",
        "/v1/forces/jtf-north?as_of=2025-01-22",
    ],
)
def test_what_a_request_counts_is_counted_once_per_data_version(
    sqlite_path: str, path: str
) -> None:
    """A list's ``total`` and a detail's ``fact_count`` count every match: remembered for the
    data version, they are not counted again when the same query is asked again, which then
    reads only its page (a hub force's detail on a day at 1000x: 21 ms of its 25)."""
    first, again = statements_of_each(f"sqlite:///{sqlite_path}", [path, path])
    assert any("count(*)" in sql for sql, _ in first), first
    assert not any("count(*)" in sql for sql, _ in again), again


def test_the_facts_holding_words_are_planned_for_their_words_on_postgresql(
    seeded_database_url: str,
) -> None:
    """After a few requests PostgreSQL would reuse a generic plan of the page's statement, which
    cannot know how many facts hold the words: the read asks it, in its own transaction, to plan
    the statement for its values. SQLite, which plans every statement, is asked nothing."""
    statements: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        statements.append(statement)

    event.listen(Engine, "before_cursor_execute", record)
    try:
        settings = Settings(database_url=seeded_database_url, response_cache=False)
        with TestClient(create_app(settings)) as client:
            statements.clear()
            assert client.get("/v1/facts", params={"q": "troops"}).status_code == 200
    finally:
        event.remove(Engine, "before_cursor_execute", record)
    page = next(i for i, sql in enumerate(statements) if sql.startswith("SELECT facts.listed"))
    asked = [i for i, sql in enumerate(statements) if "plan_cache_mode" in sql]
    if seeded_database_url.startswith("postgresql"):
        # Once, before the page (and the counts that choose how it is read, in the same read).
        assert len(asked) == 1, statements
        assert asked[0] < page, statements
        assert statements[asked[0]] == "SET LOCAL plan_cache_mode = force_custom_plan"
    else:
        assert asked == [], statements


@pytest.mark.parametrize(
    ("path", "link"),
    [
        ("/v1/activities?force=jtf-north", "activity_forces"),
        ("/v1/activities?authority=posse-comitatus-act", "activity_authorities"),
        ("/v1/waves?force=jtf-north", "wave_forces"),
    ],
)
def test_a_list_filtered_by_a_related_record_finds_its_links_by_index(
    sqlite_path: str, path: str, link: str
) -> None:
    statements = statements_of(f"sqlite:///{sqlite_path}", path)
    page = [(sql, p) for sql, p in statements if link in sql and "count(*)" not in sql]
    assert page, statements
    for plan in plans(sqlite_path, page):
        assert any(step.startswith(f"SEARCH {link} USING") for step in plan), plan


@pytest.mark.parametrize("sort", ["name", "-name", "id", "-id"])
@pytest.mark.parametrize(
    ("filters", "link"),
    [
        ("force=jtf-north", "activity_forces"),
        ("authority=posse-comitatus-act", "activity_authorities"),
        ("authority=posse-comitatus-act&effect=prohibits", "activity_authorities"),
        ("effect=prohibits", "activity_effects"),
    ],
)
def test_a_record_s_activities_in_any_order_are_an_index_range_of_its_links(
    sqlite_path: str, filters: str, link: str, sort: str
) -> None:
    """A hub force's activities were found, then all sorted, for every page; those of an effect
    were found by a scan of every authority's links, then sorted (migration 0015)."""
    statements = statements_of(f"sqlite:///{sqlite_path}", f"/v1/activities?{filters}&sort={sort}")
    page = [(sql, p) for sql, p in statements if sql.startswith("SELECT listed")]
    assert page, statements
    for plan in plans(sqlite_path, page):
        assert plan[0].startswith(f"SEARCH {link} USING"), plan
        assert not any("TEMP B-TREE" in step for step in plan), plan


@pytest.mark.parametrize("sort", ["name", "-name", "id", "-id"])
def test_a_force_s_waves_in_any_order_are_an_index_range_of_its_ties(
    sqlite_path: str, sort: str
) -> None:
    """The waves of a force were found by a scan of every wave in the list's order, checking
    each: a force in one wave read all of them (migration 0015)."""
    path = f"/v1/waves?force=jtf-north&sort={sort}"
    statements = statements_of(f"sqlite:///{sqlite_path}", path)
    page = [(sql, p) for sql, p in statements if sql.startswith("SELECT listed")]
    assert page, statements
    for plan in plans(sqlite_path, page):
        assert plan[0].startswith("SEARCH wave_forces USING"), plan
        assert not any("TEMP B-TREE" in step for step in plan), plan


@pytest.mark.parametrize("sort", ["date", "-date"])
def test_a_record_s_timeline_reads_its_events_in_date_order_by_index(
    sqlite_path: str, sort: str
) -> None:
    statements = statements_of(
        f"sqlite:///{sqlite_path}", f"/v1/timeline?about=initial-wave&sort={sort}"
    )
    page = [(sql, p) for sql, p in statements if "facts.event" in sql]
    assert page, statements
    for plan in plans(sqlite_path, page):
        assert any(
            "INDEX ix_fact_about_entity_id_date_key_told_at_reported_on " in step for step in plan
        ), plan
        assert not any("TEMP B-TREE" in step for step in plan), plan


@pytest.mark.parametrize("sort", ["date", "-date", "id", "-id"])
def test_a_record_s_facts_in_any_order_are_an_index_range(sqlite_path: str, sort: str) -> None:
    statements = statements_of(f"sqlite:///{sqlite_path}", f"/v1/facts?about=jtf-north&sort={sort}")
    page = fact_pages(statements)
    assert page, statements
    for plan in plans(sqlite_path, page):
        assert any(step.startswith("SEARCH fact_about USING") for step in plan), plan
        assert not any("TEMP B-TREE" in step for step in plan), plan


def test_a_force_deleted_is_checked_against_its_children_by_an_index(sqlite_path: str) -> None:
    """A load empties the forces, and each force deleted is checked against the forces naming
    it as their parent (its foreign key): by a scan, that took time in the square of the forces
    (6.9 s of every reload at 1000x)."""
    children_of = [("SELECT 1 FROM forces WHERE parent_id = ?", ("jtf-north",))]
    assert plans(sqlite_path, children_of) == [
        ["SEARCH forces USING COVERING INDEX ix_forces_parent_id (parent_id=?)"]
    ]


DAY_CHECKED_ON = re.compile(r"(\w+)\.reported_on <=")
"""The table on whose rows a statement checks the day: facts or fact_about."""


@pytest.mark.parametrize(
    "path",
    [
        "/v1/facts?as_of=2025-01-22",
        "/v1/facts?as_of=2025-01-22&sort=-id",
        "/v1/facts?as_of=2025-01-22&sort=date",
        "/v1/facts?as_of=2025-01-22&kind=quantity",
        "/v1/facts?as_of=2025-01-22&status=reported",
        "/v1/facts?as_of=2025-01-22&rank=normal",
        "/v1/facts?as_of=2025-01-22&about=jtf-north",
        "/v1/facts?as_of=2025-01-22&q=troops",
        "/v1/timeline?as_of=2025-01-22",
        "/v1/forces/jtf-north?as_of=2025-01-22",
    ],
)
def test_the_day_a_fact_was_reported_is_read_from_the_index_that_finds_it(
    sqlite_path: str, path: str
) -> None:
    """``as_of`` keeps the facts reported by a day: checked on the entry of the index that finds
    each fact (in ``facts``, or in ``fact_about`` for a record's facts), before a fact's row and
    the documents in it are read. Checked on the rows, a day before the archive's first report
    read every fact's row to find the few it keeps (at 1000x, a page of /v1/facts?as_of= 39 ms
    against 6.8 ms, migration 0013)."""
    statements = statements_of(f"sqlite:///{sqlite_path}", path)
    of_the_day = [(sql, p) for sql, p in statements if "reported_on <=" in sql]
    # A page, not only its count: a list that counts nothing reads none.
    assert [sql for sql, _ in of_the_day if not sql.startswith("SELECT count(*)")], statements
    for (sql, _), plan in zip(of_the_day, plans(sqlite_path, of_the_day), strict=True):
        checked_on = DAY_CHECKED_ON.findall(sql)
        assert len(set(checked_on)) == 1, sql
        found_by = [step for step in plan if step.split()[1:2] == checked_on[:1]]
        assert found_by, plan
        for step in found_by:
            assert "_reported_on" in step, plan
        assert not any("TEMP B-TREE" in step for step in plan), plan


@pytest.mark.parametrize(
    "path",
    [
        "/v1/facts?about=jtf-north&as_of=2025-01-22",
        "/v1/facts?about=jtf-north&as_of=2025-01-22&sort=date",
        "/v1/facts?about=jtf-north&as_of=2025-01-22&sort=-id",
        "/v1/timeline?about=initial-wave&as_of=2025-01-22",  # jtf-north's facts have no events
        "/v1/forces/jtf-north?as_of=2025-01-22",
    ],
)
def test_a_record_s_facts_on_a_day_are_kept_by_its_own_index_of_them(
    sqlite_path: str, path: str
) -> None:
    """``fact_about`` holds each fact's day beside the record it is about, so a record's facts
    on a day are kept by that record's index of them: checked on ``facts``, every one of a hub
    force's facts was looked up to find the few kept (at 1000x, migration 0014)."""
    statements = statements_of(f"sqlite:///{sqlite_path}", path)
    of_the_day = [(sql, p) for sql, p in statements if "reported_on <=" in sql]
    # A page, not only its count: a list that counts nothing reads none.
    assert [sql for sql, _ in of_the_day if not sql.startswith("SELECT count(*)")], statements
    for (sql, _), plan in zip(of_the_day, plans(sqlite_path, of_the_day), strict=True):
        assert set(DAY_CHECKED_ON.findall(sql)) == {"fact_about"}, sql
        found_by = [step for step in plan if step.startswith("SEARCH fact_about USING")]
        assert found_by, plan
        assert all("_reported_on (" in step for step in found_by), plan


@pytest.mark.parametrize(
    "path",
    [
        "/v1/facts?about=jtf-north&q=zyxwvut",
        "/v1/facts?q=zyxwvut&sort=-date",
        "/v1/facts?about=no-such-record",
        "/v1/activities?force=no-such-record",
    ],
)
def test_a_list_that_counts_nothing_reads_no_page(seeded_database_url: str, path: str) -> None:
    """Its count, remembered for the data version, already says the list is empty: its page
    would read an index to the end to find nothing (on PostgreSQL at 1000x, 56 ms for
    about=jtf-north&q=marines, which no fact holds)."""
    first, again = statements_of_each(seeded_database_url, [path, path])
    assert any("count(*)" in sql for sql, _ in first), first
    for statements in (first, again):
        pages = [sql for sql, _ in statements if "count(*)" not in sql and "LIMIT" in sql]
        assert not [sql for sql in pages if "dataset_loads" not in sql], statements
    with TestClient(create_app(Settings(database_url=seeded_database_url))) as client:
        assert client.get(path).json() == {"data": [], "next": None, "total": 0}


@pytest.mark.parametrize(
    "path",
    [
        "/v1/facts?about=jtf-north&q=troops",
        "/v1/facts?about=jtf-north&q=troops&sort=date",
        f"/v1/facts?source={ARTICLE_BUNDLE}&q=troops",
        f"/v1/facts?source={ARTICLE_BUNDLE}&q=troops&sort=-id",
    ],
)
def test_the_count_of_a_record_s_or_a_source_s_facts_that_hold_words_reads_no_fact(
    sqlite_path: str, path: str
) -> None:
    """The record's (or source's) index of its facts is joined by told_at, which the search
    index's places are: the count reads the facts' indexes, never their rows. Joined by fact id,
    it read each fact's row: at 1000x, with no count remembered (count_cache_entries=0),
    about=jtf-north&q=the took 90 ms a request on SQLite against 39, and 66 against 53 on
    PostgreSQL."""
    statements = statements_of(f"sqlite:///{sqlite_path}", path)
    counts = [(sql, p) for sql, p in statements if sql.startswith("SELECT count(*)")]
    assert counts, statements
    for plan in plans(sqlite_path, counts):
        facts = [step for step in plan if re.match(r"(SEARCH|SCAN) facts\b", step)]
        assert all("COVERING INDEX" in step for step in facts), plan


@pytest.mark.parametrize(
    "path",
    [
        *(
            f"/v1/facts?about=jtf-north&kind=quantity&sort={s}"
            for s in ("date", "-date", "id", "-id")
        ),
        # By id, the seed's statistics take the kind's index for the source's facts, and sort.
        *(f"/v1/facts?source={ARTICLE_BUNDLE}&kind=quantity&sort={s}" for s in ("date", "-date")),
    ],
)
def test_a_record_s_or_a_source_s_facts_in_date_or_id_order_are_found_by_a_covering_index(
    sqlite_path: str, path: str
) -> None:
    """Without words, the record's (or source's) index of its facts in the order is joined by
    fact id, which it holds: its entries are read from the index alone, not each from its row,
    as a join by told_at, which those indexes do not hold, made them (at 1000x,
    about=jtf-north&kind=quantity&sort=date: 8.2 ms a page against 2.2)."""
    page = fact_pages(statements_of(f"sqlite:///{sqlite_path}", path))
    assert page, path
    for plan in plans(sqlite_path, page):
        assert re.match(r"SEARCH fact_(about|sources) USING COVERING INDEX", plan[0]), plan
