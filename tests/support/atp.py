"""Create the `atp` schema in a test database exactly as the schema location does."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import psycopg2.extensions

from dagstributor_shared.sql import SqlFileResult
from tests.support.database import PgTestServer
from wiring_schema_tics.schema import instantiate


def instantiate_atp(connection: psycopg2.extensions.connection) -> list[SqlFileResult]:
    """Run the location's DDL files 01 -> 02 -> 03 -> 10 on this connection's database."""
    return instantiate(connection)


def create_atp(server: PgTestServer, database: str) -> None:
    """Instantiate schema `atp` in `database` on a connection of its own."""
    with server.connection(database) as connection:
        instantiate_atp(connection)


@contextmanager
def temporary_atp_database(server: PgTestServer) -> Iterator[str]:
    """A fresh database with schema `atp`, dropped afterwards (benchmarks; tests use the
    `atp_database` fixture)."""
    with server.temporary_database() as name:
        create_atp(server, name)
        yield name


# Synthetic rows covering every enum, NULLs, arrays, numerics and distinct timestamps, generated
# server-side (benchmarks and the tests that need volume).
FILL_SQL = """
INSERT INTO atp.media (hash, media_type, media_title, season, episode, release_year,
    pipeline_status, error_status, error_condition, rejection_status, rejection_reason,
    parent_path, target_path, original_title, original_path, original_link, rss_source, uploader,
    imdb_id, tmdb_id, resolution, video_codec, audio_codec, upload_type, created_at, updated_at,
    deleted_at)
SELECT md5(i::text) || left(md5((-i)::text), 8),
       (enum_range(NULL::atp.media_type))[1 + i % 5],
       'Title ' || i, nullif(i % 7, 0), nullif(i % 13, 0), 1900 + i % 120,
       (enum_range(NULL::atp.pipeline_status))[1 + i % 11],
       i % 17 = 0, CASE WHEN i % 17 = 0 THEN 'error ' || i END,
       (enum_range(NULL::atp.rejection_status))[1 + i % 4],
       CASE WHEN i % 4 = 2 THEN 'reason ' || i END,
       '/library/' || i % 50, '/library/' || i % 50 || '/Title ' || i,
       'Title.' || i || '.1080p.WEB.x264-GRP', 'Title.' || i || '.mkv',
       'magnet:?xt=urn:btih:' || md5(i::text),
       (enum_range(NULL::atp.rss_source))[1 + i % 3], 'GRP' || i % 100,
       'tt' || lpad(i::text, 8, '0'), i, '1080p', 'x264', 'aac', 'web',
       timestamptz '2020-01-01 00:00:00+00' + i * interval '1.5 second',
       timestamptz '2020-01-01 00:00:00+00' + i * interval '2.25 second',
       CASE WHEN i % 101 = 0 THEN timestamptz '2024-01-01 00:00:00+00' + i * interval '1 second' END
FROM generate_series(1, :media_rows) AS i;
INSERT INTO atp.training (imdb_id, tmdb_id, label, human_labeled, anomalous, reviewed, media_type,
    media_title, season, episode, release_year, budget, revenue, runtime, origin_country,
    production_companies, production_countries, production_status, original_language,
    spoken_languages, genre, original_media_title, tagline, overview, tmdb_rating, tmdb_votes,
    rt_score, metascore, imdb_rating, imdb_votes, created_at, updated_at)
SELECT 'tt' || lpad(i::text, 8, '0'), i, (enum_range(NULL::atp.label_type))[1 + i % 2],
       i % 2 = 0, i % 31 = 0, i % 3 = 0, (enum_range(NULL::atp.media_type))[1 + i % 5],
       'Title ' || i, (i % 5)::smallint, (i % 9)::smallint, (1900 + i % 120)::smallint,
       i * 1000, i * 3000, 80 + i % 100, '{US,GB}', ARRAY['Studio ' || i % 40, 'Other, Inc.'],
       '{US}', 'Released', 'en', '{en,fr}', '{Drama,Comedy}', 'Original ' || i, 'Tagline ' || i,
       repeat('Overview text. ', 10), (i % 10001) / 1000.0, i % 50000, i % 101, (i * 7) % 101,
       (i % 1001) / 10.0, i % 90000,
       timestamptz '2021-01-01 00:00:00+00' + i * interval '1 second',
       timestamptz '2022-01-01 00:00:00+00' + i * interval '1 second'
FROM generate_series(1, :small_rows) AS i;
INSERT INTO atp.prediction (imdb_id, prediction, probability, cm_value, created_at)
SELECT 'tt' || lpad(i::text, 8, '0'), i % 2, (i % 1000) / 999.0,
       (ARRAY['tp', 'tn', 'fp', 'fn'])[1 + i % 4],
       timestamptz '2023-01-01 00:00:00+00' + i * interval '1 second'
FROM generate_series(1, :small_rows) AS i;
"""


def fill_atp(connection: psycopg2.extensions.connection, media_rows: int, small_rows: int) -> None:
    """Insert `media_rows` synthetic media rows and `small_rows` training and prediction rows."""
    sql_text = FILL_SQL.replace(":media_rows", str(int(media_rows)))
    with connection.cursor() as cursor:
        cursor.execute(sql_text.replace(":small_rows", str(int(small_rows))))
        cursor.execute("ANALYZE")
    connection.commit()
