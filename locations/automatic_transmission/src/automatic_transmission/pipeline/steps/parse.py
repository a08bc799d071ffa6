"""Step 03 parse: the release name of every `ingested` row -> its fields, then `parsed`.

select: `ingested` rows, AT_BATCH_SIZE at a time · decide: parse the name, check the fields the
media type requires · record: conditional transitions from `ingested`, one round trip per shape
and batch · report: counts and the table of rows.

Decisions the design left open:
- A multi-episode pack (S01E01-E03) stores its first (lowest) episode in `episode` and its last
  in `last_episode`, a multi-season pack (S01-S03) likewise `season` and `last_season`: the
  item (`item_span`) covers the range.
- season/episode are TV columns: a movie's row stores neither, even if its name had numbers.
- A year outside the column's range (1850-2100) is treated as no year; likewise a season or
  episode number outside `integer` (a hostile `S01E99999999999` would fail the batch's UPDATE).
- A frozen row still gets the fields that were parsed, so an operator sees what was found.
- Rows are processed in batches of AT_BATCH_SIZE, each selected and recorded on its own (the
  batch is committed before the next is read), so a large backlog never sits in memory and a
  failure keeps the batches already done.
"""

import dataclasses
from typing import Any

import dagster as dg

from automatic_transmission.model import (
    MAX_INTEGER,
    UNKNOWN_TYPE_ERROR,
    MediaRow,
    MediaType,
    Outcome,
    PipelineStatus,
    valid_year,
)
from automatic_transmission.parsing import ParsedRelease, parse_release, required_field_error
from automatic_transmission.pipeline.op import step_op
from automatic_transmission.pipeline.report import report_step
from automatic_transmission.pipeline.runner import StepResult, open_store, run_batches
from automatic_transmission.pipeline.step_table import consumed_by
from automatic_transmission.settings import PipelineSettings
from automatic_transmission.store import MediaStore
from dagstributor_shared.postgres import PostgresResource


def first_number(value: int | list[int] | None) -> int | None:
    """One integer for the database: a list (multi-episode/season pack) keeps its lowest.
    A number the `integer` column cannot hold counts as none."""
    if isinstance(value, list):
        value = min(value) if value else None
    return value if value is not None and 0 <= value <= MAX_INTEGER else None


def resolved_media_type(row: MediaRow, parsed: ParsedRelease) -> MediaType:
    """The row's type; only a row whose type is `unknown` takes the parser's."""
    if row.media_type is not MediaType.UNKNOWN:
        return row.media_type
    try:
        return MediaType(parsed.media_type)
    except ValueError:
        return MediaType.UNKNOWN


def last_number(value: int | list[int] | None) -> int | None:
    """The last season/episode a pack covers (S01E01-E03 -> 3); None when it covers one."""
    if not isinstance(value, list) or len(value) < 2:
        return None
    return first_number(max(value))


def parsed_fields(parsed: ParsedRelease, media_type: MediaType) -> dict[str, Any]:
    """The `atp.media` columns parsing fills."""
    tv = media_type.is_tv
    return {
        "media_title": parsed.title or None,
        "release_year": valid_year(parsed.year),
        "season": first_number(parsed.season) if tv else None,
        "episode": first_number(parsed.episode) if tv else None,
        "last_season": last_number(parsed.season) if tv else None,
        "last_episode": last_number(parsed.episode) if tv else None,
        "revision": min(parsed.revision, 32767),
        "resolution": parsed.resolution,
        "video_codec": parsed.video_codec,
        "audio_codec": parsed.audio_codec,
        "upload_type": parsed.upload_type,
        "uploader": parsed.uploader,
    }


def decide_parse(row: MediaRow, parsed: ParsedRelease | None = None) -> Outcome:
    """Advance to `parsed`, or freeze with `media_type is unknown` / `<field> is null; ...`."""
    parsed = parse_release(row.original_title) if parsed is None else parsed
    media_type = resolved_media_type(row, parsed)
    changes = parsed_fields(parsed, media_type)
    if row.media_type is MediaType.UNKNOWN and media_type is not MediaType.UNKNOWN:
        changes["media_type"] = media_type
    if media_type is MediaType.UNKNOWN:
        return Outcome.freeze(row, UNKNOWN_TYPE_ERROR, **changes)
    # Checked on what will be stored (a number out of range counts as missing).
    stored = dataclasses.replace(
        parsed,
        year=changes["release_year"],
        season=changes["season"],
        episode=changes["episode"],
    )
    error = required_field_error(stored, media_type.value)
    if error:
        return Outcome.freeze(row, error, **changes)
    return Outcome.advance(row, PipelineStatus.PARSED, **changes)


def parse_ingested(store: MediaStore, batch_size: int) -> StepResult:
    """Parse every `ingested` row, batch by batch; each batch is one select and one apply."""
    return run_batches(
        store, consumed_by("parse"), batch_size, lambda rows, _: [decide_parse(r) for r in rows]
    )


def run_parse(
    context: dg.OpExecutionContext,
    postgres: PostgresResource,
    pipeline_settings: PipelineSettings,
) -> None:
    with open_store(postgres) as store:
        result = parse_ingested(store, pipeline_settings.rows_per_batch())
    report_step(context, result)


parse_op = step_op("parse", description="Step 03: release names -> fields; ingested -> parsed.")(
    run_parse
)
