"""Run `.sql` files against PostgreSQL: parser-split statements, one transaction, per-statement report."""

from __future__ import annotations

import contextlib
import re
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg2
import psycopg2.extensions

# A file opts out of the single transaction with this line (e.g. for CREATE DATABASE or VACUUM).
AUTOCOMMIT_MARKER = re.compile(r"^\s*--\s*dagstributor:\s*autocommit\s*$", re.MULTILINE)


@dataclass(frozen=True)
class Statement:
    number: int  # 1-based position in the file
    line: int  # 1-based line of the statement's first character
    text: str


@dataclass
class StatementResult:
    number: int
    line: int
    command_tag: str
    row_count: int
    duration_s: float
    notices: list[str] = field(default_factory=list)
    rows: list[dict[str, Any]] | None = None


@dataclass
class SqlFileResult:
    source: str
    statements: list[StatementResult]
    duration_s: float

    @property
    def rows(self) -> list[dict[str, Any]]:
        """Rows of the last statement that returned any (the usual 'result' of a script)."""
        for result in reversed(self.statements):
            if result.rows is not None:
                return result.rows
        return []

    def summary(self) -> list[dict[str, Any]]:
        """JSON-friendly per-statement report for run metadata."""
        return [
            {
                "statement": r.number,
                "line": r.line,
                "command_tag": r.command_tag,
                "row_count": r.row_count,
                "duration_ms": round(r.duration_s * 1000, 2),
                "notices": r.notices,
            }
            for r in self.statements
        ]


class SqlExecutionError(RuntimeError):
    """A statement failed; says which file, statement, line and SQLSTATE."""

    def __init__(
        self, source: str, number: int, line: int, sqlstate: str | None, message: str
    ) -> None:
        self.source = source
        self.statement_number = number
        self.line = line
        self.sqlstate = sqlstate
        self.pg_message = message
        super().__init__(
            f"{source}: statement {number} (line {line}) failed"
            f" [SQLSTATE {sqlstate or 'unknown'}]: {message}"
        )


def _line_of(text: str, offset: int) -> int:
    return text.count("\n", 0, offset) + 1


def split_statements(
    sql_text: str, source: str = "<sql>", *, with_placeholders: bool = False
) -> list[Statement]:
    """Split with PostgreSQL's own parser (pglast), so quotes, `$tag$` bodies and comments survive.

    Text with psycopg2 `%(name)s` placeholders is not valid SQL until bound, so it is split by
    PostgreSQL's scanner instead, which knows the same quoting rules but not the grammar.
    """
    import pglast
    from pglast.parser import ParseError

    try:
        slices = pglast.split(sql_text, with_parser=not with_placeholders, only_slices=True)
    except ParseError as error:
        index = error.args[1] if len(error.args) > 1 and isinstance(error.args[1], int) else 0
        raise SqlExecutionError(
            source, 0, _line_of(sql_text, index), "42601", f"cannot parse file: {error.args[0]}"
        ) from None
    return [
        Statement(
            number=i,
            line=_line_of(
                sql_text, _first_token_offset(sql_text, s) if with_placeholders else s.start or 0
            ),
            text=sql_text[s],
        )
        for i, s in enumerate(slices, start=1)
    ]


def _first_token_offset(sql_text: str, piece: slice) -> int:
    """Where a scanner slice's statement starts: the scanner keeps leading comments in the slice
    (the parser does not), and the reported line is that of the statement, not of its comment."""
    from pglast.parser import scan

    start = piece.start or 0
    for token in scan(sql_text[piece]):
        if token.name not in ("SQL_COMMENT", "C_COMMENT"):
            return start + token.start
    return start


def _error_line(statement: Statement, error: psycopg2.Error) -> int:
    """Line of the error inside the file, using the server's character position when it gives one."""
    position = getattr(error.diag, "statement_position", None)
    if position and str(position).isdigit():
        return statement.line + statement.text.count("\n", 0, int(position) - 1)
    return statement.line


def _end_open_transaction(connection: psycopg2.extensions.connection) -> bool:
    """Roll back a transaction an autocommit file opened with BEGIN and did not end (it failed
    or lacked its COMMIT); True when there was one. Left open, it would make every later
    statement on the connection fail, or vanish unreported when the connection closes."""
    if connection.closed:
        return False
    if connection.info.transaction_status == psycopg2.extensions.TRANSACTION_STATUS_IDLE:
        return False
    with connection.cursor() as cursor:
        cursor.execute("ROLLBACK")
    return True


def execute_statements(
    connection: psycopg2.extensions.connection,
    statements: Sequence[Statement],
    *,
    source: str,
    params: Mapping[str, Any] | None = None,
    autocommit: bool = False,
) -> SqlFileResult:
    """Run statements in one transaction (or autocommit), rolling all back on the first failure."""
    results: list[StatementResult] = []
    previous_autocommit = connection.autocommit
    started = time.perf_counter()
    connection.autocommit = autocommit
    try:
        with connection.cursor() as cursor:
            for statement in statements:
                del connection.notices[:]
                t0 = time.perf_counter()
                try:
                    cursor.execute(statement.text, params)
                except psycopg2.Error as error:
                    if autocommit:
                        with contextlib.suppress(psycopg2.Error):
                            _end_open_transaction(connection)
                    else:
                        connection.rollback()
                    message = (error.diag.message_primary or str(error)).strip()
                    raise SqlExecutionError(
                        source,
                        statement.number,
                        _error_line(statement, error),
                        error.pgcode,
                        message,
                    ) from error
                rows: list[dict[str, Any]] | None = None
                if cursor.description is not None:
                    names = [column.name for column in cursor.description]
                    rows = [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
                results.append(
                    StatementResult(
                        number=statement.number,
                        line=statement.line,
                        command_tag=cursor.statusmessage or "",
                        row_count=cursor.rowcount,
                        duration_s=time.perf_counter() - t0,
                        notices=[n.strip() for n in connection.notices],
                        rows=rows,
                    )
                )
        if not autocommit:
            connection.commit()
        elif statements and _end_open_transaction(connection):
            last = statements[-1]
            raise SqlExecutionError(
                source,
                last.number,
                last.line,
                "25001",
                "the file ends inside a transaction block (BEGIN without COMMIT); rolled back",
            )
    except BaseException:
        if not connection.closed:
            if autocommit:
                with contextlib.suppress(psycopg2.Error):
                    _end_open_transaction(connection)
            else:
                connection.rollback()
        raise
    finally:
        if not connection.closed:
            connection.autocommit = previous_autocommit
    return SqlFileResult(
        source=source, statements=results, duration_s=time.perf_counter() - started
    )


def run_sql(
    connection: psycopg2.extensions.connection,
    sql_text: str,
    *,
    source: str = "<inline sql>",
    params: Mapping[str, Any] | None = None,
    autocommit: bool | None = None,
) -> SqlFileResult:
    """Run a script; `autocommit=None` means: as the script's own marker line says."""
    if autocommit is None:
        autocommit = bool(AUTOCOMMIT_MARKER.search(sql_text))
    statements = split_statements(sql_text, source, with_placeholders=params is not None)
    return execute_statements(
        connection, statements, source=source, params=params, autocommit=autocommit
    )


def run_sql_file(
    connection: psycopg2.extensions.connection,
    path: Path,
    *,
    params: Mapping[str, Any] | None = None,
    autocommit: bool | None = None,
) -> SqlFileResult:
    return run_sql(
        connection, path.read_text(), source=str(path), params=params, autocommit=autocommit
    )
