"""Time wst_atp_bak_drop_reload_job against psql running its SQL files and against pg_dump/pg_restore.

Fills atp.media with --rows synthetic rows (default 1,000,000) and atp.training / atp.prediction
with a tenth of that each, runs the job in process, checks every row came back identical (an md5
over the ordered rows, computed server-side, before and after), then runs the job's SQL files in
the same order through `psql -v ON_ERROR_STOP=1 -f` and checks again, then does what a DBA would:
`pg_dump -Fc -n atp` to a file, `DROP SCHEMA atp CASCADE`, `pg_restore` of that file, and checks
again. Prints the three times and the ratios (targets: job <= 1.2 x psql, job <= 0.8 x
pg_dump/pg_restore). The client binaries are pgserver's own (its wheel ships PostgreSQL 16's
psql, pg_dump and pg_restore in pginstall/bin; Debian's pg_dump 15 refuses a 16 server), else
the ones on PATH. Before each timed run the tables are vacuumed and a checkpoint
is taken, so neither run pays for background work left by the fill or the other run. The two
paths alternate for --rounds rounds (default 3) and the medians are compared, since one run of
each on a shared machine swings by more than the margin. Dagster's one-time in-process warm-up
(lazy imports on the first execute_in_process) is paid before timing by running
test_db_connection_job once: it is the same for a 1-row and a 1,000,000-row schema. Uses the
server named by WST_PGSQL_* if set, else the embedded test server; either way in a temporary
database that is dropped afterwards.

Run from the repo root: ``uv run python benchmarks/wst_bak_drop_reload.py [--rows N]``.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

import psycopg2.extensions  # noqa: E402

from tests.support.atp import fill_atp  # noqa: E402
from tests.support.database import PgTestServer, open_test_server  # noqa: E402
from wiring_schema_tics import backups, schema  # noqa: E402
from wiring_schema_tics.jobs import build_jobs, build_resources  # noqa: E402

TABLE_KEYS = {
    "media": "hash",
    "training": "imdb_id",
    "prediction": "imdb_id",
    "watchlist": "source, kind, watch_key",
}
# What the job runs, in its order, as files psql can run on its own.
PSQL_FILES: list[Path] = [
    backups.FUNCTIONS_FILE,
    *(backups.backup_file(t) for t in schema.TABLES),
    schema.DROP_FILE,
    *schema.INSTANTIATE_FILES,
    *(backups.reload_file(t) for t in schema.TABLES),
]


def client_binary(name: str) -> str:
    """pgserver's own client (same major version as the embedded server), else the one on PATH."""
    import pgserver

    shipped = Path(pgserver.__file__).resolve().parent / "pginstall" / "bin" / name
    if shipped.is_file():
        return str(shipped)
    found = shutil.which(name)
    if found is None:
        raise SystemExit(f"no {name} binary found (pgserver's or on PATH)")
    return found


def fingerprints(connection: psycopg2.extensions.connection) -> dict[str, tuple[int, str]]:
    """Row count and md5 over every ordered row of each table, computed on the server."""
    result: dict[str, tuple[int, str]] = {}
    with connection.cursor() as cursor:
        for table, key in TABLE_KEYS.items():
            cursor.execute(
                f"SELECT count(*), md5(string_agg(md5(t::text), '' ORDER BY t.{key})) "
                f"FROM atp.{table} AS t"
            )
            count, digest = cursor.fetchone() or (0, "")
            result[table] = (count, digest)
    connection.commit()
    return result


def settle(connection: psycopg2.extensions.connection) -> None:
    """Same starting line for each timed run: no pending checkpoint or vacuum of the last load."""
    connection.autocommit = True
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE atp.media, atp.training, atp.prediction")
        cursor.execute("CHECKPOINT")
    connection.autocommit = False


def _client(server: PgTestServer, database: str) -> tuple[list[str], dict[str, str]]:
    """Connection arguments and environment for the PostgreSQL client binaries."""
    settings = server.connection_settings(database)
    env = {**os.environ, "PGOPTIONS": "-c client_min_messages=warning"}
    if settings.password:
        env["PGPASSWORD"] = settings.password
    arguments = ["-h", settings.host, "-p", str(settings.port), "-U", settings.username]
    return [*arguments, "-d", database], env


def run_psql(server: PgTestServer, database: str) -> float:
    connection, env = _client(server, database)
    command = [client_binary("psql"), "-X", "-q", "-v", "ON_ERROR_STOP=1", *connection]
    for path in PSQL_FILES:
        command += ["-f", str(path)]
    started = time.perf_counter()
    subprocess.run(command, check=True, env=env, stdout=subprocess.DEVNULL)
    return time.perf_counter() - started


def run_pg_dump_restore(server: PgTestServer, database: str, dump: Path) -> float:
    """pg_dump -Fc -n atp, DROP SCHEMA atp CASCADE, pg_restore: the DBA's way, timed as a whole."""
    connection, env = _client(server, database)
    drop = [client_binary("psql"), "-X", "-q", "-v", "ON_ERROR_STOP=1", *connection]
    started = time.perf_counter()
    subprocess.run(
        [client_binary("pg_dump"), "-Fc", "-n", schema.SCHEMA, "-f", str(dump), *connection],
        check=True,
        env=env,
    )
    subprocess.run([*drop, "-c", f"DROP SCHEMA {schema.SCHEMA} CASCADE"], check=True, env=env)
    subprocess.run(
        [client_binary("pg_restore"), "--exit-on-error", *connection, str(dump)],
        check=True,
        env=env,
    )
    elapsed = time.perf_counter() - started
    dump.unlink()
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000, help="rows in atp.media")
    parser.add_argument("--rounds", type=int, default=3, help="timed runs of each path")
    args = parser.parse_args()
    rows = {"media": args.rows, "small": max(1, args.rows // 10)}
    jobs = build_jobs()
    job = jobs["wst_atp_bak_drop_reload_job"]

    with open_test_server() as server, server.temporary_database() as database:
        connection = server.connect(database)
        try:
            schema.instantiate(connection)
            started = time.perf_counter()
            fill_atp(connection, rows["media"], rows["small"])
            print(
                f"filled media={rows['media']:,} training={rows['small']:,} "
                f"prediction={rows['small']:,} rows in {time.perf_counter() - started:.1f} s"
            )
            original = fingerprints(connection)

            resources = build_resources(server.resource(database))
            jobs["test_db_connection_job"].execute_in_process(resources=resources)  # warm-up
            job_times: list[float] = []
            psql_times: list[float] = []
            dump_times: list[float] = []
            dump = Path(tempfile.mkdtemp(prefix="wst-bench-")) / "atp.dump"
            for _ in range(args.rounds):
                settle(connection)
                started = time.perf_counter()
                result = job.execute_in_process(resources=resources, raise_on_error=True)
                job_times.append(time.perf_counter() - started)
                assert result.success
                after_job = fingerprints(connection)
                if after_job != original:
                    raise SystemExit(f"job changed rows: {original} != {after_job}")

                settle(connection)
                psql_times.append(run_psql(server, database))
                after_psql = fingerprints(connection)
                if after_psql != original:
                    raise SystemExit(f"psql run changed rows: {original} != {after_psql}")

                settle(connection)
                dump_times.append(run_pg_dump_restore(server, database, dump))
                after_dump = fingerprints(connection)
                if after_dump != original:
                    raise SystemExit(f"pg_dump/pg_restore changed rows: {original} != {after_dump}")
            dump.parent.rmdir()
        finally:
            connection.close()

    counts = ", ".join(f"{table}={count:,}" for table, (count, _) in original.items())
    print(f"rows identical (md5) after every run: {counts}")
    job_s, psql_s = statistics.median(job_times), statistics.median(psql_times)
    dump_s = statistics.median(dump_times)
    print(
        f"wst_atp_bak_drop_reload_job (execute_in_process): median {job_s:.2f} s  {_all(job_times)}"
    )
    print(
        f"same SQL files through psql:                      median {psql_s:.2f} s  {_all(psql_times)}"
    )
    print(
        f"pg_dump -Fc -n atp + DROP SCHEMA + pg_restore:    median {dump_s:.2f} s  {_all(dump_times)}"
    )
    print(f"client binaries: {client_binary('pg_dump')} ({_version('pg_dump')})")
    print(f"ratio job / psql: {job_s / psql_s:.2f} (target <= 1.20)")
    print(f"ratio job / pg_dump+pg_restore: {job_s / dump_s:.2f} (target <= 0.80)")


def _version(name: str) -> str:
    result = subprocess.run([client_binary(name), "--version"], capture_output=True, text=True)
    return result.stdout.strip()


def _all(times: list[float]) -> str:
    return "(" + ", ".join(f"{t:.2f}" for t in times) + ")"


if __name__ == "__main__":
    main()
