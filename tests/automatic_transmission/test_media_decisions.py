"""Step 06's decisions as tables: triage, then model or rules. Pure: no database, HTTP or Dagster."""

from __future__ import annotations

from typing import Any

import pytest

from automatic_transmission.clients.http import (
    LastingServiceError,
    ServiceError,
    TransientServiceError,
)
from automatic_transmission.clients.reel_driver import Prediction
from automatic_transmission.filters import FieldRule, RuleSet
from automatic_transmission.model import (
    LabelType,
    MediaRow,
    MediaType,
    PipelineStatus,
    RejectionStatus,
    TrainingRecord,
    Verdict,
)
from automatic_transmission.pipeline.steps.media_filtration import (
    NO_IMDB_ID,
    Judgement,
    NeedsJudging,
    judge,
    labels_of,
    triage,
)
from automatic_transmission.store.training import StoredTitle
from tests.support.steps import media_row

IMDB = "tt0000001"


def row(media_type: MediaType = MediaType.MOVIE, **kw: Any) -> MediaRow:
    return media_row(PipelineStatus.METADATA_COLLECTED, media_type, **{"imdb_id": IMDB, **kw})


def stored(label: LabelType | None = None, anomalous: bool = False, **kw: Any) -> StoredTitle:
    values: dict[str, Any] = {
        "imdb_id": IMDB,
        "media_type": MediaType.MOVIE,
        "media_title": "Film",
        "release_year": 2020,
        "imdb_rating": 70.0,
        "genre": ("Drama",),
        **kw,
    }
    return StoredTitle(TrainingRecord(**values), label, False, anomalous)


OVERRIDE = RejectionStatus.OVERRIDE
WATCH, NOT_WATCH = LabelType.WOULD_WATCH, LabelType.WOULD_NOT_WATCH

# (row, stored title or None) -> verdict, label written back; None: the model or rules decide.
TRIAGE = [
    ("override movie with training row", row(rejection_status=OVERRIDE), stored(), Verdict.ADVANCED, WATCH),
    ("override movie without training row", row(rejection_status=OVERRIDE), None, Verdict.ADVANCED, None),
    ("override show", row(MediaType.TV_SHOW, rejection_status=OVERRIDE), stored(), Verdict.ADVANCED, None),
    ("tv season", row(MediaType.TV_SEASON), None, Verdict.ADVANCED, None),
    ("movie without imdb_id", row(imdb_id=None), None, Verdict.REJECTED, None),
    ("movie without training row", row(), None, Verdict.ERRORED, None),
    ("anomalous, labelled would_watch", row(), stored(WATCH, anomalous=True), Verdict.ADVANCED, None),
    ("anomalous, labelled would_not_watch", row(), stored(NOT_WATCH, anomalous=True), Verdict.REJECTED, None),
    ("anomalous without label", row(), stored(anomalous=True), None, None),
    ("labelled but not anomalous", row(), stored(NOT_WATCH), None, None),
]  # fmt: skip


@pytest.mark.parametrize(
    ("case", "media", "title", "verdict", "label"), TRIAGE, ids=[c[0] for c in TRIAGE]
)
def test_triage_decides_everything_the_model_is_not_needed_for(
    case: str,
    media: MediaRow,
    title: StoredTitle | None,
    verdict: Verdict | None,
    label: LabelType | None,
) -> None:
    decided = triage(media, {IMDB: title} if title else {})
    if verdict is None:
        assert isinstance(decided, NeedsJudging)
        return
    assert isinstance(decided, Judgement)
    assert (decided.outcome.verdict, decided.label) == (verdict, label)
    if media.imdb_id is None:
        assert decided.outcome.reason == NO_IMDB_ID


def pending(**kw: Any) -> NeedsJudging:
    return NeedsJudging(row(), stored(**kw))


TRANSIENT = TransientServiceError("reel-driver", "POST", "timed out")
LASTING = LastingServiceError("reel-driver", "POST", "HTTP 422")

# The model's answer -> verdict, label written, reason.
BY_MODEL: list[tuple[str, Prediction | ServiceError | None, Verdict, LabelType | None, str | None]] = [
    ("above the threshold", Prediction(IMDB, 0.9), Verdict.ADVANCED, WATCH, None),
    ("equal to the threshold passes", Prediction(IMDB, 0.35), Verdict.ADVANCED, WATCH, None),
    ("below the threshold", Prediction(IMDB, 0.2), Verdict.REJECTED, NOT_WATCH, "probability 0.2 below threshold 0.35"),
    ("no probability", Prediction(IMDB, None), Verdict.ERRORED, None, f"reel-driver gave no probability for {IMDB}"),
    ("no answer for the item", None, Verdict.ERRORED, None, None),
    ("transient failure", TRANSIENT, Verdict.RETRY, None, str(TRANSIENT)),
    ("lasting failure", LASTING, Verdict.ERRORED, None, str(LASTING)),
]  # fmt: skip


@pytest.mark.parametrize(
    ("case", "answer", "verdict", "label", "reason"), BY_MODEL, ids=[c[0] for c in BY_MODEL]
)
def test_with_the_model_each_movie_is_judged_by_its_probability(
    case: str,
    answer: Prediction | ServiceError | None,
    verdict: Verdict,
    label: LabelType | None,
    reason: str | None,
) -> None:
    answers = {} if answer is None else {IMDB: answer}
    [judged] = judge([pending()], answers, 0.35, rules=None)
    assert (judged.outcome.verdict, judged.label) == (verdict, label)
    if reason is not None:
        assert judged.outcome.reason == reason
    assert labels_of([judged]) == ({IMDB: label} if label else {})


RULES = RuleSet(
    "media_filtration.yaml",
    {MediaType.MOVIE: (FieldRule("imdb_rating", min=60), FieldRule("genre", excluded_values=("Horror",)))},
)  # fmt: skip

BY_RULES = [
    ("every rule passes", {}, Verdict.ADVANCED, WATCH, None),
    ("below a min", {"imdb_rating": 50.0}, Verdict.REJECTED, NOT_WATCH, "imdb_rating 50 is below min 60"),
    ("an excluded value", {"genre": ("Drama", "Horror")}, Verdict.REJECTED, NOT_WATCH, "genre Horror is in excluded_values"),
    ("a missing value", {"imdb_rating": None}, Verdict.REJECTED, NOT_WATCH, "imdb_rating is null"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("case", "metadata", "verdict", "label", "reason"), BY_RULES, ids=[c[0] for c in BY_RULES]
)
def test_without_the_model_the_first_failing_rule_decides(
    case: str,
    metadata: dict[str, Any],
    verdict: Verdict,
    label: LabelType,
    reason: str | None,
) -> None:
    [judged] = judge([pending(**metadata)], None, 0.35, RULES)
    assert (judged.outcome.verdict, judged.label, judged.outcome.reason) == (verdict, label, reason)


def test_answers_mean_the_model_judges_even_when_rules_are_given() -> None:
    [judged] = judge([pending(imdb_rating=10.0)], {IMDB: Prediction(IMDB, 0.9)}, 0.35, RULES)
    assert judged.outcome.verdict is Verdict.ADVANCED


def test_nothing_pending_needs_neither_model_nor_rules() -> None:
    assert judge([], None, 0.35, None) == []
