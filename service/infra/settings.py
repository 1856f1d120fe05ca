"""One validated settings object, read at start-up from HANDOFF_* environment variables."""

from __future__ import annotations

import re
from argparse import ArgumentTypeError
from pathlib import Path
from typing import Literal

from psycopg.conninfo import conninfo_to_dict
from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from replay.cosignatures import witness_key

DEVELOPMENT_SECRET = "development-only-secret-do-not-use-in-production"  # noqa: S105
SHARD_NAME = r"[A-Za-z0-9][A-Za-z0-9_-]{0,39}"
GROUP_COMMIT_RECORDER = "service.infra.group_commit:GroupCommitRecorder"
POSTGRES_FACTORY = "service.infra.postgres_factory:Factory"


class Settings(BaseSettings):
    """Configuration of a Handoff process. Every field is documented in the README."""

    model_config = SettingsConfigDict(env_prefix="HANDOFF_", extra="ignore")

    environment: Literal["development", "production"] = "development"
    database_url: str | None = Field(
        default=None,
        description="postgresql://user:password@host:port/dbname; unset means the embedded server",
    )
    persistence: Literal["postgres", "sqlite", "memory"] = "postgres"
    sqlite_path: Path = Path("var/handoff.sqlite")
    data_dir: Path = Path("var")
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    secret_key: str = DEVELOPMENT_SECRET
    default_time_zone: str = "Asia/Shanghai"
    pool_size: int = Field(default=8, ge=1, le=200)
    command_slots: int = Field(default=4, ge=1, le=1000, description="Commands running at once per API worker")
    projector_page_size: int = Field(default=500, ge=1, le=10_000)
    signing_key_file: Path | None = Field(default=None, description="Ed25519 key for checkpoints; data_dir's if unset")
    witness_url: str | None = Field(
        default=None, description="The bureau witness's submission URL (c2sp.org/tlog-witness); checkpoints go there"
    )
    witness_key: str | None = Field(
        default=None, description="The witness's vkey: its answers are checked against it, and `handoff verify` pins it"
    )
    witness_stand_in: bool = Field(
        default=False, description="Development only: a stand-in witness inside this process (./scripts/run sets it)"
    )
    checkpoint_interval: float = Field(default=60.0, ge=1.0, le=86_400.0)
    cors_origins: str = Field(default="", description="Comma-separated origins allowed to call the API; none if empty")
    notifier: Literal["console", "webhook", "off"] = Field(
        default="console", description="How messages to guardians leave: printed (development), a webhook, or not"
    )
    webhook_url: str | None = Field(default=None, description="The messaging gateway's URL, for notifier=webhook")
    webhook_secret: str | None = Field(default=None, description="Key of the X-Handoff-Signature HMAC, if set")
    group_commit: bool = Field(default=True, description="PostgreSQL: commit concurrent commands' saves together")
    state_cache_size: int = Field(default=20_000, ge=0, le=10_000_000, description="Stream states kept per process")
    shards: dict[str, str] = Field(
        default_factory=dict,
        description='Districts as shards: JSON {"name": "postgresql://…"}; unset means the one database',
    )
    district_shards: dict[str, str] = Field(
        default_factory=dict,
        description="JSON {district: shard}: where a district's first school puts it (the first shard otherwise)",
    )

    @model_validator(mode="after")
    def _refuse_default_secret_outside_development(self) -> Settings:
        if self.environment != "development" and self.secret_key == DEVELOPMENT_SECRET:
            raise ValueError("HANDOFF_SECRET_KEY must be set outside development")
        if self.environment != "development" and len(self.secret_key) < 32:
            raise ValueError("HANDOFF_SECRET_KEY must be at least 32 characters")
        if self.witness_url and not self.witness_key:
            raise ValueError("HANDOFF_WITNESS_URL needs HANDOFF_WITNESS_KEY, the witness's vkey, to check its answers")
        if self.notifier == "webhook" and not self.webhook_url:
            raise ValueError("HANDOFF_NOTIFIER=webhook needs HANDOFF_WEBHOOK_URL, the school's messaging gateway")
        if self.environment == "production" and (missing := self._development_only()):
            raise ValueError(
                "HANDOFF_ENVIRONMENT=production refuses what is only for development: " + "; ".join(missing)
            )
        return self

    def _development_only(self) -> list[str]:
        """What production must set instead of a development convenience, in the words of the variables."""
        missing = []
        if self.persistence != "postgres":
            missing.append("set HANDOFF_PERSISTENCE=postgres (memory and SQLite are for offline work)")
        elif not self.database_url:
            missing.append(
                "set HANDOFF_DATABASE_URL=postgresql://user:password@host:port/dbname, a server of your own"
                " (the embedded PostgreSQL is for development and tests)"
            )
        if self.witness_stand_in:
            missing.append(
                "unset HANDOFF_WITNESS_STAND_IN and set HANDOFF_WITNESS_URL and HANDOFF_WITNESS_KEY (the bureau's)"
            )
        if self.notifier == "console":
            missing.append(
                "set HANDOFF_NOTIFIER=webhook and HANDOFF_WEBHOOK_URL (the console notifier records messages as"
                " delivered that no guardian received), or HANDOFF_NOTIFIER=off to leave them queued"
            )
        return missing

    @model_validator(mode="after")
    def _shards_named_and_reachable(self) -> Settings:
        for name, url in self.shards.items():
            if not re.fullmatch(SHARD_NAME, name):
                raise ValueError(f"HANDOFF_SHARDS: {name!r} is not a shard name (letters, digits, - and _)")
            if not url.startswith(("postgresql://", "postgres://")):
                raise ValueError(f"HANDOFF_SHARDS: shard {name} needs a postgresql:// URL")
        if self.shards and self.persistence != "postgres":
            raise ValueError("HANDOFF_SHARDS needs HANDOFF_PERSISTENCE=postgres")
        for district, shard in self.district_shards.items():
            if shard not in self.shards:
                raise ValueError(f"HANDOFF_DISTRICT_SHARDS: {district} names {shard!r}, not in HANDOFF_SHARDS")
        return self

    @field_validator("cors_origins")
    @classmethod
    def _origins_only(cls, value: str) -> str:
        for origin in filter(None, (part.strip() for part in value.split(","))):
            if not re.fullmatch(r"https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?", origin):
                raise ValueError(f"HANDOFF_CORS_ORIGINS: {origin!r} is not an origin like https://school.example")
        return value

    @property
    def allowed_origins(self) -> list[str]:
        """The origins of HANDOFF_CORS_ORIGINS; browsers on any other origin get no CORS headers."""
        return [part.strip() for part in self.cors_origins.split(",") if part.strip()]

    @field_validator("witness_key")
    @classmethod
    def _a_witness_vkey(cls, value: str | None) -> str | None:
        if not value:
            return None
        try:
            return witness_key(value) and value
        except ArgumentTypeError as bad:
            raise ValueError(f"HANDOFF_WITNESS_KEY: {bad}") from None

    @property
    def stand_in_witness_dir(self) -> Path:
        """Where the development stand-in witness keeps its key and memory."""
        return self.data_dir / "stand-in-witness"

    @property
    def signing_key_path(self) -> Path:
        """Where the checkpoint signing key lives (created with mode 600 if missing)."""
        return self.signing_key_file or self.data_dir / "signing-key.pem"

    def persistence_env(self, database_url: str | None = None) -> dict[str, str]:
        """Turn the settings into the application's environment: eventsourcing's persistence, and the state cache."""
        return {**self._store_env(database_url), "STATE_CACHE_SIZE": str(self.state_cache_size)}

    def _store_env(self, database_url: str | None) -> dict[str, str]:
        if self.persistence == "memory":
            return {"PERSISTENCE_MODULE": "eventsourcing.popo"}
        if self.persistence == "sqlite":
            return {"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": str(self.sqlite_path)}
        url = database_url or self.database_url
        if not url:
            raise ValueError("a PostgreSQL URL is needed for postgres persistence")
        return postgres_env(url, pool_size=self.pool_size, group_commit=self.group_commit)


def postgres_env(url: str, pool_size: int = 8, *, group_commit: bool = True) -> dict[str, str]:
    """The eventsourcing POSTGRES_* variables for a postgresql:// URL (with the group-commit recorder by default).

    A URL may list several servers (`postgresql://u:p@a:5432,b:5432/db?target_session_attrs=read-write`, a Patroni
    cluster): libpq parses it, tries each in turn, and keeps the first that has the attributes asked for."""
    if not url.startswith(("postgresql://", "postgres://")):
        raise ValueError(f"not a postgresql:// URL: {url.partition('://')[0]}://…")
    parts = conninfo_to_dict(url)
    attrs = parts.get("target_session_attrs")
    return {
        "PERSISTENCE_MODULE": POSTGRES_FACTORY,
        "POSTGRES_DBNAME": str(parts.get("dbname") or "postgres"),
        "POSTGRES_HOST": str(parts.get("host") or "127.0.0.1"),
        "POSTGRES_PORT": str(parts.get("port") or 5432),
        "POSTGRES_USER": str(parts.get("user") or "postgres"),
        "POSTGRES_PASSWORD": str(parts.get("password") or ""),
        "POSTGRES_POOL_SIZE": str(pool_size),
        "POSTGRES_MAX_OVERFLOW": str(pool_size),
        "POSTGRES_CONNECT_TIMEOUT": "10",
        "POSTGRES_LOCK_TIMEOUT": "5",
        "POSTGRES_PRE_PING": "y",
        "CREATE_TABLE": "y",
        **({"APPLICATION_RECORDER_TOPIC": GROUP_COMMIT_RECORDER} if group_commit else {}),
        **({"POSTGRES_TARGET_SESSION_ATTRS": str(attrs)} if attrs else {}),
    }
