"""Operator jobs with many hashes (issue 19 #8): 10,000 named hashes against 100,000 rows of
`atp.media` on the embedded test PostgreSQL: `override`, `reject` and `retry_errored` by hash,
each in a rolled-back copy of the same table, plus the length of the error for 10,000 unknown
hashes.

    uv run python benchmarks/operator_hashes_bench.py [--rows 100000] [--hashes 10000]

The hash column is char(40): comparing it with `bpchar[]` uses its index, `text[]` does not.
"""

from __future__ import annotations

import argparse
import hashlib
import sys
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from automatic_transmission.store.operator import (  # noqa: E402
    UnknownHashError,
    override,
    reject,
    retry_errored,
)
from tests.support.atp import temporary_atp_database  # noqa: E402
from tests.support.database import open_test_server  # noqa: E402


def sha(n: int) -> str:
    """The hash of row n, as the INSERT below makes it (md5 of n and n in hex: 40 hex digits)."""
    return hashlib.md5(str(n).encode()).hexdigest() + f"{n:08x}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--hashes", type=int, default=10_000)
    args = parser.parse_args()
    with open_test_server() as server, temporary_atp_database(server) as database:
        connection = server.connect(database)
        with connection.cursor() as cursor:
            cursor.execute(
                "INSERT INTO atp.media (hash, media_type, pipeline_status, rejection_status,"
                " original_title, error_status, error_condition)"
                " SELECT md5(n::text) || lpad(to_hex(n), 8, '0'), 'movie', 'rejected', 'rejected',"
                " 'Title ' || n, n %% 2 = 0, CASE WHEN n %% 2 = 0 THEN 'frozen' END"
                " FROM generate_series(0, %s - 1) AS n",
                (args.rows,),
            )
            cursor.execute("ANALYZE atp.media")
        connection.commit()
        named = [sha(n) for n in range(0, args.rows, max(args.rows // args.hashes, 1))]
        named = named[: args.hashes]
        print(f"{args.rows} rows, {len(named)} hashes")
        for name, job in (
            ("override", lambda: override(connection, named)),
            ("reject", lambda: reject(connection, named)),
            ("retry_errored", lambda: retry_errored(connection, hashes=named)),
        ):
            started = time.perf_counter()
            result = job()
            seconds = time.perf_counter() - started
            print(f"{name:<14} {seconds:8.3f} s  {len(result.changed)} rows changed")
            with connection.cursor() as cursor:  # the next job sees the same table again
                cursor.execute(
                    "UPDATE atp.media SET deleted_at = NULL, pipeline_status = 'rejected'"
                )
                cursor.execute(
                    "UPDATE atp.media SET error_status = true, error_condition = 'frozen'"
                    " WHERE substr(hash, 1, 1) < '8'"
                )
            connection.commit()
        unknown = [f"{n:040x}" for n in range(args.hashes)]
        started = time.perf_counter()
        try:
            reject(connection, unknown)
        except UnknownHashError as error:
            print(
                f"{'unknown hashes':<14} {time.perf_counter() - started:8.3f} s"
                f"  error of {len(str(error))} characters: {str(error)[:90]}..."
            )
        connection.close()


if __name__ == "__main__":
    main()
