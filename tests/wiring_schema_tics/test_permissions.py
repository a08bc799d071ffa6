"""Role rear_diff (10_set_perms.sql): USAGE on atp; SELECT+UPDATE media/training; SELECT the rest."""

from __future__ import annotations

from collections.abc import Iterator

import psycopg2
import psycopg2.errors
import psycopg2.extensions
import pytest

from dagstributor_shared.sql import run_sql_file
from tests.wiring_schema_tics.support import query
from wiring_schema_tics.schema import PERMISSIONS_FILE

Connection = psycopg2.extensions.connection

EXPECTED_GRANTS = {
    ("media", "SELECT"),
    ("media", "UPDATE"),
    ("training", "SELECT"),
    ("training", "UPDATE"),
    ("prediction", "SELECT"),
    ("movies", "SELECT"),
}

ALLOWED = [
    "SELECT count(*) FROM atp.media",
    "SELECT count(*) FROM atp.training",
    "SELECT count(*) FROM atp.prediction",
    "SELECT count(*) FROM atp.movies",
    "UPDATE atp.media SET media_title = 'reviewed' WHERE hash = repeat('a', 40)",
    "UPDATE atp.training SET reviewed = true, label = 'would_not_watch'",
]
DENIED = [
    "INSERT INTO atp.media (hash, media_type, original_title) VALUES (repeat('f', 40), 'movie', 't')",
    "DELETE FROM atp.media",
    "TRUNCATE atp.training",
    "INSERT INTO atp.training (imdb_id, media_type, media_title, release_year) "
    "VALUES ('tt7654321', 'movie', 'M', 2000)",
    "DELETE FROM atp.training",
    "UPDATE atp.prediction SET prediction = 0",
    "INSERT INTO atp.prediction (imdb_id, prediction, probability, cm_value) "
    "VALUES ('tt7654321', 1, 0.5, 'tp')",
    "DELETE FROM atp.prediction",
    "CREATE TABLE atp.intruder (id integer)",
    "ALTER TABLE atp.media ADD COLUMN intruder integer",
    "SELECT count(*) FROM bak.atp_media_20200101",
]


@pytest.fixture
def as_rear_diff(seeded: Connection) -> Iterator[Connection]:
    """The seeded database (with a backup in bak to be denied), then SET ROLE rear_diff."""
    with seeded.cursor() as cursor:
        cursor.execute("CREATE SCHEMA IF NOT EXISTS bak")
        cursor.execute("CREATE TABLE bak.atp_media_20200101 AS SELECT * FROM atp.media")
    seeded.commit()
    seeded.autocommit = True
    with seeded.cursor() as cursor:
        cursor.execute("SET ROLE rear_diff")
    yield seeded
    with seeded.cursor() as cursor:
        cursor.execute("RESET ROLE")


@pytest.mark.parametrize("statement", ALLOWED)
def test_rear_diff_may_read_and_review(as_rear_diff: Connection, statement: str) -> None:
    with as_rear_diff.cursor() as cursor:
        cursor.execute(statement)


@pytest.mark.parametrize("statement", DENIED)
def test_rear_diff_may_do_nothing_else(as_rear_diff: Connection, statement: str) -> None:
    with pytest.raises(psycopg2.errors.InsufficientPrivilege), as_rear_diff.cursor() as cursor:
        cursor.execute(statement)


def _grants(connection: Connection) -> set[tuple[str, str]]:
    rows = query(
        connection,
        "SELECT table_name, privilege_type FROM information_schema.role_table_grants "
        "WHERE grantee = 'rear_diff' AND table_schema = 'atp'",
    )
    return {(table, privilege) for table, privilege in rows}


def test_set_perms_grants_exactly_the_listed_privileges(atp_connection: Connection) -> None:
    assert _grants(atp_connection) == EXPECTED_GRANTS
    usage = query(atp_connection, "SELECT has_schema_privilege('rear_diff', 'atp', 'USAGE')")
    create = query(atp_connection, "SELECT has_schema_privilege('rear_diff', 'atp', 'CREATE')")
    assert usage == [(True,)] and create == [(False,)]


def test_rear_diff_is_created_without_login(atp_connection: Connection) -> None:
    assert query(
        atp_connection, "SELECT rolcanlogin FROM pg_roles WHERE rolname = 'rear_diff'"
    ) == [(False,)]


def test_set_perms_is_idempotent_and_removes_extra_grants(atp_connection: Connection) -> None:
    with atp_connection.cursor() as cursor:
        cursor.execute("GRANT INSERT, DELETE ON atp.media, atp.prediction TO rear_diff")
    atp_connection.commit()
    run_sql_file(atp_connection, PERMISSIONS_FILE)
    run_sql_file(atp_connection, PERMISSIONS_FILE)
    assert _grants(atp_connection) == EXPECTED_GRANTS
