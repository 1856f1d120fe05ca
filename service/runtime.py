"""Wiring: settings → database → application. The only place that decides which persistence is used."""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from projections.registry import READ_MODELS
from projections.supervisor import Supervisor
from replay.notes import raw_public_key
from service.application.handoff import Handoff, utc_now
from service.infra.directory import Directory
from service.infra.event_log import event_log
from service.infra.key_store import PostgresKeyStore
from service.infra.pools import Connect
from service.infra.settings import Settings
from service.infra.signing_keys import KeyHistory, load_keys
from service.processes.checkpoints import Checkpointer, CheckpointFollower, tree_salt_key
from service.processes.live import ViewWatcher
from service.processes.notifier import Notifier, adapter_from
from service.processes.policies import PolicyFollower
from service.processes.witness_client import StandInWitness, WitnessClient
from service.reads.index import ViewIndex
from service.reads.readside import ReadSide

log = logging.getLogger("handoff")

EMBEDDED_DATABASE = "handoff"


@contextmanager
def database_url(settings: Settings) -> Iterator[str | None]:
    """The PostgreSQL URL to use: HANDOFF_DATABASE_URL, else an embedded server with its data under data_dir.

    The embedded server is stopped on exit if this process started it."""
    if settings.persistence != "postgres":
        yield None
        return
    if settings.database_url:
        yield settings.database_url
        return
    from service.infra.embedded_postgres import EmbeddedPostgres, create_database

    settings.data_dir.mkdir(parents=True, exist_ok=True)
    with terminated_like_interrupted(), EmbeddedPostgres(settings.data_dir / "pgdata") as server:
        yield create_database(server.url, EMBEDDED_DATABASE)


@contextmanager
def terminated_like_interrupted() -> Iterator[None]:
    """SIGTERM unwinds the command as Ctrl-C does, so that the embedded server it started is stopped.

    By default SIGTERM ends the process where it stands; uvicorn also raises it again once it has shut down."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGTERM, _exit_on_signal)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _exit_on_signal(signum: int, _frame: object) -> None:
    raise SystemExit(128 + signum)


@contextmanager
def opened(
    settings: Settings, school: str | None = None, district: str | None = None, shard: str | None = None
) -> Iterator[tuple[Handoff, str | None]]:
    """The application on the configured database (embedded if none is set), closed when done; with shards, on the
    shard named, or of the school (placed in `district` if new) or of the district, else on the first shard."""
    with database_url(settings) as directory_url:
        url = settings.shards[shard] if shard else shard_url(settings, directory_url, school, district)
        if settings.shards and directory_url and url:
            share_salt_key(directory_url, [url])
        handoff = build_handoff(settings, url)
        try:
            yield handoff, url
        finally:
            handoff.close()


def share_salt_key(directory_url: str, shard_urls: list[str]) -> None:
    """Give every shard the deployment's one tree salt key, kept in the directory's database (adopted from the first
    shard that has one, for a deployment that had one database before it had shards). Leaves are salted with it
    (replay/leaves.py), so a school moved to another shard keeps the same tree, and the witness sees no fork."""
    found = [tree_salt_key(url, make=False) for url in shard_urls]
    key = tree_salt_key(directory_url, adopt=next((k for k in found if k is not None), None))
    for url, kept in zip(shard_urls, found, strict=True):
        if (tree_salt_key(url, adopt=key) if kept is None else kept) != key:
            raise ValueError(
                "a shard keeps a tree salt key other than the deployment's (its trees were begun apart): a school moved"
                " to or from it would change its tree. Give it the key of the directory's tree_salt_key table before"
                " its first checkpoint, or start it from an empty database."
            )


def shard_url(settings: Settings, url: str | None, school: str | None, district: str | None) -> str | None:
    """The database of the shard that holds the school or district (the one database when there are no shards)."""
    if not settings.shards or url is None:
        return url
    directory = Directory(url, next(iter(settings.shards)))
    try:
        found = directory.school(school) if school else None
        if found is None and school and district:
            found = directory.place(school, district, settings.district_shards.get(district))
        found = found or (directory.district(district) if district else None)
    finally:
        directory.close()
    return settings.shards[found.shard if found else directory.default_shard]


def build_handoff(settings: Settings, url: str | None, clock: Callable[[], datetime] = utc_now) -> Handoff:
    """The application on the configured persistence; children's keys live beside it in PostgreSQL."""
    keys = PostgresKeyStore(url, settings.secret_key.encode()) if url else None
    return Handoff(settings.persistence_env(url), secret_key=settings.secret_key, keys=keys, clock=clock)


def connection_pools(handoff: Handoff, read: ReadSide | None) -> dict[str, Connect]:
    """The process's PostgreSQL pools, by name: the event store's, the views' and the children's keys'."""
    pools: dict[str, Connect] = {}
    datastore = getattr(handoff.recorder, "datastore", None)  # none with memory or SQLite persistence
    if datastore is not None:
        pools["events"] = datastore.get_connection
    if read is not None:
        pools["views"] = read.pool.connection
    if isinstance(handoff.personal.keys, PostgresKeyStore):
        pools["keys"] = handoff.personal.keys.pool.connection
    return pools


def projector_supervisor(handoff: Handoff, url: str, page_size: int = 500) -> Supervisor:
    """The supervised projectors of every read model (one live runner per model across all processes)."""
    channel = getattr(handoff.recorder, "channel_name", "handoff_events")
    return Supervisor(list(READ_MODELS.values()), url, event_log(handoff), channel, page_size)


def projector_process(handoff: Handoff, url: str, settings: Settings) -> tuple[list[Any], ReadSide]:
    """What `handoff project` runs (not started yet): the projectors, checkpoints, policies and notifier, and the
    read side they share, whose views answer the application's index (the sweep's schools, a day's incidents)."""
    read = views_index(handoff, url)
    supervisor = projector_supervisor(handoff, url, settings.projector_page_size)
    followers: list[Any] = [supervisor, checkpoint_follower(handoff, url, settings), PolicyFollower(handoff, url)]
    adapter = adapter_from(settings.notifier, settings.webhook_url, settings.webhook_secret)
    if adapter:
        followers.append(Notifier(handoff, read, adapter, url))
    return followers, read


def checkpoint_follower(handoff: Handoff, url: str, settings: Settings) -> CheckpointFollower:
    """Signs every school's tree head every `checkpoint_interval` seconds with the key in `signing_key_path`."""
    checkpointer = Checkpointer(url, event_log(handoff), signing_key(settings), handoff.clock, witness_client(settings))
    return CheckpointFollower(checkpointer, settings.checkpoint_interval)


def witness_client(settings: Settings) -> WitnessClient | None:
    """The bureau's witness that every new checkpoint is submitted to, if one is configured; else the development
    stand-in, if asked for (HANDOFF_WITNESS_STAND_IN)."""
    if settings.witness_url and settings.witness_key:
        return WitnessClient(settings.witness_url, settings.witness_key)
    if settings.witness_stand_in:
        return StandInWitness.kept_in(settings.stand_in_witness_dir, raw_public_key(signing_key(settings)))
    return None


def signing_key(settings: Settings) -> Ed25519PrivateKey:
    """The checkpoint signing key, created (mode 600) on first use; a lost one is refused (SigningKeyLostError)."""
    return signing_keys(settings)[0]


def signing_keys(settings: Settings) -> tuple[Ed25519PrivateKey, KeyHistory]:
    """The current signing key and the history of the keys before it."""
    settings.signing_key_path.parent.mkdir(parents=True, exist_ok=True)
    return load_keys(settings.signing_key_path)


@dataclass
class ReadStack:
    """What the API needs to serve the views: the read side, the watcher, and maybe the projectors themselves."""

    read: ReadSide
    watcher: ViewWatcher
    supervisor: Supervisor | None
    checkpoints: CheckpointFollower | None = None
    policies: PolicyFollower | None = None
    notifier: Notifier | None = None

    def close(self) -> None:
        for follower in (self.notifier, self.policies, self.checkpoints):
            if follower:
                follower.close()
        if self.supervisor:
            self.supervisor.close()
        self.watcher.close()
        self.read.close()


def views_index(handoff: Handoff, url: str) -> ReadSide:
    """The views' read side, which from now on answers the application's index: no scan of the whole log for the
    day's incidents, the schools or a roster, however long the log grows."""
    read = ReadSide(url, event_log(handoff), handoff.clock)
    handoff.index = ViewIndex(read)
    return read


def read_stack(handoff: Handoff, url: str | None, settings: Settings, with_projector: bool) -> ReadStack | None:
    """Views need PostgreSQL; without it (memory or SQLite persistence) the API serves commands only.

    With the projector, this process also runs the projections, the checkpoint follower, the policies and the
    notifier (unless `notifier` is off)."""
    if url is None:
        return None
    read = views_index(handoff, url)  # before the policies start: their first sweep asks for the schools
    supervisor = projector_supervisor(handoff, url, settings.projector_page_size) if with_projector else None
    follower = checkpoint_follower(handoff, url, settings) if with_projector else None
    policies = PolicyFollower(handoff, url) if with_projector else None
    for worker in (supervisor, follower, policies):
        if worker:
            worker.start()
    watcher = ViewWatcher(url)
    watcher.start()
    adapter = adapter_from(settings.notifier, settings.webhook_url, settings.webhook_secret)
    notifier = Notifier(handoff, read, adapter, url) if with_projector and adapter else None
    if notifier:
        notifier.start()
    return ReadStack(read, watcher, supervisor, follower, policies, notifier)
