"""What a step's outcomes tell the household: items in the library, frozen rows, hung rejections.

The step runner calls `notify_outcomes(notifier, outcomes, rows)` after it recorded the outcomes.
Each item that reached the library is one message (title, year or SxxEyy, where it went); the rows
frozen in error and the rows rejected as hung in one call are one message each, listing them, so a
bad run does not flood a phone. Outcomes that were not written (retried later, moved on) say nothing.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from automatic_transmission.model import (
    HUNG_REASON,
    UPGRADED_PREFIX,
    MediaRow,
    Outcome,
    PipelineStatus,
    Verdict,
)
from dagstributor_shared.notify import Notifier

LISTED_ITEMS = 20  # a digest names this many rows, then counts the rest
RETRY_HINT = "Fix the cause, then run at_retry_errored_job (by hash, by error text or all)."


def episode_code(season: int | None, episode: int | None) -> str:
    if season is None:
        return ""
    return f"S{season:02d}" + (f"E{episode:02d}" if episode is not None else "")


def item_label(
    title: str | None,
    *,
    year: int | None = None,
    season: int | None = None,
    episode: int | None = None,
    fallback: str = "",
) -> str:
    """`Blade Runner (1982)`, `Severance S02E05`, or the release name when nothing was parsed."""
    name = title or fallback
    code = episode_code(season, episode)
    if code:
        return f"{name} {code}"
    return f"{name} ({year})" if year else name


def _changed(outcome: Outcome, row: MediaRow | None, column: str) -> object:
    """A column's value after the outcome: what it wrote, else what the row had."""
    if column in outcome.changes:
        return outcome.changes[column]
    return getattr(row, column, None) if row is not None else None


def outcome_label(outcome: Outcome, row: MediaRow | None) -> str:
    def number(column: str) -> int | None:
        value = _changed(outcome, row, column)
        return int(value) if isinstance(value, int) else None

    title = _changed(outcome, row, "media_title")
    return item_label(
        str(title) if title else None,
        year=number("release_year"),
        season=number("season"),
        episode=number("episode"),
        fallback=outcome.title or (row.original_title if row else "") or outcome.hash,
    )


def reached_library(outcome: Outcome) -> bool:
    return outcome.verdict is Verdict.ADVANCED and outcome.to_status is PipelineStatus.TRANSFERRED


def upgraded_by(outcome: Outcome) -> str | None:
    """The hash of the release that replaced this outcome's row in the library, if it did."""
    reason = outcome.reason or ""
    if outcome.verdict is Verdict.REJECTED and reason.startswith(UPGRADED_PREFIX + " "):
        return reason.removeprefix(UPGRADED_PREFIX + " ").split(" ")[0]
    return None


def hung(outcome: Outcome) -> bool:
    return outcome.verdict is Verdict.REJECTED and outcome.reason == HUNG_REASON


def _digest(title: str, outcomes: Sequence[Outcome], rows: Mapping[str, MediaRow]) -> str:
    lines = [
        f"- {outcome_label(o, rows.get(o.hash))} ({o.hash[:12]}): {o.reason or ''}".rstrip(": ")
        for o in outcomes[:LISTED_ITEMS]
    ]
    if len(outcomes) > LISTED_ITEMS:
        lines.append(f"… and {len(outcomes) - LISTED_ITEMS} more")
    return "\n".join([title, *lines])


def outcome_messages(
    outcomes: Sequence[Outcome], rows: Mapping[str, MediaRow] | None = None
) -> list[tuple[str, str]]:
    """(title, body) of every message these outcomes call for, in a fixed order."""
    rows = rows or {}
    messages: list[tuple[str, str]] = []
    replaced = {by: o.hash for o in outcomes if (by := upgraded_by(o))}
    for outcome in filter(reached_library, outcomes):
        label = outcome_label(outcome, rows.get(outcome.hash))
        where = _changed(outcome, rows.get(outcome.hash), "target_path") or _changed(
            outcome, rows.get(outcome.hash), "parent_path"
        )
        old = replaced.get(outcome.hash)
        if old is not None:
            body = f"{label} upgraded in the library (replaces {old[:12]})" + (
                f": {where}" if where else "."
            )
            messages.append((f"Dagstributor: {label} upgraded", body))
            continue
        body = f"{label} reached the library" + (f": {where}" if where else ".")
        messages.append((f"Dagstributor: {label} is in the library", body))
    frozen = [o for o in outcomes if o.verdict is Verdict.ERRORED]
    if frozen:
        count = f"{len(frozen)} item{'s' if len(frozen) != 1 else ''}"
        body = _digest(f"{count} frozen in error:", frozen, rows) + "\n" + RETRY_HINT
        messages.append((f"Dagstributor: {count} frozen in error", body))
    hung_rows = [o for o in outcomes if hung(o)]
    if hung_rows:
        count = f"{len(hung_rows)} item{'s' if len(hung_rows) != 1 else ''}"
        body = _digest(f"{count} rejected as hung (no progress in time):", hung_rows, rows)
        messages.append((f"Dagstributor: {count} rejected as hung", body))
    return messages


def notify_outcomes(
    notifier: Notifier,
    outcomes: Sequence[Outcome],
    rows: Mapping[str, MediaRow] | None = None,
) -> int:
    """Send what these recorded outcomes call for; returns the messages delivered. Never raises.

    `rows` (the rows the step read, by hash) adds the parsed title, year or SxxEyy and paths an
    outcome did not write itself.
    """
    if not notifier.enabled:
        return 0
    return sum(notifier.send(title, body) for title, body in outcome_messages(outcomes, rows))
