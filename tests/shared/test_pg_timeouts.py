"""A database connection that goes silent fails the run in bounded time; a terminated run stops."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time

import psycopg2
import psycopg2.errors
import pytest

from dagstributor_shared.maintenance import (
    MaintenanceLockTimeout,
    maintenance_exclusive,
    maintenance_shared,
)
from dagstributor_shared.pg_timeouts import (
    REPLY_GRACE,
    DatabaseNotAnswering,
    TimeoutSettingsError,
    timeout_settings,
)
from dagstributor_shared.postgres import PostgresResource
from tests.support.database import REPO_ROOT, PgTestServer
from tests.support.proxy import LOOPBACK, silent_proxy

GRACE = 1.5  # the reply grace the silent-connection test injects


def _resource(pg_server: PgTestServer, database: str, **fields: float) -> PostgresResource:
    s = pg_server.settings
    return PostgresResource(
        env_prefix="AT_PGSQL",
        host=s.host,
        port=s.port,
        database=database,
        username=s.username,
        password=s.password,
        **fields,  # type: ignore[arg-type]
    )


def test_a_connection_that_goes_silent_mid_run_fails_within_its_bound_with_a_clear_error(
    pg_server: PgTestServer, fresh_database: str
) -> None:
    outcome: list[BaseException | None] = []
    # The grace is injected (REPLY_GRACE, 10 s, in production): the bound is 1 + GRACE seconds.
    with silent_proxy(pg_server.connection_settings(fresh_database)) as proxy:
        resource = _resource(
            pg_server, fresh_database, statement_timeout=1, reply_grace=GRACE
        ).model_copy(update={"host": LOOPBACK, "port": proxy.port})
        with resource.connect() as connection:
            with connection.cursor() as cursor:
                cursor.execute("SELECT 1")
                assert cursor.fetchone() == (1,)
            proxy.go_silent()

            def query() -> None:
                try:
                    with connection.cursor() as cursor:
                        cursor.execute("SELECT 2")
                    outcome.append(None)
                except BaseException as error:  # the test inspects it
                    outcome.append(error)

            started = time.monotonic()
            # In a thread, so a wait that never ends fails this test instead of hanging it.
            worker = threading.Thread(target=query, daemon=True)
            worker.start()
            worker.join(timeout=1 + GRACE + 10)
            waited = time.monotonic() - started
            still_waiting = worker.is_alive()
            if still_waiting:
                proxy.close()  # free the stuck query, so the failure is reported, not a hang
                worker.join(timeout=10)
            assert not still_waiting, "the query still waits on a silent connection"
            assert connection.closed
    assert 1 + GRACE - 0.5 <= waited < 1 + GRACE + 5
    error = outcome[0]
    assert isinstance(error, DatabaseNotAnswering)
    assert "sent no answer within 2.5 s (statement timeout plus 1.5 s)" in str(error)
    assert isinstance(error, psycopg2.OperationalError)  # what callers treat as transient


def test_a_dead_connection_fails_within_a_minute_by_default_for_both_prefixes() -> None:
    for prefix in ("WST_PGSQL", "AT_PGSQL"):
        settings = timeout_settings(prefix, environ={})
        assert settings.reply_timeout == settings.statement_timeout + REPLY_GRACE
        assert settings.reply_timeout <= 60
        options = settings.connect_kwargs()
        keepalive_give_up = (
            options["keepalives_idle"]
            + options["keepalives_count"] * options["keepalives_interval"]
        )
        assert options["keepalives"] == 1 and keepalive_give_up <= 60
        assert options["tcp_user_timeout"] <= 60_000
        assert f"statement_timeout={round(settings.statement_timeout * 1000)}" in options["options"]


def test_each_prefix_reads_its_own_timeout_variables_and_explicit_fields_win() -> None:
    environ = {"WST_PGSQL_STATEMENT_TIMEOUT": "600", "AT_PGSQL_TCP_TIMEOUT": "12"}
    wst = timeout_settings("WST_PGSQL", environ=environ)
    at = timeout_settings("AT_PGSQL", environ=environ)
    assert (wst.statement_timeout, at.tcp_timeout) == (600, 12)
    assert wst.tcp_timeout != 12 and at.statement_timeout != 600
    assert timeout_settings("AT_PGSQL", {"statement_timeout": 0}, environ).reply_timeout is None
    assert timeout_settings("AT_PGSQL", {"reply_grace": 2}, environ).reply_timeout == 45 + 2


def test_invalid_timeout_variables_are_named_in_one_error() -> None:
    environ = {"AT_PGSQL_STATEMENT_TIMEOUT": "soon", "AT_PGSQL_TCP_TIMEOUT": "0"}
    with pytest.raises(TimeoutSettingsError) as caught:
        timeout_settings("AT_PGSQL", environ=environ)
    assert "AT_PGSQL_STATEMENT_TIMEOUT" in str(caught.value)
    assert "AT_PGSQL_TCP_TIMEOUT" in str(caught.value)
    assert "soon" not in str(caught.value)


def test_the_server_cancels_a_statement_past_the_statement_timeout(
    pg_server: PgTestServer, fresh_database: str
) -> None:
    resource = _resource(pg_server, fresh_database, statement_timeout=0.5)
    with resource.connect() as connection, connection.cursor() as cursor:
        started = time.monotonic()
        with pytest.raises(psycopg2.errors.QueryCanceled, match="statement timeout"):
            cursor.execute("SELECT pg_sleep(5)")
        assert time.monotonic() - started < 4


def test_a_long_maintenance_wait_is_not_cut_short_by_the_statement_timeout(
    pg_server: PgTestServer, fresh_database: str
) -> None:
    resource = _resource(pg_server, fresh_database, statement_timeout=0.5)
    with (
        pg_server.connection(fresh_database) as job,
        maintenance_exclusive(job),
        resource.connect() as step,
    ):
        started = time.monotonic()
        with pytest.raises(MaintenanceLockTimeout), maintenance_shared(step, wait_seconds=2):
            pass
        assert time.monotonic() - started >= 2
        # and the step's own statements keep their limit
        with step.cursor() as cursor, pytest.raises(psycopg2.errors.QueryCanceled):
            cursor.execute("SELECT pg_sleep(3)")


def _sleeping_backends(pg_server: PgTestServer, database: str) -> int:
    with pg_server.connection(database) as connection, connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
            " AND state = 'active' AND query LIKE '%%sleepy_run%%' AND pid <> pg_backend_pid()"
        )
        row = cursor.fetchone()
    return int(row[0]) if row else 0


def _wait_for(condition: object, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if callable(condition) and condition():
            return True
        time.sleep(0.1)
    return False


def test_terminating_a_run_that_waits_on_the_database_stops_it_within_seconds(
    pg_server: PgTestServer, fresh_database: str, tmp_path: object
) -> None:
    env = {
        **os.environ,
        **pg_server.environ(fresh_database),
        "AT_PGSQL_PASSWORD": pg_server.settings.password or "",
        "AT_PGSQL_STATEMENT_TIMEOUT": "0",  # the statement itself would run for 10 minutes
        "DAGSTER_HOME": str(tmp_path),
    }
    run = subprocess.Popen(
        [sys.executable, "-m", "tests.support.sleepy_run", "600"],
        cwd=REPO_ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    stderr: list[str] = []
    reader = threading.Thread(target=lambda: stderr.append(run.stderr.read() if run.stderr else ""))
    reader.start()
    try:
        assert _wait_for(lambda: _sleeping_backends(pg_server, fresh_database) == 1, 90), (
            "the run never reached its statement"
        )
        # What Dagster's run worker does to itself when the run is terminated from the UI.
        started = time.monotonic()
        run.send_signal(signal.SIGINT)
        run.wait(timeout=15)
        stopped = time.monotonic() - started
        assert _wait_for(lambda: _sleeping_backends(pg_server, fresh_database) == 0, 5)
    finally:
        run.kill()
        run.wait(timeout=10)
        reader.join(timeout=10)
    assert stopped < 10
    assert "RUN_FAILURE" in stderr[0] or "interrupt" in stderr[0].lower()
