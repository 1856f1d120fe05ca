"""`handoff shard`: where each district is, and moving a district to another shard; and serving every shard."""

from __future__ import annotations

import json
import threading
from dataclasses import asdict
from typing import Annotated

import typer

from service.fleet.move import MoveRefusedError, move_district
from service.fleet.shards import fleet_opened
from service.infra.directory import DistrictNotFoundError
from service.infra.settings import Settings

shard_app = typer.Typer(help="Districts as shards (HANDOFF_SHARDS): where each is, moving one.", no_args_is_help=True)


@shard_app.command("list")
def shard_list() -> None:
    """Each district, its shard, its schools, and a move under way."""
    settings = Settings()
    with fleet_opened(settings, with_reads=False) as fleet:
        placed = [
            {**asdict(each), "schools": fleet.directory.schools_of(each.district_id)}
            for each in fleet.directory.districts()
        ]
        typer.echo(json.dumps({"shards": list(fleet.shards), "districts": placed}, indent=2, ensure_ascii=False))


@shard_app.command("move")
def shard_move(
    district: Annotated[str, typer.Option(help="The district's code")],
    to: Annotated[str, typer.Option("--to", help="The shard to move it to (a name in HANDOFF_SHARDS)")],
) -> None:
    """Move a district: its writes are refused while its schools' streams are copied in order and checked, then the
    directory sends its requests to the new shard."""
    settings = Settings()
    with fleet_opened(settings, with_reads=False) as fleet:
        try:
            report = move_district(fleet, district, to, say=typer.echo)
        except DistrictNotFoundError as missing:
            raise typer.BadParameter(missing.text) from None
        except MoveRefusedError as refused:
            typer.echo(f"move refused, district {district} stays where it was: {refused}", err=True)
            raise typer.Exit(1) from None
        typer.echo(json.dumps(asdict(report), ensure_ascii=False))


def serve_shards(settings: Settings, host: str, port: int, projector: bool) -> None:
    """Serve every shard from this process: one application, read side (and projectors) per shard."""
    import uvicorn

    from service.http.server import server_config
    from service.http.shards import sharded_app

    with fleet_opened(settings, with_projector=projector) as fleet:
        api = sharded_app(fleet, settings)
        typer.echo(f"\nHandoff is running at http://{host}:{port} over shards {', '.join(fleet.shards)}\n")
        uvicorn.Server(server_config(api, host, port, log_level="info")).run()


def project_shards(settings: Settings, stopped: threading.Event) -> None:
    """Every shard's projectors, checkpoints, policies and notifier, until stopped."""
    with fleet_opened(settings, with_projector=True) as fleet:
        typer.echo(f"projecting shards {', '.join(fleet.shards)}; stop with Ctrl-C")
        try:
            stopped.wait()
        except KeyboardInterrupt:
            pass


def register(app: typer.Typer) -> None:
    app.add_typer(shard_app, name="shard")
