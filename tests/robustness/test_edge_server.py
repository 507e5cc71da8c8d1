"""Hostile connections against the deployment README describes: nginx, configured by
deploy/nginx.conf, in front of a real ``muster serve``.

uvicorn alone holds none of these off (README, Robustness): with httptools, its HTTP parser, a
100 MB header is read to the end and answered 200, any number of headers is taken, a connection
that never finishes its request is held open for ever, and a pipelining flood slows every other
client and logs a traceback for each connection that went away.
"""

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest

from tests.helpers import fill
from tests.robustness import attacks
from tests.robustness.attacks import HEAD, Answer, send_and_read
from tests.robustness.proxy import Proxy, deployed_seconds, nginx_in_front, require_nginx
from tests.robustness.server import Served, muster_serve

HEADER_TIMEOUT = deployed_seconds("client_header_timeout")
# What every response carries, whoever made it (README, Robustness).
SECURITY_HEADERS = {
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "no-referrer",
    "access-control-allow-origin": "*",
}
# Other clients see no delay: /healthz answers within this (a median of several requests; alone,
# on loopback, it takes 1-3 ms).
NO_DELAY_SECONDS = 0.1
MB = 1024 * 1024


@pytest.fixture(scope="module", autouse=True)
def _nginx_installed() -> None:
    require_nginx()


@pytest.fixture(scope="module")
def database(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = f"sqlite:///{tmp_path_factory.mktemp('edge') / 'muster.db'}"
    fill(url)
    return url


@pytest.fixture(scope="module")
def muster(database: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    with muster_serve(database, tmp_path_factory.mktemp("edge-logs")) as served:
        yield served


@pytest.fixture(scope="module")
def front(muster: Served) -> Iterator[Proxy]:
    with nginx_in_front(muster.port) as proxy:
        yield proxy


def _memory(*processes: Served | Proxy) -> int:
    return attacks.resident_bytes([process.process.pid for process in processes])


def _assert_a_problem(answer: Answer, status: int) -> None:
    """``answer`` is an RFC 9457 problem with every header Muster puts on a response."""
    assert answer.status == status, answer.head
    assert answer.header("content-type") == "application/problem+json"
    assert orjson.loads(answer.body)["status"] == status
    for name, value in SECURITY_HEADERS.items():
        assert answer.header(name) == value, name
    assert "default-src 'none'" in (answer.header("content-security-policy") or "")
    assert answer.header("cache-control") == "no-store"
    assert answer.header("x-request-id")


def test_a_100_mb_header_is_refused_at_once_without_delaying_others(
    muster: Served, front: Proxy
) -> None:
    answers: list[Answer] = []
    before = _memory(muster, front)

    def attack() -> None:
        answers.append(send_and_read(front.port, attacks.huge_header(100), timeout=30))

    attackers = [threading.Thread(target=attack) for _ in range(8)]
    for attacker in attackers:
        attacker.start()
    healthz = attacks.healthz_seconds(front.port)
    for attacker in attackers:
        attacker.join()
    assert len(answers) == 8
    for answer in answers:
        _assert_a_problem(answer, 431)
        assert answer.seconds < 1
    assert healthz < NO_DELAY_SECONDS
    assert _memory(muster, front) - before < 16 * MB


@pytest.mark.parametrize("count", [10_000, 100_000])
def test_ten_thousand_header_lines_are_refused(front: Proxy, count: int) -> None:
    shortest = HEAD + b"a:\r\n" * count + b"\r\n"  # 4 bytes a line
    _assert_a_problem(send_and_read(front.port, iter([shortest])), 431)


def test_a_hundred_ordinary_headers_are_taken(front: Proxy) -> None:
    headers = b"".join(b"X-Header-%d: 1\r\n" % number for number in range(100))
    request = HEAD + headers + b"Connection: close\r\n\r\n"
    assert send_and_read(front.port, iter([request])).status == 200


@pytest.mark.parametrize(
    "sent",
    [b"", b"GET /healthz HT", HEAD + b"X-Half: 1"],
    ids=["nothing", "half a request line", "half the headers"],
)
def test_an_incomplete_request_is_closed_after_the_header_timeout(
    front: Proxy, sent: bytes
) -> None:
    answer = send_and_read(front.port, iter([sent]), timeout=HEADER_TIMEOUT + 20)
    assert answer.status == 0  # closed without an answer
    assert HEADER_TIMEOUT - 0.5 < answer.seconds < HEADER_TIMEOUT + 2


def test_a_request_that_trickles_in_is_closed_after_the_header_timeout(front: Proxy) -> None:
    """Slowloris: one more header line every second, each in time, the request never complete."""
    lines = int(HEADER_TIMEOUT * 4)
    answer = send_and_read(front.port, attacks.slowloris(lines, 1.0), timeout=lines + 10)
    assert answer.status == 0
    assert HEADER_TIMEOUT - 0.5 < answer.seconds < HEADER_TIMEOUT + 2


BAD_REQUESTS = {
    "no request line": (b"garbage\r\n\r\n", 400),
    "control character in the path": (b"GET /\x01 HTTP/1.1\r\nHost: m\r\n\r\n", 400),
    "raw bytes in the path": (b"GET /v1/forces/\xff HTTP/1.1\r\nHost: m\r\n\r\n", 400),
    "raw bytes in the query": (b"GET /v1/facts?q=\x80 HTTP/1.1\r\nHost: m\r\n\r\n", 400),
    "no Host": (b"GET / HTTP/1.1\r\n\r\n", 400),
    "two Hosts": (b"GET / HTTP/1.1\r\nHost: m\r\nHost: n\r\n\r\n", 400),
    "folded header": (b"GET / HTTP/1.1\r\nHost: m\r\nX-A: 1\r\n folded\r\n\r\n", 400),
    "NUL in a header": (b"GET / HTTP/1.1\r\nHost: m\r\nX-A: a\x00b\r\n\r\n", 400),
    "bad Content-Length": (b"GET / HTTP/1.1\r\nHost: m\r\nContent-Length: x\r\n\r\n", 400),
    "unknown HTTP version": (b"GET / HTTP/9.9\r\nHost: m\r\n\r\n", 505),
    "URL past 16 KiB": (b"GET /%s HTTP/1.1\r\nHost: m\r\n\r\n" % (b"a" * 17000), 414),
    "body past 1 MiB": (b"POST / HTTP/1.1\r\nHost: m\r\nContent-Length: 2000000\r\n\r\n", 413),
}


@pytest.mark.parametrize("name", BAD_REQUESTS)
def test_a_malformed_request_is_a_problem_with_every_header(front: Proxy, name: str) -> None:
    """Where uvicorn answers with a bare plain-text 400, nginx answers with a problem that carries
    the headers of every Muster response."""
    request, status = BAD_REQUESTS[name]
    _assert_a_problem(send_and_read(front.port, iter([request])), status)


def test_a_refusal_keeps_the_callers_request_id(front: Proxy) -> None:
    request = (
        b"POST / HTTP/1.1\r\nHost: m\r\nX-Request-ID: abc-123\r\nContent-Length: 2000000\r\n\r\n"
    )
    answer = send_and_read(front.port, iter([request]))
    assert answer.status == 413
    assert answer.header("x-request-id") == "abc-123"


@pytest.mark.parametrize("path", ["/v1/forces", "/docs", "/healthz", "/v1/forces/nothing"])
def test_muster_answers_through_nginx_with_its_own_headers_once(
    front: Proxy, muster: Served, path: str
) -> None:
    request = b"GET %s HTTP/1.1\r\nHost: m\r\nX-Request-ID: mine.1\r\nConnection: close\r\n\r\n"
    through = send_and_read(front.port, iter([request % path.encode()]))
    direct = send_and_read(muster.port, iter([request % path.encode()]))
    assert through.status == direct.status
    assert through.body == direct.body
    names = [line.partition(b":")[0].lower() for line in through.head.split(b"\r\n")[1:]]
    assert len(names) == len(set(names)), through.head
    for name in (*SECURITY_HEADERS, "content-security-policy", "cache-control", "etag"):
        assert through.header(name) == direct.header(name), name
    assert through.header("x-request-id") == "mine.1"


def test_a_pipelining_flood_leaves_memory_bounded_and_others_undelayed(
    database: str, tmp_path: Path
) -> None:
    """100 connections each pipeline 300 GETs of /openapi.json and never read, then go away."""
    with muster_serve(database, tmp_path) as muster, nginx_in_front(muster.port) as front:
        attacks.healthz_seconds(front.port)
        before = _memory(muster, front)
        with attacks.pipelining_flood(front.port, 100, 300, b"/openapi.json"):
            time.sleep(1)
            healthz = attacks.healthz_seconds(front.port)
            during = _memory(muster, front)
        time.sleep(1)
        after = attacks.healthz_seconds(front.port)
        log = muster.log_lines()
    assert healthz < NO_DELAY_SECONDS
    assert after < NO_DELAY_SECONDS
    assert during - before < 32 * MB
    assert [line for line in log if '"level":"error"' in line or "Traceback" in line] == []
    served = sum('"path":"/openapi.json"' in line for line in log)
    assert 0 < served < 1000  # of the 30,000 asked for: nginx refuses the rest (429)
