"""The limits Python mirrors (automatic_transmission.limits, the hash pattern of
automatic_transmission.torrents) are the ones the DDL gives the template database: a changed
column width or CHECK fails here, not as a batch PostgreSQL refuses."""

from __future__ import annotations

import re

import psycopg2.extensions
import pytest

from automatic_transmission import limits
from automatic_transmission.torrents import HASH_PATTERN

# Width of every bounded text column of the base tables; an array's width is its elements'.
WIDTHS_SQL = """
SELECT c.table_name || '.' || c.column_name, c.character_maximum_length,
       format_type(a.atttypid, a.atttypmod)
FROM information_schema.columns AS c
JOIN information_schema.tables AS t USING (table_schema, table_name)
JOIN pg_attribute AS a
  ON a.attrelid = format('%%I.%%I', c.table_schema, c.table_name)::regclass
 AND a.attname = c.column_name
WHERE c.table_schema = %s AND t.table_type = 'BASE TABLE'
  AND (c.character_maximum_length IS NOT NULL OR c.data_type = 'ARRAY')
"""
CHECKS_SQL = """
SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid)
FROM pg_constraint WHERE contype = 'c' AND connamespace = %s::regnamespace
"""
_ARRAY_WIDTH = re.compile(r"^(?:character varying|character)\((\d+)\)\[\]$")
_REGEX_OPERAND = re.compile(r"~ '((?:[^']|'')*)'")


def database_widths(connection: psycopg2.extensions.connection) -> dict[str, int]:
    with connection.cursor() as cursor:
        cursor.execute(WIDTHS_SQL, ("atp",))
        rows = cursor.fetchall()
    widths: dict[str, int] = {}
    for column, width, type_name in rows:
        if width is not None:
            widths[column] = width
        elif match := _ARRAY_WIDTH.match(type_name):
            widths[column] = int(match.group(1))
    return widths


def checks(connection: psycopg2.extensions.connection, suffix: str) -> dict[str, str]:
    """Table -> definition of the CHECK named `<table>_<suffix>`, for every table that has one."""
    with connection.cursor() as cursor:
        cursor.execute(CHECKS_SQL, ("atp",))
        rows = cursor.fetchall()
    found = {
        table.removeprefix("atp."): text for table, name, text in rows if name.endswith(suffix)
    }
    assert found, f"no CHECK named *{suffix} in schema atp"
    return found


def regex_of(definition: str) -> str:
    match = _REGEX_OPERAND.search(definition)
    assert match, f"no regular expression in {definition!r}"
    return match.group(1).replace("''", "'")


def test_every_bounded_text_column_has_its_width_in_limits(
    atp_connection: psycopg2.extensions.connection,
) -> None:
    widths = database_widths(atp_connection)
    assert len(widths) >= 10  # the query found the tables, not an empty schema
    assert widths == dict(limits.COLUMN_WIDTHS), (
        "the DDL and automatic_transmission/limits.py disagree; change both together"
    )


def test_the_widths_are_the_ones_the_code_cuts_to() -> None:
    from automatic_transmission.parsing import MAX_SHORT, MAX_TITLE, MAX_UPLOADER
    from automatic_transmission.pipeline.steps.metadata_collection import MEDIA_TITLE_MAX

    widths = limits.COLUMN_WIDTHS
    assert (widths["media.media_title"],) * 2 == (MAX_TITLE, MEDIA_TITLE_MAX)
    assert widths["media.uploader"] == MAX_UPLOADER
    assert {MAX_SHORT} == {
        widths[f"media.{c}"] for c in ("resolution", "video_codec", "audio_codec", "upload_type")
    }


def test_the_hash_pattern_is_the_check_of_atp_media(
    atp_connection: psycopg2.extensions.connection,
) -> None:
    found = checks(atp_connection, "_hash_lowercase_hex")
    assert list(found) == ["media"]
    assert regex_of(found["media"]) == HASH_PATTERN.pattern


def test_the_imdb_id_pattern_is_the_check_of_every_table_holding_one(
    atp_connection: psycopg2.extensions.connection,
) -> None:
    found = checks(atp_connection, "_imdb_id_format")
    assert set(found) == {"media", "training", "prediction", "watchlist"}
    assert {regex_of(text) for text in found.values()} == {limits.IMDB_ID_PATTERN.pattern}


def test_the_release_year_range_is_the_check_of_media_and_training(
    atp_connection: psycopg2.extensions.connection,
) -> None:
    found = checks(atp_connection, "_release_year_range")
    assert set(found) == {"media", "training"}
    for text in found.values():
        bounds = [int(n) for n in re.findall(r"\b\d{4}\b", text)]
        assert bounds == [limits.MIN_YEAR, limits.MAX_YEAR], text


@pytest.mark.parametrize(
    ("value", "fits"),
    [("tt0133093", True), ("tt12345678", True), ("tt123456", False), ("nm0133093", False)],
)
def test_the_database_and_python_agree_on_imdb_ids(
    atp_connection: psycopg2.extensions.connection, value: str, fits: bool
) -> None:
    with atp_connection.cursor() as cursor:
        cursor.execute(
            "SELECT %s ~ %s",
            (value, regex_of(checks(atp_connection, "_imdb_id_format")["training"])),
        )
        (database_says,) = cursor.fetchone() or (None,)
    assert (database_says, bool(limits.IMDB_ID_PATTERN.match(value))) == (fits, fits)
