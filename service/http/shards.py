"""The API over several shards: a request goes school → district → shard by its path, to that shard's own app.

Every API path names its school (/api/v1/schools/{school}/…) or its district (/api/v1/districts/{district}/…), so
the path alone routes it, before any token is read. A token is checked by the shard the path leads to, against that
shard's staff only: a token of one shard is unknown on every other (401). The first shard's app is the front: it
serves the province view, /health and /metrics (over every shard), the pages and everything without a school."""

from __future__ import annotations

import re
from collections import defaultdict
from functools import partial
from typing import Any

from anyio import to_thread
from fastapi import FastAPI
from fastapi.responses import JSONResponse
from prometheus_client import CollectorRegistry
from starlette.types import ASGIApp, Receive, Scope, Send

from service.audit.exports import Exporter
from service.fleet.shards import Fleet, Shard
from service.http.app import ProjectionCollector, ServerRoleCollector, create_app
from service.http.security import security_headers
from service.infra.directory import DistrictMovingError, Placement
from service.infra.settings import Settings
from service.reads.province import Province, ShardCounts
from service.runtime import connection_pools, signing_keys, witness_client

SCOPED = re.compile(r"^/api/v1/(schools|districts)/([^/]+)")
READS = frozenset({"GET", "HEAD", "OPTIONS"})


def sharded_app(fleet: Fleet, settings: Settings) -> FastAPI:
    """One app per shard behind the first shard's, which routes each request to the app of its shard."""
    apps = {name: shard_app(shard, settings) for name, shard in fleet.shards.items()}
    front = apps[fleet.first.name]
    front.state.shards = {name: (s.handoff, s.stack.read if s.stack else None) for name, s in fleet.shards.items()}
    readable = [(s.name, s.stack.read) for s in fleet.shards.values() if s.stack]
    front.state.province = Province([ShardCounts(n, read, partial(fleet.districts_on, n)) for n, read in readable])
    front.state.metrics = shard_metrics(fleet)
    front.add_middleware(ToShard, fleet=fleet, apps=apps)
    return front


def shard_app(shard: Shard, settings: Settings) -> FastAPI:
    """The whole API over one shard's application and read side, with its own exporter."""
    read, watcher = (shard.stack.read, shard.stack.watcher) if shard.stack else (None, None)
    api = create_app(shard.handoff, read, watcher, settings)
    api.state.exporter = Exporter(shard.handoff, shard.url, *signing_keys(settings), witness_client(settings))
    return api


class ToShard:
    """Hands a request to the app of the shard its school or district is on; refuses a change to a moving one."""

    def __init__(self, app: ASGIApp, fleet: Fleet, apps: dict[str, FastAPI]) -> None:
        self.app = app
        self.fleet = fleet
        self.apps = apps

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        found = SCOPED.match(scope.get("path", "")) if scope["type"] in ("http", "websocket") else None
        if found is None:
            await self.app(scope, receive, send)
            return
        kind, key = found.groups()
        of = self.fleet.of_school if kind == "schools" else self.fleet.of_district
        shard, placed = await to_thread.run_sync(of, key)
        if moving(placed) and scope.get("method") not in READS:
            await refused(DistrictMovingError(), scope, receive, send)
            return
        target = self.apps[shard.name]
        await (self.app if shard is self.fleet.first else target)(scope, receive, send)


def moving(placed: Placement | None) -> bool:
    return placed is not None and placed.moving_to is not None


async def refused(error: DistrictMovingError, scope: Scope, receive: Receive, send: Send) -> None:
    body = {"code": error.code, "message": error.text}
    response = JSONResponse(body, status_code=error.status, headers=security_headers(scope["path"]))
    await response(scope, receive, send)


def shard_metrics(fleet: Fleet) -> CollectorRegistry:
    """Every shard's projection metrics and its pools' server roles, each sample labelled with its shard."""
    registry = CollectorRegistry()
    registry.register(ShardLabelled(fleet))  # type: ignore[arg-type]
    return registry


class ShardLabelled:
    """The collectors of each shard, merged into one family per metric with a `shard` label."""

    def __init__(self, fleet: Fleet) -> None:
        self.collectors = {
            n: (ProjectionCollector(s.stack.read), ServerRoleCollector(connection_pools(s.handoff, s.stack.read)))
            for n, s in fleet.shards.items()
            if s.stack
        }

    def collect(self) -> Any:
        families: dict[str, Any] = {}
        samples: dict[str, list[Any]] = defaultdict(list)
        for name, collectors in self.collectors.items():
            for family in (found for collector in collectors for found in collector.collect()):
                families.setdefault(family.name, family)
                samples[family.name] += [s._replace(labels={**s.labels, "shard": name}) for s in family.samples]
        for name, family in families.items():
            family.samples = samples[name]
            yield family
