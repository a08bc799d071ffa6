"""Issue 19 #2: no PostgreSQL session outlives its client by much once the path goes silent (a
real proxy that swallows every byte, both ways): the row locks of an open transaction and the
maintenance lock's idle session are both ended by the server within the idle timeout, and a
healthy lock session stays alive past it thanks to its heartbeat."""

from __future__ import annotations

import time
from collections.abc import Iterator

import psycopg2
import pytest

from dagstributor_shared.maintenance import maintenance_shared
from dagstributor_shared.postgres import PostgresResource
from tests.support.database import PgTestServer
from tests.support.proxy import LOOPBACK, SilentProxy, silent_proxy

IDLE_S = 2.0  # injected: production's default is 30 s


@pytest.fixture
def proxy(pg_server: PgTestServer) -> Iterator[SilentProxy]:
    with silent_proxy(pg_server.settings) as proxy:
        yield proxy


def through(proxy: SilentProxy, pg_server: PgTestServer, database: str) -> PostgresResource:
    s = pg_server.settings
    return PostgresResource(
        env_prefix="AT_PGSQL",
        host=LOOPBACK,
        port=proxy.port,
        database=database,
        username=s.username,
        password=s.password,
        statement_timeout=1.0,
        idle_timeout=IDLE_S,
    )


def alive(pg_server: PgTestServer, pids: set[int]) -> set[int]:
    with pg_server.connection() as admin, admin.cursor() as cursor:
        cursor.execute("SELECT pid FROM pg_stat_activity WHERE pid = ANY(%s)", (list(pids),))
        return {row[0] for row in cursor.fetchall()}


def test_a_silent_path_frees_row_locks_and_the_maintenance_lock_within_the_idle_timeout(
    pg_server: PgTestServer, atp_database: str, proxy: SilentProxy
) -> None:
    postgres = through(proxy, pg_server, atp_database)
    with postgres.connect() as lock, maintenance_shared(lock, wait_seconds=5):
        time.sleep(IDLE_S * 1.5)  # past idle_session_timeout: the heartbeat keeps it
        with postgres.connect() as work:
            with work.cursor() as cursor:
                pids = {work.info.backend_pid, lock.info.backend_pid}
                cursor.execute(
                    "INSERT INTO atp.media (hash, media_type, original_title)"
                    " VALUES (%s, 'movie', 'Row Lock')",
                    ("a" * 40,),
                )  # an open transaction holding a row lock
            assert alive(pg_server, pids) == pids

            proxy.go_silent()
            started = time.monotonic()
            while alive(pg_server, pids) and time.monotonic() - started < 30:
                time.sleep(0.2)
            gone_after = time.monotonic() - started
            with pytest.raises(psycopg2.Error):
                work.commit()  # the client learns on its next use; its row was never committed
    assert alive(pg_server, pids) == set()
    assert gone_after < IDLE_S * 3
