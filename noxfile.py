"""Sessions: tests, lint, typecheck, demo, export-schema, bench. Versions pinned in constraints.txt."""

from __future__ import annotations

import nox

nox.options.default_venv_backend = "uv|virtualenv"
nox.options.sessions = ["tests", "lint"]
nox.options.reuse_existing_virtualenvs = True

PYTHON = "3.11"
EXTRAS = "camera,mqtt,mobile,dev"  # mobile: the Kivy app is tested headless too


def install(session: nox.Session, extras: str = EXTRAS) -> None:
    """Installs the project with pinned dependencies."""
    session.install("-c", "constraints.txt", "-e", f".[{extras}]")


@nox.session(python=PYTHON)
def tests(session: nox.Session) -> None:
    """Runs the test suite: every database test on SQLite and again on PostgreSQL (required in CI)."""
    install(session)
    if session.posargs:
        session.run("pytest", "-q", *session.posargs)
        return
    session.run("pytest", "-q", "--ignore=tests/ops")
    # The console's browser tests time what a dispatcher sees (a report in the queue within a second): they
    # run in a fresh process, not after 500 tests' threads and heap in the same interpreter.
    session.run("pytest", "-q", "tests/ops")


@nox.session(python=PYTHON)
def lint(session: nox.Session) -> None:
    """Checks style and common bugs with ruff."""
    session.install("-c", "constraints.txt", "ruff")
    session.run("ruff", "check", "api", "workers", "tests", "bench", "mobile_common", "mobile_safecity", "noxfile.py")


@nox.session(python=PYTHON)
def typecheck(session: nox.Session) -> None:
    """Type-checks the API package with mypy."""
    install(session)
    session.run("mypy", "api")


@nox.session(python=PYTHON)
def demo(session: nox.Session) -> None:
    """Starts the whole platform on embedded defaults (SQLite, in-process bus and workers) with demo data."""
    install(session)
    session.run("smartcity", "demo", *session.posargs, external=False)


@nox.session(name="export-schema", python=PYTHON)
def export_schema(session: nox.Session) -> None:
    """Writes schema.graphql from the code."""
    install(session)
    session.run("smartcity", "export-schema", "--output", "schema.graphql")


@nox.session(python=PYTHON)
def bench(session: nox.Session) -> None:
    """Runs the benchmarks under bench/ and writes docs/benchmarks.md (`nox -s bench -- camera --quick`)."""
    install(session)
    session.run("python", "-m", "bench.run", *session.posargs)


@nox.session(python=PYTHON)
def app(session: nox.Session) -> None:
    """Runs the Safe City app in a phone-sized desktop window against the demo server (`nox -s demo` first)."""
    install(session, "mobile")
    env = {"SMARTCITY_APP_SERVER": session.env.get("SMARTCITY_APP_SERVER", "http://127.0.0.1:8000")}
    session.run("python", "-m", "mobile_safecity", *session.posargs, env=env)
