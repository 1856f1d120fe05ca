"""The witness's HTTP interface (c2sp.org/tlog-witness): POST /add-checkpoint answers the cosignature line, or the
protocol's status with a plain-text reason (409 with the size it knows, as text/x.tlog.size); GET
/<origin hash>/checkpoint answers the newest cosigned checkpoint of a log. A separate app from the school's API: the
bureau runs it, with its own key."""

from __future__ import annotations

from typing import Annotated

from fastapi import Body, FastAPI, Request, Response
from fastapi.responses import PlainTextResponse

from replay.witness import Witness, WitnessRefusal

MAX_BODY = 64 * 1024  # 63 proof lines and a checkpoint fit many times over


def create_witness_app(witness: Witness) -> FastAPI:
    """The witness app over one `Witness`."""
    api = FastAPI(title="Handoff witness", docs_url=None, redoc_url=None, openapi_url=None)

    @api.exception_handler(WitnessRefusal)
    def refused(request: Request, refusal: WitnessRefusal) -> Response:
        if refusal.known_size is not None:  # the exact type the protocol names, no charset added
            return Response(f"{refusal.known_size}\n", 409, {"Content-Type": "text/x.tlog.size"})
        return PlainTextResponse(f"{refusal.code}: {refusal.message}\n", refusal.status)

    @api.post("/add-checkpoint", response_class=PlainTextResponse)
    def add_checkpoint(body: Annotated[bytes, Body(media_type="text/plain", max_length=MAX_BODY)]) -> str:
        return witness.add_checkpoint(body)

    @api.get("/{origin_hash}/checkpoint", response_class=PlainTextResponse)
    def checkpoint(origin_hash: str) -> PlainTextResponse:
        note = witness.latest(origin_hash)
        return PlainTextResponse(note or "no checkpoint of this log was cosigned\n", 200 if note else 404)

    @api.get("/health", response_class=PlainTextResponse)
    def health() -> str:
        return "ok\n"

    return api
