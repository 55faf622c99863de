"""`smartcity worker --processes N` as a real process: N children share the outbox, each push sent once;
SIGTERM stops them all cleanly; a killed child is restarted; children dying at start make it give up."""

from __future__ import annotations

import os
import random
import re
import signal
import socket
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from api.db import Database
from api.notifications.models import OutboxMessage
from tests.factories import make_person
from tests.notifications.factories import outbox_states, queue_to_tokens
from tests.workers.processes import ROOT, wait_until

ON_POSTGRES = pytest.mark.parametrize("backend", ["postgres"], indirect=True)
STARTED = re.compile(r"worker process (\d+) started \(pid (\d+)\)")


def _log(worker: subprocess.Popen[bytes]) -> str:
    return Path(worker.log_path).read_text(errors="replace")  # type: ignore[attr-defined]


def _children(worker: subprocess.Popen[bytes]) -> dict[int, int]:
    """Child index -> pid of the latest start the supervisor logged."""
    return {int(index): int(pid) for index, pid in STARTED.findall(_log(worker))}


def _all_ready(worker: subprocess.Popen[bytes], count: int) -> bool:
    """Every current child has its scheduler running (it logs `worker process i (pid p) started`)."""
    log = _log(worker)
    return len(_children(worker)) == count and all(
        f"worker process {i} (pid {pid}) started" in log for i, pid in _children(worker).items()
    )


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    stat = Path(f"/proc/{pid}/stat")
    return not (stat.exists() and stat.read_text().split(") ", 1)[1].startswith("Z"))


def _senders(database: Database) -> dict[int, int]:
    """How many rows each process (by pid) sent."""
    with database.session() as session:
        owners = session.execute(select(OutboxMessage.lease_owner).where(OutboxMessage.state == "SENT")).scalars()
        counts: dict[int, int] = {}
        for owner in owners:
            pid = int(owner.split(":")[1])
            counts[pid] = counts.get(pid, 0) + 1
    return counts


def _free_port() -> int:
    """A port P where P and P + 1 are free (child i serves metrics on P + i), below the kernel's ephemeral
    range, so a test's own outgoing connections cannot take P + 1 between this check and the bind."""
    low = int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    rng = random.Random()
    for _ in range(200):
        port = rng.randrange(10_000, low - 2)
        try:
            with socket.socket() as a, socket.socket() as b:
                a.bind(("127.0.0.1", port))
                b.bind(("127.0.0.1", port + 1))
        except OSError:
            continue
        return port
    raise RuntimeError("no two free consecutive ports")


@ON_POSTGRES
def test_two_processes_send_every_push_exactly_once_between_them_and_stop_cleanly(
    database, settings, start_fake, start_worker
):
    # given: `smartcity worker --processes 2` up, with metrics on port and port+1
    total = 4_000
    account = make_person(database, settings, "citizen").account_id
    fake = start_fake(20)
    port = _free_port()
    supervisor = start_worker(fake, "--processes", "2", push_batch_size=100, worker_metrics_port=port)
    wait_until(lambda: _all_ready(supervisor, 2), 60, "both worker processes to start")
    children = _children(supervisor)

    # when
    queue_to_tokens(database, account, [f"pair-{i:05d}" for i in range(total)])
    wait_until(lambda: outbox_states(database).get("SENT", 0) == total, 120, "every push to be sent")
    metrics = [httpx.get(f"http://127.0.0.1:{port + i}/metrics", timeout=5).text for i in (0, 1)]
    supervisor.send_signal(signal.SIGTERM)

    # then
    assert supervisor.wait(timeout=60) == 0, _log(supervisor)[-3000:]
    stats = fake.stats()
    senders = _senders(database)
    print(f"\n--processes 2: sent per child {senders}")
    assert stats["sends"] == total and stats["tokens"] == total and stats["duplicates"] == {}
    assert set(senders) == set(children.values()) and min(senders.values()) > 0  # both children sent
    assert all("smartcity_push_sent_total" in page for page in metrics)
    assert not any(_alive(pid) for pid in children.values())
    log = _log(supervisor)
    assert "maximum number of running instances" not in log and "was missed by" not in log
    assert "all 2 processes stopped" in log


@ON_POSTGRES
def test_a_child_killed_with_sigkill_is_restarted_and_works(database, settings, start_fake, start_worker):
    # given
    account = make_person(database, settings, "citizen").account_id
    fake = start_fake(0)
    supervisor = start_worker(fake, "--processes", "2", push_batch_size=100)
    wait_until(lambda: _all_ready(supervisor, 2), 60, "both worker processes to start")
    killed = _children(supervisor)[0]

    # when
    os.kill(killed, signal.SIGKILL)

    # then: a new child 0, logged, which drains like any other
    wait_until(lambda: _children(supervisor)[0] != killed and _all_ready(supervisor, 2), 60, "a new child 0")
    assert re.search(rf"worker process 0 \(pid {killed}\) died after .* \(killed by SIGKILL\); restarting it",
                     _log(supervisor))
    queue_to_tokens(database, account, [f"after-kill-{i:04d}" for i in range(1_000)])
    wait_until(lambda: outbox_states(database) == {"SENT": 1_000}, 60, "every push to be sent")
    supervisor.send_signal(signal.SIGTERM)
    assert supervisor.wait(timeout=60) == 0
    assert fake.stats()["duplicates"] == {}


def _taken_port_after_a_free_one() -> tuple[socket.socket, int]:
    """A listening socket on port P + 1, where P is free (child 0's metrics port, child 1's is taken)."""
    port = _free_port()
    taken = socket.socket()
    taken.bind(("127.0.0.1", port + 1))
    taken.listen()
    return taken, port


@ON_POSTGRES
def test_children_that_keep_dying_at_start_make_the_supervisor_give_up(database, start_fake, start_worker):
    # given: child 1's metrics port is taken, so it exits at once, every time
    taken, port = _taken_port_after_a_free_one()
    fake = start_fake(0)
    try:
        # when
        supervisor = start_worker(fake, "--processes", "2", worker_metrics_port=port)
        code = supervisor.wait(timeout=120)
    finally:
        taken.close()

    # then: it gave up (non-zero) after a few restarts, and stopped the healthy child too
    log = _log(supervisor)
    assert code == 1, log[-3000:]
    assert f"cannot serve worker metrics on 127.0.0.1:{port + 1}" in log
    assert "worker process 1 died 5 times in a row" in log and "giving up" in log
    assert len(re.findall(r"worker process 1 started", log)) == 5
    assert not _alive(_children(supervisor)[0])


@ON_POSTGRES
def test_children_stop_when_their_supervisor_is_killed(database, start_fake, start_worker):
    # given
    supervisor = start_worker(start_fake(0), "--processes", "2")
    wait_until(lambda: _all_ready(supervisor, 2), 60, "both worker processes to start")
    children = _children(supervisor)

    # when
    supervisor.send_signal(signal.SIGKILL)
    supervisor.wait(timeout=10)

    # then: nobody is left sending unsupervised
    wait_until(lambda: not any(_alive(pid) for pid in children.values()), 30, "the orphaned children to stop")
    assert "the supervisor is gone" in _log(supervisor)


@pytest.mark.parametrize(
    ("args", "env", "expected"),
    [
        (["--processes", "0"], {}, "--processes must be at least 1 (got 0)"),
        ([], {"SMARTCITY_WORKER_PROCESSES": "0"}, "invalid setting SMARTCITY_WORKER_PROCESSES"),
    ],
)
def test_fewer_than_one_process_is_a_configuration_error(args, env, expected, tmp_path):
    # when
    clean = {k: v for k, v in os.environ.items() if not k.startswith("SMARTCITY_")}
    result = subprocess.run([sys.executable, "-m", "api.cli", "worker", *args], cwd=ROOT, capture_output=True,
                            text=True, timeout=60, env={**clean, **env,
                                                        "SMARTCITY_DATABASE_URL": f"sqlite:///{tmp_path}/x.db"})

    # then
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("smartcity: configuration error: ") and expected in lines[0]
