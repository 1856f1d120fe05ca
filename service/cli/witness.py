"""`handoff witness`: the bureau's witness (c2sp.org/tlog-witness) that cosigns every school's checkpoints, its key
(the vkey regulators pin), and the checkpoints it refused (evidence of a rewritten log)."""

from __future__ import annotations

import json
import logging
from datetime import datetime, timezone
from pathlib import Path
from typing import Annotated

import typer

from replay.checkpoints import load_or_create_signing_key
from replay.witness import Witness, read_logs
from replay.witness_store import WitnessStore

witness_app = typer.Typer(help="The bureau's witness: cosigns each school's checkpoints if they extend the last seen.")

StateOption = Annotated[
    Path, typer.Option("--state", envvar="HANDOFF_WITNESS_STATE", help="Folder of its key, memory and evidence")
]
NameOption = Annotated[
    str, typer.Option("--name", envvar="HANDOFF_WITNESS_NAME", help="The witness's name, e.g. witness.bureau.example")
]


def witness(state: Path, name: str, logs: Path | None = None) -> Witness:
    """The witness kept in the folder `state` (its key made there, mode 600, on first use)."""
    key = load_or_create_signing_key(state / "witness-key.pem")
    followed = read_logs(logs.read_text(encoding="utf-8")) if logs else []
    return Witness(name, key, followed, WitnessStore(state), lambda: datetime.now(timezone.utc))


@witness_app.command("serve")
def serve(
    state: StateOption,
    logs: Annotated[
        Path,
        typer.Option(
            envvar="HANDOFF_WITNESS_LOGS", exists=True, help='Lines "<origin> <school vkey>"; origin may end in *'
        ),
    ],
    name: NameOption = "witness.bureau.example/handoff",
    host: Annotated[str, typer.Option(help="Address to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on")] = 8100,
) -> None:
    """Serve POST /add-checkpoint and GET /<origin hash>/checkpoint."""
    import uvicorn

    from service.http.server import server_config
    from service.http.witness_app import create_witness_app

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    found = witness(state, name, logs)
    typer.echo(f"witness {name} following {len(found.logs)} log(s); its key (pin it): {found.vkey}")
    uvicorn.Server(server_config(create_witness_app(found), host, port, log_level="info")).run()


@witness_app.command("key")
def key(state: StateOption, name: NameOption = "witness.bureau.example/handoff") -> None:
    """The witness's vkey: what regulators give verify.py and `handoff verify` as --witness-key."""
    typer.echo(witness(state, name).vkey)


@witness_app.command("refused")
def refused(state: StateOption) -> None:
    """Every validly signed checkpoint the witness refused, and why, as JSON lines (oldest first)."""
    for record in WitnessStore(state).refused():
        typer.echo(json.dumps(record, ensure_ascii=False, sort_keys=True))


def register(app: typer.Typer) -> None:
    app.add_typer(witness_app, name="witness")
