"""Bad configuration stops start-up with one clear line; the CLI commands do what they say."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from api.config import DEFAULT_SECRET, ConfigError, load_settings

ROOT = Path(__file__).resolve().parents[2]


def run_cli(*args: str, env: dict[str, str] | None = None, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """Runs `smartcity` as a user would, in a clean environment."""
    base = {k: v for k, v in os.environ.items() if not k.startswith("SMARTCITY_")}
    base.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "api.cli", *args], capture_output=True, text=True, env=base,
        cwd=cwd or ROOT, timeout=120,
    )


def test_unknown_setting_is_refused_by_name(monkeypatch: pytest.MonkeyPatch) -> None:
    # given
    monkeypatch.setenv("SMARTCITY_DATABSE_URL", "sqlite:///x.db")
    # when / then
    with pytest.raises(ConfigError, match="unknown setting SMARTCITY_DATABSE_URL"):
        load_settings()


def test_production_refuses_the_default_secret() -> None:
    with pytest.raises(ConfigError, match="SMARTCITY_SECRET_KEY is the public development default"):
        load_settings(environment="production")


def test_production_refuses_graphiql_and_anonymous_introspection() -> None:
    secret = "s" * 40
    with pytest.raises(ConfigError, match="GRAPHIQL must be off"):
        load_settings(environment="production", secret_key=secret, graphiql=True)
    with pytest.raises(ConfigError, match="ANONYMOUS_INTROSPECTION must be off"):
        load_settings(environment="production", secret_key=secret, anonymous_introspection=True)
    settings = load_settings(environment="production", secret_key=secret)
    assert not settings.graphiql_enabled and not settings.introspection_for_anonymous


def test_an_invalid_value_names_the_setting() -> None:
    with pytest.raises(ConfigError, match="invalid setting SMARTCITY_PORT"):
        load_settings(port=70000)


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"SMARTCITY_DATABASE_URL": "postgresql://nobody@127.0.0.1:1/none"}, "cannot reach the database at"),
        ({"SMARTCITY_COLOUR": "blue"}, "unknown setting SMARTCITY_COLOUR"),
        ({"SMARTCITY_ENVIRONMENT": "production"}, "SMARTCITY_SECRET_KEY is the public development default"),
        ({"SMARTCITY_DATABASE_URL": "mysql://x@127.0.0.1/db"}, "unsupported database"),
    ],
)
def test_bad_configuration_stops_serve_with_one_line_not_a_traceback(env: dict[str, str], expected: str) -> None:
    # when
    result = run_cli("serve", "--port", "0", env=env)
    # then
    assert result.returncode == 2
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("smartcity: configuration error: ")
    assert expected in lines[0]
    assert "Traceback" not in result.stderr


def test_db_upgrade_creates_the_schema_and_loads_reference_data(tmp_path: Path) -> None:
    # when
    url = f"sqlite:///{tmp_path / 'fresh.db'}"
    result = run_cli("db", "upgrade", env={"SMARTCITY_DATABASE_URL": url, "SMARTCITY_LOG_JSON": "false"})
    # then
    assert result.returncode == 0, result.stderr
    assert "database upgraded to head" in result.stdout
    import sqlite3

    with sqlite3.connect(tmp_path / "fresh.db") as conn:
        count = conn.execute("select count(*) from administrative_unit").fetchone()[0]
    assert count >= 20


def test_default_secret_constant_is_long_enough_for_development() -> None:
    assert len(DEFAULT_SECRET) >= 32
    assert load_settings().secret_key == DEFAULT_SECRET


def test_the_first_admin_is_created_from_the_command_line(tmp_path: Path) -> None:
    # given
    env = {"SMARTCITY_DATABASE_URL": f"sqlite:///{tmp_path / 'admin.db'}", "SMARTCITY_LOG_JSON": "false"}
    assert run_cli("db", "upgrade", env=env).returncode == 0
    # when
    weak = run_cli("users", "create-admin", "--phone", "0901234567", "--full-name", "Quản Trị", "--password", "short",
                   env=env)
    created = run_cli("users", "create-admin", "--phone", "0901234567", "--full-name", "Quản Trị",
                      "--password", "a long admin passphrase", env=env)
    # then
    assert weak.returncode == 1 and "password" in weak.stderr
    assert created.returncode == 0, created.stderr
    assert "sign in with +84901234567" in created.stdout
    import sqlite3

    with sqlite3.connect(tmp_path / "admin.db") as conn:
        assert conn.execute("select role from role_grant").fetchall() == [("admin",)]


def test_several_api_processes_need_redis_and_an_out_of_process_worker() -> None:
    with pytest.raises(ConfigError, match="SMARTCITY_API_PROCESSES > 1 needs SMARTCITY_REDIS_URL"):
        load_settings(api_processes=2)
    with pytest.raises(ConfigError, match="WORKER_IN_PROCESS runs with one API process"):
        load_settings(api_processes=2, redis_url="redis://127.0.0.1:6379/0", worker_in_process=True)
    assert load_settings(api_processes=2, redis_url="redis://127.0.0.1:6379/0").api_processes == 2


def test_a_server_process_collects_garbage_less_often_after_start_up() -> None:
    # in a child: freezing is process-wide and would pin this test run's objects
    code = ("import gc; from api.core.runtime import tune_gc, GC_THRESHOLDS; tune_gc(); "
            "assert gc.get_threshold() == GC_THRESHOLDS and gc.get_freeze_count() > 1000; print('ok')")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert done.stdout.strip() == "ok", done.stderr
