"""The names of schema `atp`'s backups (dagstributor_shared.atp_schema), as the schema location's
SQL writes them and the pipeline's health check reads them."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from dagstributor_shared import atp_schema

DAY = dt.date(2024, 1, 2)


def test_a_backup_is_named_by_schema_table_and_day() -> None:
    backup = atp_schema.backup_table("media", DAY)
    assert backup == "atp_media_20240102"
    assert atp_schema.metadata_table(backup) == "atp_media_20240102_metadata"
    assert atp_schema.column_mapping_table(backup) == "atp_media_20240102_column_mapping"


@pytest.mark.parametrize("table", atp_schema.TABLES)
def test_the_metadata_pattern_finds_every_backed_up_table_and_names_it(table: str) -> None:
    name = atp_schema.metadata_table(atp_schema.backup_table(table, DAY))
    assert re.match(atp_schema.metadata_table_pattern(), name)
    assert atp_schema.table_of_metadata(name) == table


@pytest.mark.parametrize(
    "name",
    [
        "atp_media_20240102",  # the backup itself
        "atp_media_20240102_column_mapping",
        "atp_media_2024010_metadata",  # seven digits
        "atp_items_20240102_metadata",  # a table not asked for
        "other_media_20240102_metadata",
    ],
)
def test_the_metadata_pattern_finds_nothing_else(name: str) -> None:
    assert not re.match(atp_schema.metadata_table_pattern(), name)


def test_the_pattern_is_limited_to_the_tables_and_schema_given() -> None:
    pattern = atp_schema.metadata_table_pattern(["training"], schema="x")
    assert re.match(pattern, "x_training_20240102_metadata")
    assert not re.match(pattern, "x_media_20240102_metadata")
    assert atp_schema.table_of_metadata("x_training_20240102_metadata", schema="x") == "training"


def test_the_backup_age_limit_is_a_day() -> None:
    assert dt.timedelta(hours=24) == atp_schema.MAX_BACKUP_AGE
