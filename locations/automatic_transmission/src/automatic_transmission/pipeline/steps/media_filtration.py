"""Step 06 media_filtration: does the household want this `metadata_collected` item, and is this
release the one to take?

select: `metadata_collected` rows AT_BATCH_SIZE at a time, every release of their items (held,
being fetched, waiting) and the training rows of their movies (one query each per batch)
· decide: first the item (`items.choose`: only the best release on the quality ladder that
improves on what is held, and only when nothing of the item is being fetched; the others are
rejected with a reason naming the item and the better release); then TV types and `override`
are accepted without asking anyone; a movie without an imdb_id
is rejected; an `anomalous` training row's stored label decides; every other movie is judged by
reel-driver (when REEL_DRIVER_HOST is set) or by the rules of `media_filtration.yaml`
· act: one predict_batch call per batch, one predict call per item the batch did not score
· record: labels to `training.label` (never human-labelled rows), media rows (one conditional
write each per batch) · report: counts and the table of items.

A probability equal to the threshold passes. A movie the model gives no usable probability (even
asked alone) is frozen with the reason: the same input will not get a better answer by waiting,
and accepting it silently would download what nobody judged. A transient model failure leaves
the row for the next run; a 401/403 fails the step (configuration, not the row's fault).
"""

from collections import Counter
from collections.abc import Mapping, Sequence
from contextlib import closing, nullcontext
from dataclasses import dataclass, replace

import dagster as dg

from automatic_transmission.clients.http import ServiceConfigurationError, ServiceError
from automatic_transmission.clients.reel_driver import Prediction, ReelDriverResource
from automatic_transmission.clients.watchlist import WatchlistResource
from automatic_transmission.filters import FilterSettings, RuleSet
from automatic_transmission.items import Choice, choose
from automatic_transmission.metadata import show_number
from automatic_transmission.model import LabelType, MediaRow, MediaType, Outcome, PipelineStatus
from automatic_transmission.pipeline.op import step_op
from automatic_transmission.pipeline.report import report_step
from automatic_transmission.pipeline.runner import StepResult, StopStep, open_store, run_batches
from automatic_transmission.pipeline.step_table import consumed_by
from automatic_transmission.quality import QualityProfile, load_quality
from automatic_transmission.settings import PipelineSettings
from automatic_transmission.store.training import StoredTitle, TrainingStore
from automatic_transmission.store.watchlist import WatchlistStore
from automatic_transmission.watchlist import WatchedTitle
from dagstributor_shared.postgres import PostgresResource

NO_IMDB_ID = "movie has no imdb_id"
NOT_FOLLOWED = "not followed (AT_TV_FOLLOW=watchlist and the show is not on the watchlist)"
ON_WATCHLIST = "on the watchlist: taken without the model"


@dataclass(frozen=True)
class Judgement:
    """A decided row, and the label to write back to its training row (None: write nothing)."""

    outcome: Outcome
    imdb_id: str | None = None
    label: LabelType | None = None


@dataclass(frozen=True)
class NeedsJudging:
    """A movie only the model (or the rules) can decide."""

    row: MediaRow
    title: StoredTitle


def accept(row: MediaRow, label: LabelType | None = None) -> Judgement:
    return Judgement(Outcome.advance(row, PipelineStatus.MEDIA_ACCEPTED), row.imdb_id, label)


def triage(
    row: MediaRow,
    stored: Mapping[str, StoredTitle],
    followed: WatchedTitle | None = None,
    all_tv: bool = True,
) -> Judgement | NeedsJudging:
    """Everything that is decided without the model or the rules. `followed`: the watchlist
    title the row belongs to; `all_tv`: AT_TV_FOLLOW=all (else only shows on the watchlist)."""
    title = stored.get(row.imdb_id) if row.imdb_id else None
    if row.is_override:
        # The user forced it: they want it. A movie's training row learns that (would_watch).
        label = LabelType.WOULD_WATCH if title and not row.media_type.is_tv else None
        return accept(row, label)
    if row.media_type.is_tv:
        if all_tv or followed is not None:
            return accept(row)  # shows are chosen by subscribing to feeds (or the watchlist)
        return Judgement(Outcome.reject(row, NOT_FOLLOWED))
    if followed is not None:
        # On the watchlist: wanted, whatever the model would say (its training row learns it).
        judgement = accept(row, LabelType.WOULD_WATCH if title else None)
        return replace(judgement, outcome=replace(judgement.outcome, reason=ON_WATCHLIST))
    if not row.imdb_id:
        return Judgement(Outcome.reject(row, NO_IMDB_ID))
    if title is None:
        return Judgement(
            Outcome.freeze(
                row,
                f"no training metadata for {row.imdb_id}; collect metadata again "
                "(set the row back to file_accepted)",
            )
        )
    if title.anomalous and title.label is not None:
        if title.label is LabelType.WOULD_WATCH:
            return accept(row)
        return Judgement(Outcome.reject(row, f"anomalous title labelled {title.label.value}"))
    return NeedsJudging(row, title)


def judge_prediction(
    item: NeedsJudging, answer: Prediction | ServiceError | None, threshold: float
) -> Judgement:
    row, imdb_id = item.row, item.title.record.imdb_id
    if isinstance(answer, ServiceError):
        if answer.transient:
            return Judgement(Outcome.retry(row, str(answer)))
        return Judgement(Outcome.freeze(row, str(answer)))
    if answer is None or answer.probability is None:
        return Judgement(Outcome.freeze(row, f"reel-driver gave no probability for {imdb_id}"))
    p = answer.probability
    if p >= threshold:
        return accept(row, LabelType.WOULD_WATCH)
    return Judgement(
        Outcome.reject(
            row, f"probability {show_number(p)} below threshold {show_number(threshold)}"
        ),
        imdb_id,
        LabelType.WOULD_NOT_WATCH,
    )


def judge_by_rules(item: NeedsJudging, rules: RuleSet) -> Judgement:
    reason = rules.first_failure(MediaType.MOVIE, item.title.record.model_input())
    if reason is None:
        return accept(item.row, LabelType.WOULD_WATCH)
    return Judgement(Outcome.reject(item.row, reason), item.row.imdb_id, LabelType.WOULD_NOT_WATCH)


def labels_of(judgements: Sequence[Judgement]) -> dict[str, LabelType]:
    return {j.imdb_id: j.label for j in judgements if j.imdb_id and j.label is not None}


def judge(
    pending: Sequence[NeedsJudging],
    answers: Mapping[str, Prediction | ServiceError] | None,
    threshold: float,
    rules: RuleSet | None,
) -> list[Judgement]:
    """Model or rules: with `answers` (reel-driver is configured) each movie is judged by its
    prediction, else by the rules."""
    if not pending:
        return []
    if answers is not None:
        return [
            judge_prediction(p, answers.get(p.title.record.imdb_id), threshold) for p in pending
        ]
    assert rules is not None, "neither reel-driver nor rules"
    return [judge_by_rules(p, rules) for p in pending]


def item_outcome(choice: Choice) -> Outcome:
    """A release that is not the one to take: rejected with the reason, or, forced by the user
    while its item is being fetched, left to wait for the next run."""
    assert choice.reason is not None
    if choice.waits:
        return Outcome.retry(choice.row, choice.reason)
    return Outcome.reject(choice.row, choice.reason)


def split_by_item(
    rows: Sequence[MediaRow], related: Sequence[MediaRow], profile: QualityProfile
) -> tuple[list[MediaRow], list[Outcome]]:
    """The rows still to judge (taken for their item, or without an item) and the outcomes of
    the others."""
    choices = choose(rows, related, profile)
    passed_over = [c for c in choices.values() if not c.taken]
    skip = {c.row.hash for c in passed_over}
    return [r for r in rows if r.hash not in skip], [item_outcome(c) for c in passed_over]


LABELS = "labels written"
JUDGED = "movies judged"
PASSED_OVER = "not the release to take"


def run_media_filtration(
    context: dg.OpExecutionContext,
    postgres: PostgresResource,
    pipeline_settings: PipelineSettings,
    filter_settings: FilterSettings,
    reel_driver: ReelDriverResource,
    watchlist: WatchlistResource,
) -> None:
    all_tv = watchlist.follows_all_tv()
    client = reel_driver.client()
    threshold = reel_driver.resolved_threshold()
    rules = filter_settings.media_rules() if client is None else None
    profile = load_quality(filter_settings.rules_dir)
    result = StepResult(figures=Counter({LABELS: 0, JUDGED: 0, PASSED_OVER: 0}))
    with closing(client) if client is not None else nullcontext(), open_store(postgres) as media:
        training = TrainingStore(media.connection, media.schema)
        followed = WatchlistStore(media.connection, media.schema).watchlist()  # one query a run

        def handle(batch: list[MediaRow], result: StepResult) -> list[Outcome]:
            rows, passed_over = split_by_item(batch, media.related_releases(batch), profile)
            result.count(PASSED_OVER, len(passed_over))
            movies = [r.imdb_id for r in rows if r.imdb_id and not r.media_type.is_tv]
            stored = training.titles(movies) if movies else {}
            triaged = [triage(row, stored, followed.match(row), all_tv) for row in rows]
            judgements = [t for t in triaged if isinstance(t, Judgement)]
            pending = [t for t in triaged if isinstance(t, NeedsJudging)]
            result.count(JUDGED, len(pending))
            stop: ServiceConfigurationError | None = None
            answers = None
            if pending and client is not None:
                try:
                    answers = client.predict_all([p.title.record.model_input() for p in pending])
                except ServiceConfigurationError as error:
                    stop, pending = error, []
            judgements += judge(pending, answers, threshold, rules)
            result.count(LABELS, training.write_labels(labels_of(judgements)))
            decided = passed_over + [j.outcome for j in judgements]
            if stop is not None:
                raise StopStep(stop, decided)
            return decided

        run_batches(
            media, consumed_by("media_filtration"), pipeline_settings.rows_per_batch(), handle,
            result,
        )  # fmt: skip
    extra: dict[str, dg.MetadataValue] = {
        "judged by": dg.MetadataValue.text(
            f"reel-driver (threshold {show_number(threshold)})" if client else "rules"
        )
    }
    if client is not None:
        extra["reel-driver requests"] = dg.MetadataValue.int(client.http.stats.requests)
    report_step(context, result, extra)


media_filtration_op = step_op(
    "media_filtration", description="Step 06: is the item wanted? reel-driver or rules."
)(run_media_filtration)
