"""The documentation pages work with no internet: Muster serves their assets itself, their
Content-Security-Policy allows nothing else, and a real Chromium renders every operation."""

import base64
import hashlib
import re
import subprocess
from collections.abc import Callable
from pathlib import Path

import httpx
from fastapi.testclient import TestClient

PAGES = ("/docs", "/redoc")
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
    installed: Callable[[str], str], served: str, tmp_path: Path
) -> None:
    chromium = installed("chromium")
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
