"""The HTTP/1.1 load generator that bench_api and bench_incidents share, and the CPU accounting they read.

A job is a list of requests pre-built as raw HTTP/1.1 text before the clock starts, sent over keep-alive
connections with raw asyncio (+ uvloop when installed): the i-th request sent is requests[i % len]. Closed
loop by default (each connection sends its next request when the answer arrives, `n` requests in all or for
`duration` seconds); with `rate`, an open loop (request i due at start + i / rate, its latency counted from
when it was due, so a slow server cannot hide its queue). Each reply is checked (`check`, see `_checker`).
Around each job it reads from `/proc` the CPU used by the server's process tree (`pid`) and by the machine's
PostgreSQL processes, and its own CPU.

It runs in its own process (`python -m bench.loadgen`, jobs as JSON on stdin, one result per job as JSON on
stdout; `drive` does that): on a machine with few cores the client must have its own core and its own
interpreter, so that its work neither slows the server nor hides in the server's figures, and so that its own
CPU per request (the client's ceiling) can be measured apart from the benchmark's bookkeeping.
"""

from __future__ import annotations

import asyncio
import importlib.util
import math
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson

ROOT = Path(__file__).resolve().parent.parent


# ----------------------------------------------------------------------------------------------- requests


def get(port: int, path: str) -> str:
    """A bodiless GET of `path` on 127.0.0.1:port."""
    return f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n"


def post(port: int, body: bytes, token: str | None = None, path: str = "/graphql") -> str:
    """A JSON POST (`body` already serialised), with a bearer token when given; latin-1 keeps the bytes."""
    auth = f"Authorization: Bearer {token}\r\n" if token else ""
    return (f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/json\r\n{auth}"
            f"Content-Length: {len(body)}\r\n\r\n") + body.decode("latin-1")


async def read_response(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    """Reads one response with a Content-Length body; returns its status and body."""
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    length = next(
        int(line.split(b":", 1)[1]) for line in head.split(b"\r\n") if line.lower().startswith(b"content-length:")
    )
    return status, await reader.readexactly(length)


# ---------------------------------------------------------------------------------------------------- CPU


def proc_cpu(pid: int | None) -> float:
    """CPU seconds (user + system) a process has used so far; 0 when unknown."""
    if pid is None:
        return 0.0
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def tree_cpu(pid: int | None) -> float:
    """CPU seconds used so far by a process and its children (the API processes under `serve --processes`)."""
    if pid is None:
        return 0.0
    total = proc_cpu(pid)
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                total += proc_cpu(int(entry.name))
    return total


def postgres_cpu() -> float:
    """CPU seconds used so far by this machine's PostgreSQL processes (server and backends)."""
    total = 0.0
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if (entry / "comm").read_text().startswith("postgres"):
                    total += proc_cpu(int(entry.name))
            except OSError:
                continue
    return total


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (0-100) by nearest rank; NaN when there are no values."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q / 100 * len(ordered)) - 1)] if ordered else float("nan")


# ----------------------------------------------------------------------------------------------- the jobs


def drive(jobs: list[dict[str, Any]], timeout: float = 900) -> list[dict[str, Any]]:
    """Runs the jobs, one after the other, in a load-generator process; returns one result per job."""
    done = subprocess.run([sys.executable, "-m", "bench.loadgen"], input=orjson.dumps(jobs),
                          capture_output=True, cwd=ROOT, timeout=timeout, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"load generator failed: {done.stderr.decode()[-2000:]}")
    return orjson.loads(done.stdout)  # type: ignore[no-any-return]


def _checker(check: str) -> Callable[[int, bytes], bool]:
    """Whether a reply succeeded. `status`: HTTP 200. `contains:<text>`: the body has the text (any status).
    `data`: 200 with GraphQL `data` and no `errors`. `payload:<mutation>.<object>`: that too, and the
    mutation's payload has no `errors` and a non-null object."""
    kind, _, arg = check.partition(":")
    if kind == "status":
        return lambda status, body: status == 200
    if kind == "contains":
        needle = arg.encode()
        return lambda status, body: needle in body
    if kind not in ("data", "payload"):
        raise ValueError(f"unknown check {check!r}")
    mutation, _, obj = arg.partition(".")

    def graphql_ok(status: int, body: bytes) -> bool:
        if status != 200:
            return False
        try:
            doc = orjson.loads(body)
        except orjson.JSONDecodeError:
            return False
        if doc.get("errors") or not doc.get("data"):
            return False
        if kind == "payload":
            payload = doc["data"][mutation]
            return not payload["errors"] and payload[obj] is not None
        return True

    return graphql_ok


async def run_job(job: dict[str, Any]) -> dict[str, Any]:
    """Sends the job's requests over `concurrency` keep-alive connections, timing each (see the module doc).

    `pid`: the server process whose tree's CPU is counted; `log`: a file whose growth is reported
    (`log_bytes`); `background`: another job run at the same time (its result is returned under that key).
    Latencies are in milliseconds; `sample` is the start of the first failed reply's body."""
    requests: list[bytes] = job["requests"]
    ok = _checker(job.get("check", "status"))
    connections = [await asyncio.open_connection("127.0.0.1", job["port"], limit=1 << 22)
                   for _ in range(job["concurrency"])]
    n = job.get("n") or 10**9
    counter = iter(range(n))
    latencies: list[float] = []
    statuses: dict[str, int] = {}
    failures = 0
    sample = ""
    rate = job.get("rate")
    log = Path(job["log"]) if job.get("log") else None
    log_before = log.stat().st_size if log else 0
    started = stop_at = 0.0  # set when the clock starts, below

    async def worker(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal failures, sample
        for i in counter:
            due = started + i / rate if rate else time.perf_counter()
            if due > stop_at or time.perf_counter() > stop_at:
                return
            if rate and due > time.perf_counter():
                await asyncio.sleep(due - time.perf_counter())
            writer.write(requests[i % len(requests)])
            await writer.drain()
            status, body = await read_response(reader)
            latencies.append((time.perf_counter() - due) * 1000)
            statuses[str(status)] = statuses.get(str(status), 0) + 1
            if not ok(status, body):
                failures += 1
                sample = sample or body[:300].decode("utf-8", "replace")

    background = asyncio.ensure_future(run_job(job["background"])) if job.get("background") else None
    # /proc is read outside the client's CPU and wall-clock windows, so its scans are not counted as load.
    server_cpu, db_cpu = tree_cpu(job.get("pid")), postgres_cpu()
    cpu, started = time.process_time(), time.perf_counter()
    stop_at = started + job["duration"] if job.get("duration") else float("inf")
    await asyncio.gather(*(worker(r, w) for r, w in connections))
    elapsed = time.perf_counter() - started
    cpu = time.process_time() - cpu
    server_cpu, db_cpu = tree_cpu(job.get("pid")) - server_cpu, postgres_cpu() - db_cpu
    for _, writer in connections:
        writer.close()
    done = len(latencies)
    out = {"name": job["name"], "n": done, "rps": done / elapsed, "latencies": latencies,
           "statuses": statuses, "failures": failures, "sample": sample, "client_us": cpu / max(done, 1) * 1e6,
           "server_ms": server_cpu / max(done, 1) * 1000, "postgres_ms": db_cpu / max(done, 1) * 1000,
           "log_bytes": (log.stat().st_size - log_before) if log else 0}
    if background is not None:
        out["background"] = await background
    return out


def main() -> None:
    """Child process: reads jobs as JSON on stdin, runs them in turn, prints the results as JSON."""
    jobs = orjson.loads(sys.stdin.buffer.read())
    for job in jobs:
        for one in (job, job.get("background")):
            if one:
                one["requests"] = [r.encode("latin-1") for r in one["requests"]]

    async def run_all() -> list[dict[str, Any]]:
        return [await run_job(job) for job in jobs]

    if importlib.util.find_spec("uvloop"):
        import uvloop

        results = uvloop.run(run_all())
    else:
        results = asyncio.run(run_all())
    sys.stdout.buffer.write(orjson.dumps(results))


if __name__ == "__main__":
    main()
