"""/v1/changes at scale: a page of the net changes against collapsing every later change.

A history shaped like 1000x reloads (58,000 facts and 42,000 entities a load by default, each load
changing every record) is written straight into a fresh SQLite database, then each way is timed
on it, side by side in one run, as the median of several runs:

- before: what the server did until the changes were paged (every later change row read and
  collapsed in Python, the whole answer at once);
- a first page and a page deep in the walk (50 records), by app/services/changes.py, each timed
  both ways it can be read (record by record, and by load), with the way the server picks named;
- the total, one count in SQL (remembered per version after its first request).

    .venv/bin/python -m bench.changes              # 100,000 records a load, 3 loads
    .venv/bin/python -m bench.changes --records 10000 --loads 5
"""

import argparse
import datetime as dt
import statistics
import tempfile
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

from sqlalchemy import text

from app import migrate
from app.db import make_engine
from app.models.kinds import Kind
from app.services.changes import (
    KIND_PLACE,
    changes_page,
    count_changes,
    size_of,
    span_since,
)

PAGE = 50


def collapse_everything(connection, seq: int) -> int:  # type: ignore[no-untyped-def]
    """The pre-paging algorithm, kept here to compare: every later row, collapsed in Python."""
    first: dict[tuple[str, str], str] = {}
    last: dict[tuple[str, str], str] = {}
    rows = connection.execute(
        text(
            "SELECT kind, record_id, change FROM dataset_changes WHERE seq > :seq "
            "ORDER BY kind, record_id, seq"
        ),
        {"seq": seq},
    )
    for kind, record_id, change in rows:
        first.setdefault((kind, record_id), change)
        last[(kind, record_id)] = change
    net = [key for key, earliest in first.items() if earliest != "added" or last[key] != "removed"]
    return len(sorted(net, key=lambda key: (KIND_PLACE[key[0]], key[1])))


def median_ms(work: Callable[[], object], runs: int) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        work()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=100_000, help="records a load changes")
    parser.add_argument("--loads", type=int, default=3, help="loads on record")
    parser.add_argument("--runs", type=int, default=5)
    arguments = parser.parse_args()
    folder = Path(tempfile.mkdtemp())
    url = f"sqlite:///{folder / 'changes.db'}"
    migrate.upgrade(url)
    engine = make_engine(url)
    kinds = [Kind.facts.value] * 58 + [kind.value for kind in Kind if kind is not Kind.facts] * 7
    with engine.begin() as connection:
        for seq in range(1, arguments.loads + 1):
            connection.execute(
                text(
                    "INSERT INTO dataset_loads (seq, version, loaded_at, summary, render_version)"
                    " VALUES (:seq, :version, :at, '{}', 'bench')"
                ),
                {"seq": seq, "version": f"v{seq}", "at": dt.datetime.now(dt.UTC)},
            )
            change = "added" if seq == 1 else "changed"
            connection.execute(
                text(
                    "INSERT INTO dataset_changes (seq, kind, record_id, change) "
                    "VALUES (:seq, :kind, :id, :change)"
                ),
                [
                    {"seq": seq, "kind": kinds[i % len(kinds)], "id": f"r{i:07d}", "change": change}
                    for i in range(arguments.records)
                ],
            )
    with engine.connect() as connection:
        span = span_since(connection, "v1", None, arguments.loads)
        total = count_changes(connection, span)
        deep = changes_page(connection, span, None, total, by_load=False)[total - PAGE - 1]
        after = (KIND_PLACE[deep.kind], deep.record_id)
        results = {
            "before: every later change, collapsed in Python": median_ms(
                lambda: collapse_everything(connection, 1), arguments.runs
            ),
        }
        for by_load, way in ((False, "walking the history by record"), (True, "by load")):
            results[f"first page, {way}"] = median_ms(
                partial(changes_page, connection, span, None, PAGE + 1, by_load=by_load),
                arguments.runs,
            )
            results[f"a page at the end of the walk, {way}"] = median_ms(
                partial(changes_page, connection, span, after, PAGE + 1, by_load=by_load),
                arguments.runs,
            )
        size = size_of(connection, span)
        results["the total (once per version)"] = median_ms(
            lambda: count_changes(connection, span), arguments.runs
        )
    engine.dispose()
    print(f"{arguments.records:,} records a load, {arguments.loads} loads, {total:,} changed")
    way = "by load" if size.read_by_load(PAGE + 1) else "walking the history by record"
    print(f"the server reads this span {way} (SpanSize.read_by_load)")
    before = next(iter(results.values()))
    for name, ms in results.items():
        print(f"| {name} | {ms:.2f} ms | {before / ms:.0f}x faster than before |")


if __name__ == "__main__":
    main()
