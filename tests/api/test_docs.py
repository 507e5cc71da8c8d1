"""The documentation pages work with no internet: Muster serves their assets itself, their
Content-Security-Policy allows nothing else, and a real Chromium renders every operation."""

import base64
import hashlib
import os
import re
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from tests.conftest import SEED_DATA

PAGES = ("/docs", "/redoc")
MUSTER = [sys.executable, "-c", "from app.cli import main; main()"]
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    # Console messages, Content-Security-Policy violations among them, go to stderr.
    "--enable-logging=stderr",
    "--log-level=0",
    # Let the page load its script and the OpenAPI document and draw them before the DOM is read.
    "--virtual-time-budget=20000",
]
CSP_VIOLATION = re.compile(r'CONSOLE.*?"(.*?Content Security Policy.*?)"')


def test_the_pages_load_only_muster_s_own_assets(client: TestClient) -> None:
    for page in PAGES:
        response = client.get(page)
        assert response.status_code == 200, page
        assert response.headers["content-type"] == "text/html; charset=utf-8"
        assets = re.findall(r'(?:src|href|spec-url)="([^"]+)"', response.text)
        assert assets, page
        for asset in assets:
            assert asset.startswith("/"), (page, asset)  # nothing from another origin
            served = client.get(asset)
            assert served.status_code == 200, asset
            assert served.content, asset
        assert "http://" not in response.text
        assert "https://" not in response.text


def test_each_page_s_policy_allows_its_own_inline_script_and_no_other_origin(client) -> None:
    for page in PAGES:
        response = client.get(page)
        policy = dict(
            directive.strip().split(" ", 1)
            for directive in response.headers["content-security-policy"].split(";")
        )
        assert policy["default-src"] == "'none'"
        assert policy["frame-ancestors"] == "'none'"
        for script in re.findall(r"<script>(.*?)</script>", response.text, re.S):
            digest = base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()
            assert f"'sha256-{digest}'" in policy["script-src"].split(), page
        assert "'unsafe-inline'" not in policy["script-src"]
        for sources in policy.values():
            assert "http" not in sources, (page, sources)
            assert "*" not in sources, (page, sources)
    api = client.get("/v1/forces")
    assert api.headers["content-security-policy"].startswith("default-src 'none'")


def test_an_unknown_asset_is_a_404_problem(client: TestClient) -> None:
    response = client.get("/docs/assets/..%2F..%2Fapp%2Fconfig.py")
    assert response.status_code == 404
    assert client.get("/docs/assets/secrets.js").status_code == 404


@pytest.fixture
def chromium() -> str:
    found = shutil.which("chromium")
    if found is None:
        reason = "Debian's chromium is not installed"
        if os.environ.get("CI"):  # CI must render the page; .ci/run installs chromium
            pytest.fail(reason, pytrace=False)
        pytest.skip(f"{reason} (`apt-get install chromium`)")
    return found


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.fixture
def served(tmp_path: Path) -> Iterator[str]:
    """`muster serve` on loopback, over a database that `muster db upgrade` and `muster load`
    prepared, as an operator would."""
    environment = os.environ | {"MUSTER_DATABASE_URL": f"sqlite:///{tmp_path / 'docs.db'}"}
    for command in (["db", "upgrade"], ["load", str(SEED_DATA)]):
        subprocess.run([*MUSTER, *command], env=environment, check=True, capture_output=True)
    port = _free_port()
    server = subprocess.Popen(
        [*MUSTER, "serve", "--host", "127.0.0.1", "--port", str(port)],
        env=environment,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60  # a generous start-up allowance, not a speed check
        while True:
            try:
                if httpx.get(f"{base}/healthz").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert server.poll() is None, "muster serve exited"
            assert time.monotonic() < deadline, "muster serve did not start"
            time.sleep(0.2)
        yield base
    finally:
        server.terminate()
        server.wait(timeout=30)


def render(chromium: str, url: str, profile: Path) -> tuple[str, list[str]]:
    """The DOM of ``url`` once Chromium has drawn it, and the policy violations it reported."""
    result = subprocess.run(
        [chromium, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", "--dump-dom", url],
        capture_output=True,
        text=True,
        timeout=180,
        check=True,
    )
    return result.stdout, CSP_VIOLATION.findall(result.stderr)


def test_chromium_renders_every_operation_on_the_docs_pages(
    chromium: str, served: str, tmp_path: Path
) -> None:
    paths = httpx.get(f"{served}/openapi.json").json()["paths"]
    dom, violations = render(chromium, f"{served}/docs", tmp_path / "swagger")
    assert set(re.findall(r'class="opblock-summary-path" data-path="([^"]+)"', dom)) == set(paths)
    assert violations == []
    dom, violations = render(chromium, f"{served}/redoc", tmp_path / "redoc")
    for path, operations in paths.items():
        assert path in dom, path
        for operation in operations.values():
            assert operation["summary"] in dom, operation["operationId"]
    # ReDoc's footer links a logo from its makers' site, which the policy blocks: nothing of
    # Muster's is blocked.
    assert all("https://" in violation for violation in violations), violations
