"""Step 09 transfer: finished downloads are placed into the library.

select: `downloaded` rows, AT_BATCH_SIZE at a time · decide: the target of each video and
subtitle file from the naming template (`library.plan_placement`, pure); a hostile name freezes
the row with nothing written · act: hardlink or copy through a temporary name and an atomic
rename (`Library.place`) · record: `transferred` with `parent_path` (the library root) and
`target_path` (the item's folder); a download not (yet) visible under AT_DOWNLOAD_DIR, or a
filesystem error that may heal (a full library says `no space left in <root>: need N, free M`),
is retried next run; any other error of one item freezes that item, never the batch · upgrade: a
release the library holds for the same item (`transferred`/`complete`, ONE query per batch) is
replaced: only after the new files are in place are its own files removed (`library.upgrades`),
and its row is rejected `upgraded by <hash>` (step 10 then removes its torrent) · Plex
(PLEX_URL, optional): a partial scan of each folder that received or lost an item; Plex down is
logged, the rows stay `transferred` · report.
"""

import errno
import os
import shutil
from collections.abc import Sequence
from pathlib import Path

import dagster as dg

from automatic_transmission.clients.plex import PlexResource
from automatic_transmission.items import overlaps
from automatic_transmission.library.files import Library, LibrarySettings, NoSpace, list_download
from automatic_transmission.library.naming import UnsafePath
from automatic_transmission.library.placement import Placement, SourceFile, plan_placement
from automatic_transmission.library.upgrades import (
    folder_files,
    remove_replaced,
    replaced_files,
    upgraded_reason,
)
from automatic_transmission.model import MediaRow, Outcome, PipelineStatus, Verdict
from automatic_transmission.pipeline.notices import reached_library, upgraded_by
from automatic_transmission.pipeline.op import step_op
from automatic_transmission.pipeline.report import report_step
from automatic_transmission.pipeline.runner import StepResult, open_store, run_batches
from automatic_transmission.pipeline.step_table import consumed_by
from automatic_transmission.safety import WAITING_FOR_SPACE, gigabytes
from automatic_transmission.settings import PipelineSettings
from automatic_transmission.store.items import REVIVED, revive_for
from automatic_transmission.store.media import MediaStore
from dagstributor_shared.postgres import PostgresResource

# What the library holds of an item: a release placed there, seeding or done.
HELD_STATUSES = (PipelineStatus.TRANSFERRED, PipelineStatus.COMPLETE)

# Errors about the item's own names or shape: retrying cannot help, an operator must look.
PERMANENT_ERRNOS = frozenset({errno.ENAMETOOLONG, errno.ELOOP, errno.EILSEQ})


def item_failure(row: MediaRow, error: Exception) -> Outcome:
    """Any error of one item becomes that item's outcome, never the batch's: a name the item
    itself makes impossible (unsafe, too long, no video) freezes it; a missing download or a
    filesystem error that may heal (disk full, permissions) is retried next run; anything
    unforeseen freezes it with its type, so it is seen and the other items go on."""
    if isinstance(error, UnsafePath):
        return Outcome.freeze(row, f"unsafe path: {error}")
    if isinstance(error, FileNotFoundError):
        return Outcome.retry(row, str(error))
    if isinstance(error, OSError):
        text = f"{type(error).__name__}: {error.strerror or error}"
        if error.errno in PERMANENT_ERRNOS:
            return Outcome.freeze(row, text)
        return Outcome.retry(row, str(error) if isinstance(error, NoSpace) else text)
    if isinstance(error, ValueError):  # no video, a field the template needs is missing
        return Outcome.freeze(row, str(error))
    return Outcome.freeze(row, f"{type(error).__name__}: {error}")


def copy_shortfall(
    library: Library, root: str, files: list[SourceFile], sources: list[str]
) -> str | None:
    """Why the library cannot take these files now (a copy that would not fit: the row waits
    instead of filling the disk), or None. A hardlink (same filesystem) needs no space."""
    try:
        if not library.copy_only and os.stat(library.download_dir).st_dev == os.stat(root).st_dev:
            return None
        free = shutil.disk_usage(root).free
    except OSError:  # a missing library root: placing it reports the problem
        return None
    sizes = {f.path: f.size for f in files}
    needed = sum(sizes.get(source, 0) for source in sources)
    if needed <= free:
        return None
    return (
        f"{WAITING_FOR_SPACE} in the library: {gigabytes(needed - free)} GB missing"
        f" (the copy needs {gigabytes(needed)} GB, {root} has {gigabytes(free)} GB free)"
    )


def transfer(
    row: MediaRow,
    library: Library,
    result: StepResult,
    replaced: Sequence[MediaRow] = (),
) -> list[Outcome]:
    """Place `row`'s download; then, only once it is in place, remove the files the pipeline
    placed for each release it `replaced` (an upgrade) and mark those rows `upgraded by`."""
    if not row.original_path:
        return [Outcome.freeze(row, "original_path is null")]
    try:
        files = list_download(Path(library.download_dir), row.original_path)
        placement = plan_placement(row, files, library.naming, library.roots)
        shortfall = copy_shortfall(library, placement.root, files, [s for s, _ in placement.files])
        if shortfall:
            return [Outcome.retry(row, shortfall)]
        result.count("files copied", library.place(placement))
    except Exception as error:  # one item's error is that item's outcome
        return [item_failure(row, error)]
    result.count("files placed", len(placement.files))
    upgraded = [replace_old(old, row, placement, library, result) for old in replaced]
    placed = Outcome.advance(
        row,
        PipelineStatus.TRANSFERRED,
        parent_path=placement.root,
        target_path=placement.target_path,
    )
    return [placed, *upgraded]


def replace_old(
    old: MediaRow, new: MediaRow, placement: Placement, library: Library, result: StepResult
) -> Outcome:
    """The new file is in place: remove the old release's own files and mark its row (rejected
    `upgraded by <hash>`, so step 10 removes its torrent). A file that cannot be removed now
    is left (logged in the row's reason), never a reason to undo the new placement."""
    reason = upgraded_reason(new.hash)
    if old.parent_path and old.target_path:
        try:
            found = folder_files(old.parent_path, old.target_path)
            paths = replaced_files(old, found, placement, library.naming, library.roots)
            result.count("replaced files removed", remove_replaced(old.parent_path, paths))
        except OSError as error:
            reason += f" (old files left: {type(error).__name__}: {error.strerror or error})"
    return Outcome.reject(old, reason)


def transfer_batch(
    store: MediaStore, rows: Sequence[MediaRow], library: Library, result: StepResult
) -> list[Outcome]:
    """Transfer a batch; the releases the library holds for the same items (ONE query) are
    the ones each row replaces."""
    held = store.related_releases(rows, HELD_STATUSES)
    outcomes: list[Outcome] = []
    for row in rows:
        replaced = [
            old for old in held if old.hash != row.hash and overlaps(old.item_span, row.item_span)
        ]
        result.rows.update((old.hash, old) for old in replaced)
        outcomes += transfer(row, library, result, replaced)
    return outcomes


def run_transfer(
    context: dg.OpExecutionContext,
    postgres: PostgresResource,
    pipeline_settings: PipelineSettings,
    library: LibrarySettings,
    plex: PlexResource,
) -> None:
    shelves = library.library()
    result = StepResult()
    result.count("files placed", 0)
    result.count("files copied", 0)
    result.count("replaced files removed", 0)
    result.count("folders scanned by Plex", 0)
    result.count(REVIVED, 0)
    with open_store(postgres) as store:
        run_batches(
            store,
            consumed_by("transfer"),
            pipeline_settings.rows_per_batch(),
            lambda rows, result: transfer_batch(store, rows, shelves, result),
            result,
            claim=True,  # two runs at once never copy one item twice
        )
        # A download frozen here (no video, an unsafe name): its item is wanted again. A
        # release replaced by an upgrade is not given up: its item is held by the new one.
        result.count(
            REVIVED,
            revive_for(store, result.rows, result.outcomes, lambda o: o.verdict is Verdict.ERRORED),
        )
    scan_in_plex(plex, result, context)
    report_step(context, result, {"naming": dg.MetadataValue.text(shelves.naming.preset)})


def scan_in_plex(plex: PlexResource, result: StepResult, context: dg.OpExecutionContext) -> None:
    """A partial Plex scan of each folder that received an item or lost a replaced one (never raises: Plex down is
    logged by the refresher and the rows stay `transferred`)."""
    refresher = plex.refresher(context.log)
    if refresher is None:
        return
    folders = sorted(
        {str(o.changes["target_path"]) for o in result.outcomes if reached_library(o)}
        | {  # the folder of a replaced release loses its old file
            str(result.rows[o.hash].target_path)
            for o in result.outcomes
            if upgraded_by(o) and o.hash in result.rows and result.rows[o.hash].target_path
        }
    )
    result.count("folders scanned by Plex", len(refresher.refresh_folders(folders).scanned))


transfer_op = step_op("transfer", description="Step 09: finished downloads into the library.")(
    run_transfer
)
