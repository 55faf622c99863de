"""`smartcity`: serve, db upgrade, demo, worker, export-schema, and domain tools."""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path
from typing import Any

import click

from api.config import ConfigError, Settings, get_settings

log = logging.getLogger("smartcity")


def _settings() -> Settings:
    settings = get_settings()
    from api.core.logging import configure_logging

    configure_logging(settings.log_level, settings.log_json)
    return settings


@click.group()
def cli() -> None:
    """The Phu Quoc smart-city platform."""


@cli.command()
@click.option("--host", default=None, help="address to bind (default: SMARTCITY_HOST)")
@click.option("--port", default=None, type=int, help="port (default: SMARTCITY_PORT)")
@click.option("--processes", default=None, type=click.IntRange(1, 64),
              help="processes sharing the port, one per core (default: SMARTCITY_API_PROCESSES); >1 needs Redis")
def serve(host: str | None, port: int | None, processes: int | None) -> None:
    """Serves the GraphQL API, /healthz and /metrics."""
    if processes is not None:
        # Through the environment, so the spawned processes (which read settings afresh) agree.
        os.environ["SMARTCITY_API_PROCESSES"] = str(processes)
    settings = _settings()
    _serve(settings, host, port)


def _serve(settings: Settings, host: str | None, port: int | None) -> None:
    import uvicorn

    from api.app import build_state, create_app
    from api.db import check_database

    state = build_state(settings)
    check_database(state.db.engine)
    _check_redis(settings)
    options: dict[str, Any] = {
        "host": host or settings.host, "port": port or settings.port, "log_config": None,
        "ws": "websockets-sansio", "proxy_headers": True, "server_header": False, "timeout_graceful_shutdown": 10,
    }
    if settings.api_processes == 1:
        uvicorn.run(create_app(settings, state=state), **options)
        return
    # The API keeps no state of its own between requests (sessions, budgets' source of truth and the
    # outbox are in the database, live events on Redis), so processes behind one port scale it by cores.
    from api.serve import serve_processes

    state.db.dispose()
    sys.exit(serve_processes(settings.api_processes, options.pop("host"), options.pop("port"), options))


def _check_redis(settings: Settings) -> None:
    if not settings.redis_url:
        return
    import redis

    try:
        redis.Redis.from_url(settings.redis_url, socket_connect_timeout=3).ping()
    except redis.RedisError as exc:
        raise ConfigError(f"cannot reach Redis at {settings.redis_url}: {exc}") from None


@cli.group()
def db() -> None:
    """Database schema and reference data."""


@db.command("upgrade")
@click.option("--revision", default="head", show_default=True)
def db_upgrade(revision: str) -> None:
    """Applies migrations, then loads reference data (administrative units, categories)."""
    settings = _settings()
    upgrade_and_load_reference(settings, revision)
    click.echo(f"database upgraded to {revision}")


@db.command("downgrade")
@click.option("--revision", required=True, help="target revision, or 'base' for an empty database")
def db_downgrade(revision: str) -> None:
    """Reverts migrations down to a revision."""
    from api import migrate
    from api.db import Database, check_database

    settings = _settings()
    database = Database.from_settings(settings)
    check_database(database.engine)
    migrate.downgrade(database.engine, revision)
    click.echo(f"database downgraded to {revision}")


def upgrade_and_load_reference(settings: Settings, revision: str = "head") -> None:
    """Migrates and loads the reference data every deployment needs."""
    from api import migrate
    from api.db import Database, check_database
    from api.schema import DOMAINS

    database = Database.from_settings(settings)
    check_database(database.engine)
    migrate.upgrade(database.engine, revision)
    if revision == "head":
        with database.transaction() as session:
            for domain in DOMAINS:
                reference = domain.extra.get("reference")
                if reference is not None:
                    reference(session, settings)
    database.dispose()


@cli.command()
@click.option("--host", default=None)
@click.option("--port", default=None, type=int)
def demo(host: str | None, port: int | None) -> None:
    """Migrates, seeds demo data, and serves the API with the workers in the same process."""
    os.environ.setdefault("SMARTCITY_WORKER_IN_PROCESS", "true")
    os.environ.setdefault("SMARTCITY_LOG_JSON", "false")  # a person reads the demo's terminal
    get_settings.cache_clear()
    settings = _settings()
    upgrade_and_load_reference(settings)
    from api.demo import seed_demo

    summary = seed_demo(settings)
    url = f"http://{host or settings.host}:{port or settings.port}"
    click.echo(f"\nSmart-city demo on {url}/graphql (GraphiQL in the browser), health at {url}/healthz")
    for line in summary:
        click.echo(line)
    _serve(settings, host, port)


@cli.command()
@click.option("--processes", default=None, type=int,
              help="worker processes under one supervisor, one per core (default: SMARTCITY_WORKER_PROCESSES, 1);"
                   " each runs every job (exclusive ones under a database lease, push drains in parallel);"
                   " with SMARTCITY_WORKER_METRICS_PORT=P, process i serves metrics on port P+i")
@click.option("--child", default=None, type=int, hidden=True, help="set by the supervisor: this child's index")
def worker(processes: int | None, child: int | None) -> None:
    """Runs the scheduled background jobs (push, deadlines, cameras)."""
    if processes is not None:
        if processes < 1:
            raise ConfigError(f"--processes must be at least 1 (got {processes})")
        # Through the environment, so the checks of SMARTCITY_WORKER_PROCESSES apply to the flag too.
        os.environ["SMARTCITY_WORKER_PROCESSES"] = str(processes)
    settings = _settings()
    if child is None and settings.worker_processes > 1:
        from workers.supervisor import supervise

        sys.exit(supervise(settings))
    from workers.runner import run_forever

    run_forever(settings, child=child)


@cli.group()
def users() -> None:
    """Accounts."""


@users.command("create-admin")
@click.option("--phone", required=True, help="Vietnamese mobile number; the admin signs in with it")
@click.option("--full-name", required=True)
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True,
              help="at least 10 characters (prompted when omitted)")
def create_admin(phone: str, full_name: str, password: str) -> None:
    """Creates the first admin account (admins create every other staff account through the API)."""
    from api.core.auth import Principal, Role
    from api.core.errors import DomainError
    from api.db import Database, check_database
    from api.identity import flows

    settings = _settings()
    database = Database.from_settings(settings)
    check_database(database.engine)
    try:
        with database.transaction() as session:
            account = flows.create_staff_account(
                db_session=session, actor=Principal(roles=frozenset({Role.ADMIN}), display="cli"),
                full_name=full_name, phone=phone, password=password, roles_to_grant=[flows.StaffRole("admin")],
            )
    except DomainError as exc:
        for error in exc.errors:
            click.echo(f"{error.field}: {error.message}", err=True)
        sys.exit(1)
    click.echo(f"admin account {account.id} created; sign in with {account.phone}")


@cli.group()
def camera() -> None:
    """Camera analytics: replay a file through a camera config, run the camera workers."""


@camera.command("replay")
@click.option("--camera", "camera_config", required=True,
              help="camera config (JSON/YAML), or 'auto' for synthetic scenes")
@click.option("--source", required=True, help="video file, stream URL or synthetic:<scene>[?variant=..]")
@click.option("--evidence-dir", default=None, help="write snapshots, crops and clips here")
@click.option("--only-new", is_flag=True, help="print only the opening of each event")
def camera_replay(camera_config: str, source: str, evidence_dir: str | None, only_new: bool) -> None:
    """Analyses a file or synthetic scene and prints the events as JSON lines (for tuning zones)."""
    from workers.camera.replay import main as replay_main

    argv = ["--camera", camera_config, "--source", source]
    if evidence_dir:
        argv += ["--evidence-dir", evidence_dir]
    if only_new:
        argv.append("--only-new")
    code = replay_main(argv)
    if code:
        sys.exit(code)


@camera.command("run")
@click.option("--shard", default=0, show_default=True, type=int, help="this worker's index, 0..shards-1")
@click.option("--shards", default=None, type=int, help="number of camera workers (default: SMARTCITY_CAMERA_SHARDS)")
def camera_run(shard: int, shards: int | None) -> None:
    """Analyses the enabled cameras of one shard (camera id modulo shards) until SIGTERM."""
    settings = _settings()
    count = shards or settings.camera_shards
    if not 0 <= shard < count:
        raise click.BadParameter(f"must be between 0 and {count - 1}", param_hint="--shard")
    from workers.camera.runner import run_forever as run_cameras

    run_cameras(settings, shard=shard, shards=count)


@cli.command("export-schema")
@click.option("--output", "-o", default="schema.graphql", show_default=True, type=click.Path(path_type=Path))
def export_schema(output: Path) -> None:
    """Writes the SDL of the public schema."""
    from api.schema import build_schema

    sdl = build_schema(get_settings()).as_str() + "\n"
    output.write_text(sdl, encoding="utf-8")
    click.echo(f"wrote {output} ({len(sdl.splitlines())} lines)")


def main() -> None:
    """Entry point: configuration problems are one line on stderr and exit status 2."""
    try:
        cli.main(standalone_mode=False)
    except ConfigError as exc:
        click.echo(f"smartcity: configuration error: {exc}", err=True)
        sys.exit(2)
    except click.exceptions.Abort:
        sys.exit(1)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        sys.exit(130)


if __name__ == "__main__":
    main()
