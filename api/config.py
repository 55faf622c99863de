"""Typed settings for every process; read through get_settings(), never at import time."""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, ValidationError, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

ENV_PREFIX = "SMARTCITY_"
# The development secret is public (it is in this file): production must refuse it.
DEFAULT_SECRET = "dev-only-insecure-secret-change-me-0000000000000000"


class ConfigError(Exception):
    """Configuration that the service cannot start with; its message is one line for the operator."""


class Settings(BaseSettings):
    """All configuration of the platform, from SMARTCITY_* environment variables or a .env file."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX, env_file=".env", env_file_encoding="utf-8", extra="forbid"
    )

    environment: Literal["development", "test", "production"] = Field(
        "development", description="development: GraphiQL and introspection on; production: hardened"
    )
    database_url: str = Field(
        "sqlite:///./var/smartcity.db",
        description="SQLAlchemy URL; PostgreSQL as postgresql+psycopg://user@host:5432/db",
    )
    redis_url: str | None = Field(None, description="Redis for the event bus across API processes")
    secret_key: str = Field(DEFAULT_SECRET, min_length=32, description="signs access tokens")
    host: str = Field("127.0.0.1", description="address `smartcity serve` binds")
    port: int = Field(8000, ge=1, le=65535)
    api_processes: int = Field(
        1, ge=1, le=64, description="`smartcity serve` processes sharing the port (one per core); >1 needs redis_url"
    )
    public_url: str = Field("http://127.0.0.1:8000", description="how clients reach this service")
    graphiql: bool | None = Field(None, description="serve GraphiQL at /graphql; default: development only")
    anonymous_introspection: bool | None = Field(
        None, description="let anonymous callers introspect; default: development only"
    )
    allowed_origins: list[str] = Field(default_factory=list, description="browser origins allowed")
    max_query_depth: int = Field(10, ge=2, le=50)
    max_query_tokens: int = Field(2000, ge=100, le=100_000)
    max_query_aliases: int = Field(15, ge=1, le=1000)
    max_query_cost: int = Field(5000, ge=10, le=1_000_000)
    result_cache_seconds: float = Field(
        2.0, ge=0, le=300, description="longest a cached read-query answer lives (it dies at once when its data "
        "changes); 0 turns the cache off"
    )
    session_check_cache_seconds: float = Field(
        5.0, ge=0, le=60, description="longest an API process trusts that a sign-in session it read is still "
        "live (a sign-out or revocation ends it at once, through the bus); 0 reads the session on every request"
    )
    gc_tuning: bool = Field(True, description="freeze start-up objects and collect garbage less often (api/core/runtime.py)")
    result_cache_entries: int = Field(256, ge=0, le=100_000, description="answers kept per API process")
    max_body_bytes: int = Field(1024 * 1024, ge=1024, description="GraphQL request body cap")
    max_upload_bytes: int = Field(10 * 1024 * 1024, ge=1024, description="one uploaded file's cap")
    request_timeout_seconds: float = Field(30.0, gt=0)
    statement_timeout_ms: int = Field(15_000, ge=100, description="PostgreSQL statement_timeout")
    media_dir: Path = Field(Path("./var/media"), description="content-addressed photos and evidence")
    log_level: str = Field("INFO")
    log_json: bool = Field(True, description="one JSON object per log line")
    access_token_ttl_seconds: int = Field(900, ge=60, le=3600)
    refresh_token_ttl_days: int = Field(30, ge=1, le=365)
    default_cost_budget: int = Field(20_000, ge=100, description="query-cost points a caller may hold")
    cost_refill_per_second: float = Field(200.0, gt=0, description="budget points restored per second")
    fcm_credentials_file: Path | None = Field(None, description="service-account JSON; unset: log sender")
    mqtt_url: str | None = Field(None, description="mqtt://host:port for station readings")
    worker_in_process: bool = Field(False, description="run the scheduler inside `serve` (the demo)")
    # cameras
    camera_shards: int = Field(1, ge=1, le=64, description="camera worker processes (`camera run --shards`)")
    camera_reload_seconds: float = Field(30.0, ge=1.0, le=3600.0, description="how often workers re-read cameras")
    camera_demo_streams: bool = Field(True, description="with worker_in_process, run the synthetic demo cameras")
    # push
    fcm_url: str | None = Field(
        None, description="send to this FCM base URL instead of Google's (a local fake in tests and the demo)"
    )
    push_max_attempts: int = Field(8, ge=1, le=100, description="send attempts before a message is FAILED")
    push_lease_seconds: float = Field(
        60.0, gt=0, le=3600, description="how long a claimed batch is held before another sender may take it"
    )
    push_batch_size: int = Field(500, ge=1, le=500, description="outbox rows claimed and sent per batch")
    push_drain_run_seconds: float = Field(
        10.0, gt=0, le=600, description="a drain run returns after this long and the next starts at once"
    )
    push_sent_retention_days: int = Field(30, ge=1, le=3650, description="SENT outbox rows are deleted after")
    push_failed_retention_days: int = Field(90, ge=1, le=3650, description="FAILED outbox rows are deleted after")
    worker_processes: int = Field(
        1, ge=1, le=64, description="`smartcity worker` processes under one supervisor (one per core)"
    )
    worker_metrics_port: int | None = Field(
        None, ge=1, le=65535,
        description="`smartcity worker` serves Prometheus metrics on 127.0.0.1:<port> (process i of N: port+i)",
    )
    # incidents
    incident_deadlines_minutes: dict[str, list[int]] = Field(
        default_factory=lambda: {
            "P1": [2, 5, 15, 120], "P2": [10, 20, 45, 480], "P3": [60, 240, 480, 4320],
            "P4": [480, 1440, 2880, 10080],
        },
        description="per priority: minutes from report to acknowledge, dispatch, arrive, resolve",
    )
    incident_duplicate_radius_m: float = Field(250.0, ge=0, le=5000, description="attach reports this close")
    incident_duplicate_window_seconds: int = Field(1800, ge=0, le=86_400, description="... and this recent")
    incident_unit_stale_seconds: int = Field(1800, ge=60, description="ignore unit locations older than this")
    incident_reopen_window_hours: int = Field(168, ge=1, le=24 * 90, description="reporter may reopen this long")
    incident_max_photos: int = Field(5, ge=0, le=20, description="photos per report")
    incident_max_photo_pixels: int = Field(40_000_000, ge=1_000_000, description="refuse larger images (bombs)")
    incident_default_unit_code: str = Field("31078", max_length=32, description="area of app reports")
    incident_escalation_seconds: float = Field(30.0, ge=1, description="how often overdue incidents escalate")
    # ops
    ops_tile_url: str | None = Field(
        None, max_length=500,
        description="map tiles for the /ops console, e.g. http://tiles.local/{z}/{x}/{y}.png; unset: offline outline",
    )

    @model_validator(mode="after")
    def _production_is_hardened(self) -> Settings:
        if self.environment == "production":
            if self.secret_key == DEFAULT_SECRET:
                raise ValueError("SMARTCITY_SECRET_KEY is the public development default; set a secret")
            if self.graphiql:
                raise ValueError("SMARTCITY_GRAPHIQL must be off in production")
            if self.anonymous_introspection:
                raise ValueError("SMARTCITY_ANONYMOUS_INTROSPECTION must be off in production")
        if self.api_processes > 1:
            # Live events published by one process must reach subscribers held by the others.
            if not self.redis_url:
                raise ValueError("SMARTCITY_API_PROCESSES > 1 needs SMARTCITY_REDIS_URL (the event bus between them)")
            if self.worker_in_process:
                raise ValueError("SMARTCITY_WORKER_IN_PROCESS runs with one API process; run `smartcity worker`")
        return self

    @property
    def graphiql_enabled(self) -> bool:
        """Whether GraphiQL is served."""
        return self.environment == "development" if self.graphiql is None else self.graphiql

    @property
    def introspection_for_anonymous(self) -> bool:
        """Whether anonymous callers may introspect the schema."""
        if self.anonymous_introspection is None:
            return self.environment != "production"
        return self.anonymous_introspection

    @property
    def is_sqlite(self) -> bool:
        """Whether the database is the embedded SQLite file."""
        return self.database_url.startswith("sqlite")


def load_settings(**overrides: object) -> Settings:
    """Builds Settings, turning every problem into one ConfigError line."""
    known = {ENV_PREFIX + name.upper() for name in Settings.model_fields}
    unknown = sorted(k for k in os.environ if k.startswith(ENV_PREFIX) and k not in known)
    if unknown:
        raise ConfigError(f"unknown setting {unknown[0]} (known: see README, 'Configuration')")
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        first = exc.errors()[0]
        loc = ".".join(str(p) for p in first["loc"])
        name = f"{ENV_PREFIX}{loc.upper()}: " if loc else ""
        raise ConfigError(f"invalid setting {name}{first['msg']}".replace("Value error, ", "")) from None


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process's settings, loaded once on first use."""
    return load_settings()
