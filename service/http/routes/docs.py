"""The interactive API docs (/docs, /redoc), with Swagger UI and ReDoc served from the fastapi-offline package, so
that they work on a school network with no internet access."""

from __future__ import annotations

from importlib.resources import files

from fastapi import FastAPI, Request
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html, get_swagger_ui_oauth2_redirect_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

ASSETS = "/docs-assets"
ASSET_FOLDER = files("fastapi_offline") / "static"


def mount_docs(api: FastAPI) -> None:
    """Serve the assets under /docs-assets and the two pages; create the app with docs_url=None, redoc_url=None."""
    api.mount(ASSETS, StaticFiles(directory=str(ASSET_FOLDER)), name="docs-assets")

    def swagger_ui(_: Request) -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=api.openapi_url or "/openapi.json",
            title=f"{api.title} - Swagger UI",
            oauth2_redirect_url="/docs/oauth2-redirect",
            swagger_js_url=f"{ASSETS}/swagger-ui-bundle.js",
            swagger_css_url=f"{ASSETS}/swagger-ui.css",
            swagger_favicon_url=f"{ASSETS}/favicon.png",
        )

    def redoc(_: Request) -> HTMLResponse:
        return get_redoc_html(
            openapi_url=api.openapi_url or "/openapi.json",
            title=f"{api.title} - ReDoc",
            redoc_js_url=f"{ASSETS}/redoc.standalone.js",
            redoc_favicon_url=f"{ASSETS}/favicon.png",
            with_google_fonts=False,
        )

    def oauth2_redirect(_: Request) -> HTMLResponse:
        return get_swagger_ui_oauth2_redirect_html()

    # plain routes, as FastAPI adds its own docs: pages about the API, not operations of it
    api.add_route("/docs", swagger_ui, include_in_schema=False)
    api.add_route("/docs/oauth2-redirect", oauth2_redirect, include_in_schema=False)
    api.add_route("/redoc", redoc, include_in_schema=False)
