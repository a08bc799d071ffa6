"""The step runner: the one shape of every pipeline step, and its one result type.

A step that works on rows of `atp.media` is, batch after batch:

1. **select** one batch: `MediaStore.batches(status, size)` yields `size` rows in `status` (ONE
   query per batch; frozen and soft-deleted rows are never selected; each select continues after
   the last row of the previous batch, so a row left for the next run never holds others back).
2. **decide** (pure, no I/O): a function of the rows (and what the step fetched or configured)
   returning one `model.Outcome` per row: `Outcome.advance(row, to_status, **columns)`,
   `Outcome.reject(row, reason)`, `Outcome.freeze(row, error)` (about the item: an operator must
   look), `Outcome.retry(row, reason)` (transient: the row stays as it is, the next run tries
   again). Decide functions are tested with tables of rows, without a database.
3. **act** (optional): the step's outside calls (HTTP services, Transmission, files), made inside
   the step's `handle` function. A failure that concerns every row (a configuration error such as
   HTTP 401) is raised as `StopStep(cause, decided_so_far)`: the outcomes decided before it are
   still applied, then the run stops and is reported red.
4. **apply**: `MediaStore.apply(outcomes)` writes the batch as batched conditional transitions
   (one UPDATE per shape, committed): a row is only written if it still has the status the step
   read; a row that moved on meanwhile is reported `moved on`, never overwritten.
5. **collect**: `StepResult` gathers the recorded outcomes, the number of batches and the step's
   own named figures (`result.count("labels written", n)`).
6. **report**: `report_step(context, result)` attaches the counts per verdict, the figures and
   the table of touched items as Dagster table metadata (`dg.MetadataValue.table` with a
   `dg.TableSchema`), and notifies what the recorded outcomes call for (an item in the library,
   rows frozen in error, rows rejected as hung: `notices.notify_outcomes` through the `notifier`
   resource every `step_op` requires; never failing the step); the run is red when every row
   had to retry or when a `StopStep` stopped it.

A new step therefore is a `handle(rows, result) -> outcomes` (decide, plus act when it calls
out), and an op body of a few lines::

    def run_my_step(context, postgres, pipeline_settings):
        with open_store(postgres) as store:
            result = run_batches(store, PipelineStatus.X, pipeline_settings.rows_per_batch(),
                                 lambda rows, _: [decide(row) for row in rows])
        report_step(context, result)

Steps that do not start from `atp.media` rows (01 reads feeds, 02 reads Transmission) produce
the same `StepResult` and report it the same way. A step that reads several outside sources (01's
feeds) keeps one `SourceRow` per source in `result.sources`: the report shows them as a second
table with a total per figure, and the run is red when every source failed.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field

from automatic_transmission.model import MediaRow, Outcome, PipelineStatus, Verdict
from automatic_transmission.store.media import Claim, MediaStore
from dagstributor_shared.postgres import PostgresResource

CLAIMED_ELSEWHERE = "claimed by another run"


class StopStep(Exception):
    """A failure that concerns every row (e.g. a rejected API key): the outcomes decided before
    it are applied, the remaining rows are left untouched, and the run is reported red."""

    def __init__(
        self, cause: Exception, decided: Sequence[Outcome] = (), kind: str | None = None
    ) -> None:
        super().__init__(str(cause))
        self.cause = cause
        self.decided = list(decided)
        # How the report names it: the cause's own `kind` (e.g. "Transmission unreachable")
        # when it has one, else a configuration error (a rejected key).
        self.kind = kind or str(getattr(cause, "kind", "configuration error"))


@dataclass
class SourceRow:
    """One outside source a step read in a run (a feed): its name, its figures, its error."""

    name: str
    figures: Counter[str] = field(default_factory=Counter)
    error: str | None = None

    @property
    def status(self) -> str:
        return f"failed: {self.error}" if self.error else "ok"


@dataclass
class Sources:
    """The sources of one run: `kind` names one of them (`feed`: the table's first column, and
    `feeds` its metadata key), `figures` the counts kept per source, in column order."""

    kind: str
    figures: tuple[str, ...]
    rows: list[SourceRow] = field(default_factory=list)

    def add(self, name: str) -> SourceRow:
        row = SourceRow(name, Counter(dict.fromkeys(self.figures, 0)))
        self.rows.append(row)
        return row

    @property
    def all_failed(self) -> bool:
        return bool(self.rows) and all(row.error for row in self.rows)


@dataclass
class StepResult:
    """What one run of a step did: every outcome as recorded, batches, the step's own figures."""

    outcomes: list[Outcome] = field(default_factory=list)
    rows: dict[str, MediaRow] = field(default_factory=dict)  # the rows read, by hash
    batches: int = 0
    figures: Counter[str] = field(default_factory=Counter)
    stopped_by: Exception | None = None
    stop_kind: str = "configuration error"
    sources: Sources | None = None

    def count(self, figure: str, amount: int = 1) -> None:
        """Add to one of the step's named figures (shown as run metadata, 0 included)."""
        self.figures[figure] += amount

    def verdicts(self) -> Counter[Verdict]:
        return Counter(o.verdict for o in self.outcomes)

    @property
    def all_retried(self) -> bool:
        return bool(self.outcomes) and all(o.verdict is Verdict.RETRY for o in self.outcomes)


Handle = Callable[[list[MediaRow], StepResult], Sequence[Outcome]]


@contextmanager
def open_store(postgres: PostgresResource) -> Iterator[MediaStore]:
    """A MediaStore on a new connection to the configured database, closed afterwards."""
    with postgres.connect() as connection:
        yield MediaStore(connection, postgres.settings().schema)


def record(store: MediaStore, result: StepResult, decided: Sequence[Outcome]) -> None:
    """Apply one batch's outcomes and collect them as they ended up."""
    result.outcomes += store.apply(decided).recorded(decided)


def run_batches(
    store: MediaStore,
    status: PipelineStatus,
    batch_size: int,
    handle: Handle,
    result: StepResult | None = None,
    *,
    claim: bool = False,
) -> StepResult:
    """Select → handle (decide, act) → apply → collect, batch after batch, until no row in
    `status` is left or `handle` raises `StopStep`. Each batch is committed before the next one
    is read, so a failure keeps the batches already done. With `claim` (steps whose acts must
    not happen twice: adding a torrent, copying a file) each batch's rows are claimed first
    (`MediaStore.claim`): rows another run holds or that moved on meanwhile are left to it,
    counted as `claimed by another run`, and the claims end after the batch is recorded."""
    result = result if result is not None else StepResult()
    for rows in store.batches(status, batch_size):
        result.batches += 1
        claimed = store.claim(rows, status) if claim else Claim(mine=rows)
        if claim:
            result.count(CLAIMED_ELSEWHERE, len(rows) - len(claimed.mine))
        try:
            if not claimed.mine:
                continue
            result.rows.update((row.hash, row) for row in claimed.mine)
            try:
                decided = handle(claimed.mine, result)
            except StopStep as stop:
                record(store, result, stop.decided)
                result.stopped_by = stop.cause
                result.stop_kind = stop.kind
                break
            record(store, result, decided)
        finally:
            store.release(claimed)
    return result
