"""The SQL executor against a real PostgreSQL: splitting, transactions, reports and errors."""

from __future__ import annotations

from pathlib import Path

import psycopg2.extensions
import pytest

from dagstributor_shared.sql import SqlExecutionError, run_sql, run_sql_file, split_statements


def _failure(conn: psycopg2.extensions.connection, script: str, source: str) -> SqlExecutionError:
    """The error `script` fails with; the connection is left idle, with no transaction open."""
    with pytest.raises(SqlExecutionError) as caught:
        run_sql(conn, script, source=source)
    assert conn.info.transaction_status == psycopg2.extensions.TRANSACTION_STATUS_IDLE
    return caught.value


def _scalar(conn: psycopg2.extensions.connection, query: str) -> object:
    with conn.cursor() as cursor:
        cursor.execute(query)
        row = cursor.fetchone()
    conn.rollback()
    return None if row is None else row[0]


TRICKY = """-- a leading comment; with a semicolon
CREATE TABLE "odd;name" (id int PRIMARY KEY, note text);
INSERT INTO "odd;name" VALUES (1, 'semi;colon in a string'), (2, $q$dollar; quoted$q$);
/* block comment ; with ; semicolons */
CREATE FUNCTION bump(x int) RETURNS int AS $body$
BEGIN
    -- a body full of ; characters
    RETURN x + 1;
END;
$body$ LANGUAGE plpgsql;
SELECT id, note, bump(id) AS bumped FROM "odd;name" ORDER BY id;
-- a trailing comment; nothing after it
"""


def test_dollar_quotes_strings_identifiers_and_comments_survive_splitting() -> None:
    statements = split_statements(TRICKY)
    assert [s.text.split()[0] for s in statements] == ["CREATE", "INSERT", "CREATE", "SELECT"]
    assert statements[2].text.rstrip().endswith("LANGUAGE plpgsql")
    assert [s.line for s in statements] == [2, 3, 5, 11]


def test_tricky_file_runs_and_select_rows_come_back_as_dicts(
    fresh_connection: psycopg2.extensions.connection,
) -> None:
    result = run_sql(fresh_connection, TRICKY, source="tricky.sql")
    assert len(result.statements) == 4
    assert result.rows == [
        {"id": 1, "note": "semi;colon in a string", "bumped": 2},
        {"id": 2, "note": "dollar; quoted", "bumped": 3},
    ]
    assert result.statements[1].command_tag == "INSERT 0 2"
    assert all(s.duration_s >= 0 for s in result.statements)


def test_empty_file_and_comment_only_file_run_nothing(
    fresh_connection: psycopg2.extensions.connection,
) -> None:
    assert run_sql(fresh_connection, "").statements == []
    assert run_sql(fresh_connection, "-- nothing here;\n/* nor ; here */\n").statements == []


def test_row_counts_for_insert_update_delete(
    fresh_connection: psycopg2.extensions.connection,
) -> None:
    result = run_sql(
        fresh_connection,
        "CREATE TABLE t (n int);"
        "INSERT INTO t SELECT generate_series(1, 10);"
        "UPDATE t SET n = n + 100 WHERE n <= 4;"
        "DELETE FROM t WHERE n > 100;",
    )
    tags = [(s.command_tag, s.row_count) for s in result.statements]
    assert tags == [("CREATE TABLE", -1), ("INSERT 0 10", 10), ("UPDATE 4", 4), ("DELETE 4", 4)]


def test_notices_are_captured_per_statement(
    fresh_connection: psycopg2.extensions.connection,
) -> None:
    result = run_sql(
        fresh_connection,
        "DO $$ BEGIN RAISE NOTICE 'first notice'; END $$;\n"
        "SELECT 1 AS one;\n"
        "DO $$ BEGIN RAISE NOTICE 'second %', 2; END $$;",
    )
    assert [len(s.notices) for s in result.statements] == [1, 0, 1]
    assert "first notice" in result.statements[0].notices[0]
    assert "second 2" in result.statements[2].notices[0]


def test_failing_statement_in_the_middle_leaves_nothing_of_the_file_applied(
    fresh_connection: psycopg2.extensions.connection, tmp_path: Path
) -> None:
    script = tmp_path / "broken.sql"
    script.write_text(
        "CREATE TABLE kept_only_if_all_pass (id int);\n"
        "INSERT INTO kept_only_if_all_pass VALUES (1);\n"
        "\n"
        "SELECT *\n"
        "  FROM no_such_table;\n"
        "INSERT INTO kept_only_if_all_pass VALUES (2);\n"
    )
    with pytest.raises(SqlExecutionError) as caught:
        run_sql_file(fresh_connection, script)
    error = caught.value
    assert error.source == str(script)
    assert error.statement_number == 3
    assert error.line == 5  # the server points at `no_such_table`, on the file's fifth line
    assert error.sqlstate == "42P01"
    assert "broken.sql: statement 3 (line 5)" in str(error)
    assert "no_such_table" in str(error)
    assert _scalar(fresh_connection, "SELECT to_regclass('kept_only_if_all_pass')::text") is None


def test_autocommit_opt_out_keeps_statements_before_a_failure(
    fresh_connection: psycopg2.extensions.connection,
) -> None:
    script = "-- dagstributor: autocommit\nCREATE TABLE early (id int);\nSELECT 1/0;\n"
    assert _failure(fresh_connection, script, "auto.sql").sqlstate == "22012"
    assert _scalar(fresh_connection, "SELECT to_regclass('early')::text") == "early"


def test_explicit_autocommit_argument_overrides_the_file(
    fresh_connection: psycopg2.extensions.connection,
) -> None:
    run_sql(fresh_connection, "CREATE TABLE x (id int); SELECT 1;", autocommit=True)
    assert _scalar(fresh_connection, "SELECT to_regclass('x')::text") == "x"


def test_syntax_error_names_the_line_before_anything_runs(
    fresh_connection: psycopg2.extensions.connection,
) -> None:
    error = _failure(fresh_connection, "CREATE TABLE fine (id int);\n\nSELEC 1;\n", "typo.sql")
    assert (error.line, error.sqlstate) == (3, "42601")
    assert _scalar(fresh_connection, "SELECT to_regclass('fine')::text") is None


def test_parameters_are_passed_to_the_server(
    fresh_connection: psycopg2.extensions.connection,
) -> None:
    result = run_sql(fresh_connection, "SELECT %(n)s::int * 2 AS doubled;", params={"n": 21})
    assert result.rows == [{"doubled": 42}]


def test_summary_reports_every_statement(fresh_connection: psycopg2.extensions.connection) -> None:
    result = run_sql(fresh_connection, "CREATE TABLE s (id int); INSERT INTO s VALUES (1), (2);")
    summary = result.summary()
    assert [(s["statement"], s["command_tag"], s["row_count"]) for s in summary] == [
        (1, "CREATE TABLE", -1),
        (2, "INSERT 0 2", 2),
    ]


def test_a_failed_autocommit_file_leaves_no_transaction_open_on_the_connection(
    fresh_connection: psycopg2.extensions.connection,
) -> None:
    script = (
        "-- dagstributor: autocommit\nBEGIN;\nCREATE TABLE inside (id int);\nSELECT 1/0;\nCOMMIT;"
    )
    assert _failure(fresh_connection, script, "begin_fails.sql").sqlstate == "22012"
    # The next file on the same connection runs normally (not 25P02 "transaction is aborted").
    assert run_sql(fresh_connection, "SELECT 1 AS one;").rows == [{"one": 1}]
    assert _scalar(fresh_connection, "SELECT to_regclass('inside')::text") is None


def test_an_autocommit_file_that_ends_inside_begin_fails_and_applies_nothing(
    fresh_connection: psycopg2.extensions.connection,
) -> None:
    script = "-- dagstributor: autocommit\nBEGIN;\nCREATE TABLE never_committed (id int);\n"
    assert "BEGIN without COMMIT" in str(_failure(fresh_connection, script, "no_commit.sql"))
    assert _scalar(fresh_connection, "SELECT to_regclass('never_committed')::text") is None


def test_a_statement_after_a_leading_comment_is_reported_on_its_own_line_with_parameters() -> None:
    text = "-- first a comment\n/* and a block\n   comment */\nSELECT %(n)s;\n-- x\nSELECT 2;"
    statements = split_statements(text, with_placeholders=True)
    assert [s.line for s in statements] == [4, 6]
    assert [s.line for s in split_statements(text.replace("%(n)s", "1"))] == [4, 6]
