"""Create and drop the `atp` schema from the DDL files in `sql/ddl/` (plain Python, no Dagster).

Instantiating an existing schema is a clear error, not a no-op: `instantiate` refuses with
`SchemaExistsError` before running anything, and `01_instantiate_media.sql` itself starts with a
plain `CREATE SCHEMA atp` (SQLSTATE 42P06) for anyone running the files by hand. An idempotent
"create if missing" would need enums created inside a block that decides silently, and would
report success over a half-built or outdated schema; a schema that exists is dropped (after a
verified backup) and instantiated again instead. `10_set_perms.sql` alone is idempotent, so it
can be rerun on its own to repair grants.
"""

from __future__ import annotations

from pathlib import Path

import psycopg2.extensions

from dagstributor_shared.atp_schema import SCHEMA
from dagstributor_shared.atp_schema import TABLES as TABLES  # in dependency order
from dagstributor_shared.sql import SqlFileResult, run_sql_file

SQL_DIR = Path(__file__).resolve().parent / "sql"
DDL_DIR = SQL_DIR / "ddl"
DROP_FILE = DDL_DIR / "00_drop_schema.sql"
PERMISSIONS_FILE = DDL_DIR / "10_set_perms.sql"
# Order matters: 01 creates the schema, enums and trigger functions the others use; 03 creates
# the view over training and prediction; 10 grants on everything before it.
INSTANTIATE_FILES: tuple[Path, ...] = (
    DDL_DIR / "01_instantiate_media.sql",
    DDL_DIR / "02_instantiate_training.sql",
    DDL_DIR / "03_instantiate_prediction.sql",
    DDL_DIR / "04_instantiate_watchlist.sql",
    PERMISSIONS_FILE,
)
TEST_FILE = SQL_DIR / "test.sql"


class SchemaExistsError(RuntimeError):
    """Instantiate was asked for while schema `atp` already exists."""


def atp_exists(connection: psycopg2.extensions.connection) -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT EXISTS (SELECT FROM pg_namespace WHERE nspname = %s)", (SCHEMA,))
        row = cursor.fetchone()
    connection.rollback()  # leave no transaction open for the executor's files
    return bool(row and row[0])


def instantiate(connection: psycopg2.extensions.connection) -> list[SqlFileResult]:
    """Run 01 -> 02 -> 03 -> 04 -> 10, each file in its own transaction; the first failure raises."""
    if atp_exists(connection):
        raise SchemaExistsError(
            f"schema {SCHEMA} already exists in database {connection.info.dbname!r}; "
            "instantiate only creates it from scratch (drop it first, after a verified backup)"
        )
    return [run_sql_file(connection, path) for path in INSTANTIATE_FILES]


def drop(connection: psycopg2.extensions.connection) -> SqlFileResult:
    """Drop schema `atp` and everything in it; backups in schema `bak` stay."""
    return run_sql_file(connection, DROP_FILE)
