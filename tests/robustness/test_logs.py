"""What a client sends cannot forge or garble the log of a real ``muster serve``."""

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.helpers import fill
from tests.robustness.server import Served, muster_serve

FORGED = "INFO muster.access GET /admin 200 0.1ms forged"


@pytest.fixture(scope="module")
def text_logging_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    folder = tmp_path_factory.mktemp("text-log")
    url = f"sqlite:///{folder / 'muster.db'}"
    fill(url)
    with muster_serve(url, folder, settings={"MUSTER_LOG_FORMAT": "text"}) as served:
        yield served


def _lines_after(served: Served, path: str, marker: str) -> list[str]:
    """Request ``path``, then one marked request; the log lines written up to the marked one."""
    assert httpx.get(served.base_url + path).status_code == 404
    httpx.get(served.base_url + f"/v1/forces/{marker}")
    for _ in range(100):  # the access log is written at the end of the event loop's turn
        lines = served.log_lines()
        if any(marker in line for line in lines):
            return lines
        httpx.get(served.base_url + "/healthz")
    raise AssertionError(f"no access line for {marker}")


def test_a_line_break_in_a_path_does_not_forge_a_log_line(text_logging_server: Served) -> None:
    forged = FORGED.replace(" ", "%20")
    lines = _lines_after(text_logging_server, f"/v1/forces/x%0a{forged}%0d%0a{forged}", "mark-1")
    assert not [line for line in lines if line.startswith("INFO muster.access")]
    [line] = [line for line in lines if "forged" in line]
    assert " INFO muster.access: GET /v1/forces/x\\nINFO muster.access GET /admin" in line
    assert " 404 " in line


def test_control_characters_in_a_path_are_written_as_escapes(
    text_logging_server: Served,
) -> None:
    lines = _lines_after(text_logging_server, "/v1/forces/%1b[31mred%07%7f%c2%85", "mark-2")
    [line] = [line for line in lines if "red" in line]
    assert "/v1/forces/\\x1b[31mred\\x07\\x7f\\x85 404 " in line
    text = Path(text_logging_server.stderr).read_text(encoding="utf-8")
    assert not [char for char in text if (char < " " and char != "\n") or "\x7f" <= char < "\xa0"]
