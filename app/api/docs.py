"""Documentation pages that work with no internet: Swagger UI at /docs and ReDoc at /redoc.

Their scripts and styles come from the fastapi-offline package and are served by Muster itself,
never from a CDN. Each page carries its own Content-Security-Policy, which allows Muster's own
assets and, by hash, the page's inline script and style, and nothing else; every other response
gets the edge's ``default-src 'none'``.
"""

import base64
import hashlib
import re
from functools import cache
from pathlib import Path
from typing import Annotated

import fastapi_offline
from fastapi import FastAPI
from fastapi import Path as PathParam
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from starlette.responses import HTMLResponse, Response

from app.api.errors import ProblemError

ASSETS_DIR = Path(fastapi_offline.__file__).parent / "static"
ASSETS_PATH = "/docs/assets"
ASSET_MEDIA_TYPES = {
    "swagger-ui-bundle.js": "text/javascript; charset=utf-8",
    "swagger-ui.css": "text/css; charset=utf-8",
    "redoc.standalone.js": "text/javascript; charset=utf-8",
    "favicon.png": "image/png",
}
INLINE_CODE = {
    "script": re.compile(r"<script>(.*?)</script>", re.S),
    "style": re.compile(r"<style>(.*?)</style>", re.S),
}


def content_security_policy(html: str, *, runtime_styles: bool = False) -> str:
    """A policy for ``html`` that allows same-origin assets and its own inline code only.

    A page whose script writes style elements as it runs (``runtime_styles``: ReDoc's
    styled-components) needs ``'unsafe-inline'`` styles, which cannot run code; its scripts stay
    restricted. Both pages draw icons from ``data:`` images; ReDoc searches in a ``blob:`` worker.
    """
    scripts = ["'self'", *map(_hash, INLINE_CODE["script"].findall(html))]
    styles = ["'self'"]
    styles += (
        ["'unsafe-inline'"] if runtime_styles else map(_hash, INLINE_CODE["style"].findall(html))
    )
    return (
        f"default-src 'none'; script-src {' '.join(scripts)}; style-src {' '.join(styles)}; "
        "img-src 'self' data:; connect-src 'self'; worker-src blob:; base-uri 'none'; "
        "form-action 'none'; frame-ancestors 'none'"
    )


def _hash(code: str) -> str:
    return f"'sha256-{base64.b64encode(hashlib.sha256(code.encode()).digest()).decode()}'"


def _page(html: str, policy: str) -> HTMLResponse:
    return HTMLResponse(html, headers={"Content-Security-Policy": policy})


@cache
def _asset(name: str) -> bytes:
    return (ASSETS_DIR / name).read_bytes()


def install_docs(api: FastAPI) -> None:
    """Add /docs, /redoc and their assets to ``api`` (created with ``docs_url=None`` and
    ``redoc_url=None``, so that FastAPI's CDN-loading pages are not there)."""
    openapi_url = api.openapi_url or "/openapi.json"
    favicon = f"{ASSETS_PATH}/favicon.png"
    swagger = bytes(
        get_swagger_ui_html(
            openapi_url=openapi_url,
            title=f"{api.title}: API documentation",
            swagger_js_url=f"{ASSETS_PATH}/swagger-ui-bundle.js",
            swagger_css_url=f"{ASSETS_PATH}/swagger-ui.css",
            swagger_favicon_url=favicon,
            # No validator badge: it would fetch an image from swagger.io.
            swagger_ui_parameters={"validatorUrl": None},
        ).body
    ).decode()
    redoc = bytes(
        get_redoc_html(
            openapi_url=openapi_url,
            title=f"{api.title}: API reference",
            redoc_js_url=f"{ASSETS_PATH}/redoc.standalone.js",
            redoc_favicon_url=favicon,
            with_google_fonts=False,
        ).body
    ).decode()

    swagger_policy = content_security_policy(swagger)
    redoc_policy = content_security_policy(redoc, runtime_styles=True)

    @api.get("/docs", include_in_schema=False)
    def swagger_ui() -> HTMLResponse:
        return _page(swagger, swagger_policy)

    @api.get("/redoc", include_in_schema=False)
    def redoc_page() -> HTMLResponse:
        return _page(redoc, redoc_policy)

    @api.get(f"{ASSETS_PATH}/{{name}}", include_in_schema=False)
    def docs_asset(name: Annotated[str, PathParam(max_length=40)]) -> Response:
        media_type = ASSET_MEDIA_TYPES.get(name)
        if media_type is None:
            raise ProblemError(404, f"no documentation asset is named {name!r}")
        return Response(_asset(name), media_type=media_type)
