"""Dagster run metadata built from outside data: tables, cells and numbers as reasons show them.

Low in the package (it knows only Dagster and the scrubber), so the rule files, the operator jobs
and health build their tables the same way the step reports do without importing the pipeline.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import dagster as dg

from dagstributor_shared.scrub import scrub

TABLE_LIMIT = 500  # rows shown in the run's table; counts always cover everything
CELL_CHARS = 200  # a cell longer than this is cut: a hostile title must not bloat the run's events

Cell = str | int | float | bool | None


def cell(value: object) -> str:
    """Text for one table cell or log line built from outside data: secrets scrubbed first,
    then one line, at most CELL_CHARS."""
    text = scrub(str(value if value is not None else "")).replace("\n", " ").replace("\r", " ")
    return text[:CELL_CHARS] + "…" if len(text) > CELL_CHARS else text


def show_number(number: float) -> str:
    """A number as reasons and metadata show it: `1080`, not `1080.0`; `0.35` as it is."""
    return str(int(number)) if float(number).is_integer() else str(number)


def table(columns: Mapping[str, str], rows: Sequence[Mapping[str, Cell]]) -> dg.MetadataValue:
    """A Dagster table: `columns` maps each name to its type (`string`, `int`, `float`, `bool`).
    Every text is a `cell` (scrubbed, one line, cut), so rows may come straight from data."""

    def value(raw: Cell) -> Cell:
        return cell(raw) if isinstance(raw, str) else raw

    schema = dg.TableSchema(columns=[dg.TableColumn(name, kind) for name, kind in columns.items()])
    records = [
        dg.TableRecord({name: value(row.get(name)) for name in columns})
        for row in rows[:TABLE_LIMIT]
    ]
    return dg.MetadataValue.table(records=records, schema=schema)
