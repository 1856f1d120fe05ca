"""The staff web pages (gate tablet, duty leader's board): plain static files served by the API, no build step."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import RedirectResponse
from fastapi.staticfiles import StaticFiles

UI_FOLDER = Path(__file__).parents[1] / "ui"


def mount_ui(api: FastAPI) -> None:
    """Serve the pages under /ui/ (sign-in at /ui/, the gate at /ui/gate.html, the board at /ui/board.html)."""
    api.mount("/ui", StaticFiles(directory=UI_FOLDER, html=True), name="ui")
    api.add_api_route("/", to_sign_in, methods=["GET"], include_in_schema=False)


def to_sign_in() -> RedirectResponse:
    return RedirectResponse("/ui/", status_code=307)
