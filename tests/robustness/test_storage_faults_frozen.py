"""A PostgreSQL server that stops answering (``kill -STOP``), under a real ``muster serve``.

The test freezes a throwaway PostgreSQL server of its own, started as ``.ci/postgres.sh`` starts
the shared one, never the shared one: other tests use that at the same time.
"""

import os
import signal
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from sqlalchemy import make_url

from tests.conftest import POSTGRES_URL_VARIABLE
from tests.helpers import fill
from tests.robustness.server import (
    PrivatePostgres,
    muster_serve,
    postgres_binaries,
    private_postgres_server,
)


@pytest.fixture
def private_postgres() -> Iterator[PrivatePostgres]:
    """A PostgreSQL server of the test's own, on a free port, deleted afterwards."""
    if postgres_binaries() is None:
        reason = "no PostgreSQL server binaries (no pg_ctl on PATH, none in /usr/lib/postgresql)"
        # CI has them: it starts the shared server with them.
        if os.environ.get("CI") or os.environ.get(POSTGRES_URL_VARIABLE):
            pytest.fail(reason, pytrace=False)
        pytest.skip(reason)
    with private_postgres_server() as server:
        yield server


DATA_PATHS = ["/v1/forces?limit=3", "/v1/facts", "/v1/search?q=guard", "/v1/waves"]


def test_a_frozen_postgresql_answers_503_fast_and_service_returns_after_sigcont(
    tmp_path: Path, private_postgres: PrivatePostgres
) -> None:
    fill(private_postgres.url)
    with (
        muster_serve(private_postgres.url, tmp_path) as served,
        httpx.Client(base_url=served.base_url, timeout=30) as client,
        httpx.Client(base_url=served.base_url, timeout=30) as probe,
    ):
        assert client.get("/v1/waves").status_code == 200

        def timed(path: str) -> tuple[int, float, str]:
            started = time.monotonic()
            response = client.get(path, headers={"cache-control": "no-cache"})
            return response.status_code, time.monotonic() - started, response.text

        private_postgres.signal(signal.SIGSTOP)
        # Requests in flight as it froze, then more at once than the server has threads (anyio's
        # 40), while the reads of the first still hang on the frozen server.
        with ThreadPoolExecutor(64) as pool:
            answers = list(pool.map(timed, DATA_PATHS * 4))
            answers += pool.map(timed, DATA_PATHS * 16)
            started = time.monotonic()
            assert probe.get("/healthz").status_code == 200
            healthz_seconds = time.monotonic() - started
        for status, _seconds, body in answers:
            if status != 200:  # a response cached before the freeze may still be served
                assert status == 503
                assert "127.0.0.1" not in body
        assert max(seconds for _, seconds, _ in answers) < 2, answers
        assert healthz_seconds < 0.1
        private_postgres.signal(signal.SIGCONT)
        resumed = time.monotonic()
        while client.get("/v1/facts?limit=1").status_code != 200:
            assert time.monotonic() - resumed < 2, "not back within 2 s of SIGCONT"
            time.sleep(0.05)


def test_a_postgresql_gone_while_serving_is_503_naming_no_place(
    tmp_path: Path, private_postgres: PrivatePostgres
) -> None:
    fill(private_postgres.url)
    port = str(make_url(private_postgres.url).port)
    with (
        muster_serve(private_postgres.url, tmp_path) as served,
        httpx.Client(base_url=served.base_url) as client,
    ):
        assert client.get("/v1/facts").status_code == 200
        os.kill(private_postgres.processes()[0], signal.SIGQUIT)  # an immediate shutdown
        time.sleep(2)  # the poller sees it
        for path in ["/readyz", "/v1/facts?limit=1", "/v1/search?q=guard"]:
            response = client.get(path)
            assert response.status_code == 503, path
            assert response.headers["content-type"] == "application/problem+json"
            assert "127.0.0.1" not in response.text
            assert port not in response.text
        assert port in "\n".join(served.log_lines())  # the operator's log has the detail
