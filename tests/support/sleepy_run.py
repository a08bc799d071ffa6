"""A real Dagster run that sits in one long statement (`python -m tests.support.sleepy_run`).

Its database is the AT_PGSQL_* one; the statement is `SELECT pg_sleep(<seconds>)` (first
argument, default 600). Used to check that terminating a run stops it while it waits on the
server.
"""

import sys

import dagster as dg

from dagstributor_shared.postgres import PostgresResource

SLEEP_SQL = "SELECT pg_sleep(%s) /* sleepy_run */"


@dg.op(config_schema={"seconds": float})
def sleep_in_the_database(context: dg.OpExecutionContext, postgres: PostgresResource) -> None:
    seconds = float(context.op_config["seconds"])
    with postgres.connect() as connection, connection.cursor() as cursor:
        cursor.execute(SLEEP_SQL, (seconds,))


@dg.job(executor_def=dg.in_process_executor)
def sleepy_job() -> None:
    sleep_in_the_database()


def main() -> None:
    seconds = float(sys.argv[1]) if len(sys.argv) > 1 else 600.0
    sleepy_job.execute_in_process(
        run_config={"ops": {"sleep_in_the_database": {"config": {"seconds": seconds}}}},
        resources={"postgres": PostgresResource(env_prefix="AT_PGSQL")},
    )


if __name__ == "__main__":
    main()
