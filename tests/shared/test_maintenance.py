"""The maintenance lock: steps share it, schema jobs hold it alone, nobody waits forever."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator

import psycopg2.extensions
import pytest

from dagstributor_shared.maintenance import (
    MaintenanceLockLost,
    MaintenanceLockTimeout,
    ensure_held,
    lock_holders,
    maintenance_exclusive,
    maintenance_shared,
)
from tests.support.database import REPO_ROOT, PgTestServer

Connection = psycopg2.extensions.connection
Connect = Callable[[], Connection]


@pytest.fixture
def connect(pg_server: PgTestServer, fresh_database: str) -> Iterator[Connect]:
    """Open connections to the test database (closed afterwards): `connect()`."""
    opened: list[Connection] = []

    def _connect() -> Connection:
        connection = pg_server.connect(fresh_database)
        opened.append(connection)
        return connection

    yield _connect
    for connection in opened:
        connection.close()


def test_steps_hold_the_lock_side_by_side(connect: Connect) -> None:
    first, second = connect(), connect()
    with maintenance_shared(first, wait_seconds=0), maintenance_shared(second, wait_seconds=0):
        assert {h.mode for h in lock_holders(first)} == {"shared"}
        assert len(lock_holders(first)) == 2


def test_a_step_during_maintenance_gives_up_after_its_wait_naming_the_schema_job(
    connect: Connect,
) -> None:
    job, step = connect(), connect()
    with maintenance_exclusive(job):
        job_pid = job.info.backend_pid
        started = time.monotonic()
        with (
            pytest.raises(MaintenanceLockTimeout) as caught,
            maintenance_shared(step, wait_seconds=0.3),
        ):
            pytest.fail("the step ran during maintenance")
        waited = time.monotonic() - started
    assert 0.3 <= waited < 5
    message = str(caught.value)
    assert "database maintenance (a schema job) is in progress" in message
    assert f"exclusive by backend {job_pid}" in message
    # The step's session is usable afterwards and holds nothing.
    with step.cursor() as cursor:
        cursor.execute("SELECT 1")
    step.rollback()
    assert [h.pid for h in lock_holders(step)] == []


def test_a_schema_job_waits_for_running_steps_then_holds_the_lock_alone(
    connect: Connect,
) -> None:
    step, job = connect(), connect()
    acquired: list[float] = []
    holding = maintenance_shared(step)
    holding.__enter__()

    def run_job() -> None:
        with maintenance_exclusive(job, wait_seconds=30):
            acquired.append(time.monotonic())
            ensure_held(job, exclusive=True)

    thread = threading.Thread(target=run_job)
    thread.start()
    time.sleep(0.5)
    assert acquired == []  # still waiting for the step
    released = time.monotonic()
    holding.__exit__(None, None, None)
    thread.join(timeout=30)
    assert acquired and acquired[0] >= released


def test_a_waiting_schema_job_is_not_overtaken_by_steps_that_start_after_it(
    connect: Connect,
) -> None:
    running, job, late = connect(), connect(), connect()
    holding = maintenance_shared(running)
    holding.__enter__()
    got_it = threading.Event()

    def run_job() -> None:
        with maintenance_exclusive(job, wait_seconds=30):
            got_it.set()

    thread = threading.Thread(target=run_job)
    thread.start()
    time.sleep(0.3)
    with pytest.raises(MaintenanceLockTimeout), maintenance_shared(late, wait_seconds=0.3):
        pytest.fail("a new step overtook the waiting schema job")
    holding.__exit__(None, None, None)
    thread.join(timeout=30)
    assert got_it.is_set()


def test_a_schema_job_gives_up_after_its_wait_while_steps_run(
    connect: Connect,
) -> None:
    step, job = connect(), connect()
    with (
        maintenance_shared(step),
        pytest.raises(MaintenanceLockTimeout) as caught,
        maintenance_exclusive(job, wait_seconds=0.2),
    ):
        pytest.fail("the schema job ran beside a step")
    assert "shared by backend" in str(caught.value)
    with maintenance_exclusive(job, wait_seconds=0):  # free once the step is done
        pass


def test_the_lock_of_a_process_that_dies_is_released_by_the_server(
    pg_server: PgTestServer, fresh_database: str, connect: Connect
) -> None:
    settings = pg_server.connection_settings(fresh_database)
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time, psycopg2\n"
            "from dagstributor_shared.maintenance import acquire\n"
            f"c = psycopg2.connect(host={settings.host!r}, port={settings.port},"
            f" dbname={settings.database!r}, user={settings.username!r},"
            f" password={settings.password!r})\n"
            "acquire(c, exclusive=True, wait_seconds=None)\n"
            "print('held', flush=True)\n"
            "time.sleep(600)\n",
        ],
        cwd=REPO_ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline().strip() == "held"
        step = connect()
        with pytest.raises(MaintenanceLockTimeout), maintenance_shared(step, wait_seconds=0):
            pass
        holder.kill()
        holder.wait(timeout=10)
        with maintenance_shared(step, wait_seconds=10):
            assert [h.mode for h in lock_holders(step)] == ["shared"]
    finally:
        holder.kill()
        holder.wait(timeout=10)


def test_a_holder_whose_session_was_ended_learns_it_lost_the_lock(
    pg_server: PgTestServer, fresh_database: str, connect: Connect
) -> None:
    job = connect()
    with maintenance_exclusive(job):
        ensure_held(job, exclusive=True)
        pg_server.terminate_sessions(fresh_database)
        with pytest.raises(MaintenanceLockLost):
            ensure_held(job, exclusive=True)


def test_the_lock_cannot_be_taken_inside_an_open_transaction(
    connect: Connect,
) -> None:
    step = connect()
    with step.cursor() as cursor:
        cursor.execute("SELECT 1")
    with pytest.raises(RuntimeError, match="outside a transaction"), maintenance_shared(step):
        pass
