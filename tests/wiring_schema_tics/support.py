"""Helpers of the schema location's tests: seed rows, queries, snapshots, run results."""

from __future__ import annotations

from typing import Any

import dagster as dg
import psycopg2.extensions

# The six jobs the design names: what the location must define in every environment. Written out
# here (not read from `wiring_schema_tics.jobs`) so the tests check the code against the design.
WST_JOB_NAMES = frozenset(
    {
        "test_db_connection_job",
        "wst_atp_bak_job",
        "wst_atp_drop_job",
        "wst_atp_instantiate_job",
        "wst_atp_reload_job",
        "wst_atp_bak_drop_reload_job",
    }
)

# Rows covering every enum, NULLs, arrays, numerics and timestamps unlike now(), so a round trip
# that lost a value, re-cast an enum wrongly or re-stamped a timestamp shows up.
SEED_SQL = """
INSERT INTO atp.media (hash, media_type, media_title, season, episode, release_year,
    pipeline_status, error_status, error_condition, rejection_status, rejection_reason,
    original_title, rss_source, uploader, imdb_id, tmdb_id, resolution, created_at, updated_at,
    deleted_at)
VALUES
    (repeat('a', 40), 'movie', 'Alpha', NULL, NULL, 1999, 'complete', false, NULL, 'accepted',
     NULL, 'Alpha.1999.1080p', 'yts.mx', 'GRP', 'tt0000001', 11, '1080p',
     '2020-01-02 03:04:05.123456+00', '2021-02-03 04:05:06.654321+00', NULL),
    (repeat('b', 40), 'tv_show', 'Beta', 1, 2, 2010, 'rejected', true, 'boom', 'rejected',
     'too small', 'Beta.S01E02', 'episodefeed.com', NULL, NULL, NULL, '720p',
     '2019-05-06 07:08:09+00', '2019-06-07 08:09:10+00', '2019-06-07 08:09:10+00'),
    (repeat('c', 40), 'tv_episode_pack', NULL, 0, NULL, NULL, 'ingested', false, NULL,
     'override', NULL, 'Gamma.Specials', NULL, NULL, NULL, NULL, NULL,
     '2022-12-31 23:59:59+00', '2023-01-01 00:00:00+00', NULL),
    (repeat('d', 40), 'unknown', NULL, NULL, NULL, NULL, 'downloading', false, NULL,
     'unfiltered', NULL, 'Delta', 'yts.lt', NULL, NULL, NULL, NULL,
     '2018-01-01 00:00:00+00', '2018-01-01 00:00:00+00', NULL);
INSERT INTO atp.media (hash, media_type, original_title, original_link, rss_source, indexer,
    seeders, peers, size_bytes, tvdb_id, minimum_ratio, minimum_seed_time, download_volume_factor,
    created_at, updated_at)
VALUES
    (repeat('7', 40), 'tv_show', 'Zeta.S02E03.1080p', 'http://prowlarr:9696/1/download?x=1',
     'torznab', 'http://prowlarr:9696/1/api', 50, 7, 1500000000, 81189, 1.5, 172800, 0.5,
     '2024-01-01 00:00:00+00', '2024-01-02 00:00:00+00');
INSERT INTO atp.media (hash, media_type, media_title, season, last_season, episode, last_episode,
    revision, seeders, tmdb_id, pipeline_status, original_title, created_at, updated_at)
VALUES (repeat('9', 40), 'tv_episode_pack', 'Zeta', 2, NULL, 1, 3, 2, 17, 22, 'downloading',
        'Zeta.S02E01-E03.REPACK', '2017-01-01 00:00:00+00', '2017-01-02 00:00:00+00');
INSERT INTO atp.training (imdb_id, tmdb_id, label, human_labeled, anomalous, reviewed,
    media_type, media_title, season, episode, release_year, budget, revenue, runtime,
    origin_country, production_companies, genre, spoken_languages, tmdb_rating, imdb_rating,
    rt_score, created_at, updated_at)
VALUES
    ('tt0000001', 11, 'would_watch', true, false, true, 'movie', 'Alpha', NULL, NULL, 1999,
     1000000, 5000000, 120, '{US,GB}', '{"Studio A","Studio, B"}', '{drama,comedy}', '{en}',
     7.125, 81.5, 90, '2020-01-02 03:04:05+00', '2020-02-02 03:04:05+00'),
    ('tt00000022', NULL, NULL, false, true, NULL, 'tv_season', 'Beta', 1, NULL, 2010, NULL, NULL,
     NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
     '2021-01-01 00:00:00+00', '2021-01-01 00:00:01+00');
INSERT INTO atp.prediction (imdb_id, prediction, probability, cm_value, created_at)
VALUES ('tt0000001', 1, 0.87654321, 'tp', '2022-03-04 05:06:07+00'),
       ('tt00000022', 0, 0.1, 'tn', '2022-03-05 05:06:07+00');
INSERT INTO atp.watchlist (source, kind, watch_key, imdb_id, tmdb_id, tvdb_id, title, year,
    first_seen, last_seen)
VALUES ('https://rss.plex.tv/abc', 'movie', 'imdb:tt0000001', 'tt0000001', 11, NULL, 'Alpha',
        1999, '2020-01-02 03:04:05.123456+00', '2021-02-03 04:05:06+00'),
       ('watchlist.yaml', 'show', 'title:beta:', NULL, NULL, 81189, 'Beta', NULL,
        '2019-05-06 07:08:09+00', '2019-05-06 07:08:09+00');
"""
# How many rows SEED_SQL puts in each table.
SEEDED_ROWS = {"media": 6, "training": 2, "prediction": 2, "watchlist": 2}
TABLE_KEYS = {
    "media": "hash",
    "training": "imdb_id",
    "prediction": "imdb_id",
    "watchlist": "source, kind, watch_key",
}


def execute(connection: psycopg2.extensions.connection, sql: str, params: Any = None) -> None:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
    connection.commit()


def query(
    connection: psycopg2.extensions.connection, sql: str, params: Any = None
) -> list[tuple[Any, ...]]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    connection.commit()
    return rows


def scalar(connection: psycopg2.extensions.connection, sql: str, params: Any = None) -> Any:
    return query(connection, sql, params)[0][0]


def snapshot(connection: psycopg2.extensions.connection) -> dict[str, list[dict[str, Any]]]:
    """Every row of the tables, full contents, ordered by key (enums as their text)."""
    tables: dict[str, list[dict[str, Any]]] = {}
    for table, key in TABLE_KEYS.items():
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT * FROM atp.{table} ORDER BY {key}")
            names = [c.name for c in cursor.description or ()]
            tables[table] = [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
    connection.commit()
    return tables


def step_metadata(result: dg.ExecuteInProcessResult, step: str) -> dict[str, Any]:
    """The output metadata an op emitted, as plain values."""
    for event in result.events_for_node(step):
        if event.event_type_value == "STEP_OUTPUT":
            metadata = event.event_specific_data.metadata  # type: ignore[union-attr]
            return {key: value.value for key, value in metadata.items()}
    raise AssertionError(f"step {step} emitted no output")


def failure_message(result: dg.ExecuteInProcessResult, step: str) -> str:
    """The error (with its causes) that failed one step."""
    for event in result.get_step_failure_events():
        if event.step_key == step:
            error = event.event_specific_data.error  # type: ignore[union-attr]
            return error.to_string() if error else ""
    raise AssertionError(f"step {step} did not fail")


def executed_steps(result: dg.ExecuteInProcessResult) -> set[str]:
    return {
        e.step_key for e in result.all_events if e.event_type_value == "STEP_START" and e.step_key
    }


def atp_exists(connection: psycopg2.extensions.connection) -> bool:
    sql = "SELECT EXISTS (SELECT FROM pg_namespace WHERE nspname = 'atp')"
    return bool(scalar(connection, sql))
