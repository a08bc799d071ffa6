"""The pipeline's status vocabulary is the database's: every StrEnum matches its PostgreSQL enum."""

from __future__ import annotations

from enum import StrEnum

import psycopg2.extensions
import pytest

from automatic_transmission.model import (
    LabelType,
    MediaType,
    PipelineStatus,
    RejectionStatus,
    RssSource,
)


@pytest.mark.parametrize(
    ("enum", "pg_type"),
    [
        (MediaType, "media_type"),
        (PipelineStatus, "pipeline_status"),
        (RejectionStatus, "rejection_status"),
        (RssSource, "rss_source"),
        (LabelType, "label_type"),
    ],
    ids=lambda value: value if isinstance(value, str) else value.__name__,
)
def test_python_enum_lists_exactly_the_labels_of_the_database_enum(
    atp_connection: psycopg2.extensions.connection, enum: type[StrEnum], pg_type: str
) -> None:
    with atp_connection.cursor() as cursor:
        cursor.execute(
            "SELECT e.enumlabel FROM pg_enum e JOIN pg_type t ON t.oid = e.enumtypid"
            " JOIN pg_namespace n ON n.oid = t.typnamespace"
            " WHERE n.nspname = 'atp' AND t.typname = %s ORDER BY e.enumsortorder",
            (pg_type,),
        )
        labels = [row[0] for row in cursor.fetchall()]
    assert labels == [member.value for member in enum]


def test_only_yts_feeds_are_movie_feeds() -> None:
    assert {s for s in RssSource if s.is_movie_feed} == {
        RssSource.YTS_MX,
        RssSource.YTS_LT,
        RssSource.YTS_AM,
    }
