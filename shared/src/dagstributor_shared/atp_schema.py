"""Facts about schema `atp` and its backups that both code locations rely on, written once.

The schema location (wiring_schema_tics) creates the tables and backs them up: the functions of
its `sql/bak/00_functions.sql` name each backup `bak.atp_<table>_<YYYYMMDD>` with the tables
`..._metadata` and `..._column_mapping` beside it, and its drop guard wants a verified backup
younger than MAX_BACKUP_AGE. The pipeline location (automatic_transmission) finds those backups by
the same names and fails its `backups_fresh` health check at the same age. The two locations never
import each other, so these facts live here; tests/wiring_schema_tics/test_backups.py checks the
SQL names its backups as `backup_table` says.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

SCHEMA = "atp"
BACKUP_SCHEMA = "bak"
# The tables in dependency order (the order of instantiation and reload), each backed up.
TABLES: tuple[str, ...] = ("media", "training", "prediction", "watchlist")
# A drop needs a verified backup of every table younger than this. A day covers the daily
# workflow (back up, then change the schema the same day) while refusing to drop on the strength
# of last month's backup, which would silently lose everything the pipeline wrote since. The
# health check holds the backups to the same age, so it warns before the guard would refuse.
MAX_BACKUP_AGE = dt.timedelta(hours=24)
METADATA_SUFFIX = "_metadata"
COLUMN_MAPPING_SUFFIX = "_column_mapping"
_DAY_DIGITS = 8  # YYYYMMDD


def backup_table(table: str, day: dt.date, schema: str = SCHEMA) -> str:
    """The name (in schema `bak`) of the backup of `schema.table` made on `day` (UTC)."""
    return f"{schema}_{table}_{day:%Y%m%d}"


def metadata_table(backup: str) -> str:
    """The table beside a backup holding its date, source, creation time and row count."""
    return backup + METADATA_SUFFIX


def column_mapping_table(backup: str) -> str:
    """The table beside a backup mapping its columns to the source's (types, enums)."""
    return backup + COLUMN_MAPPING_SUFFIX


def metadata_table_pattern(tables: Iterable[str] = TABLES, schema: str = SCHEMA) -> str:
    """A regular expression (PostgreSQL's `~` and Python's alike) matching the metadata tables of
    every backup of these tables; the names sort by day, newest last."""
    return f"^{schema}_({'|'.join(tables)})_[0-9]{{{_DAY_DIGITS}}}{METADATA_SUFFIX}$"


def table_of_metadata(name: str, schema: str = SCHEMA) -> str:
    """`media` from `atp_media_20240101_metadata`: the source table a metadata table is of."""
    return name[len(schema) + 1 : -(_DAY_DIGITS + 1 + len(METADATA_SUFFIX))]
