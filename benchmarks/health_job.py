"""The health job (`at_media_pipeline_health_job`: the media_pipeline asset and its four checks)
launched as the Launchpad launches it, with the job's own executor, against a fresh `atp`
database: seconds from launch to the end of the run. `--compare` also times the same selection
on Dagster's default multiprocess executor (a process per step), which is what it used to be.

    uv run python benchmarks/health_job.py [--runs 3] [--compare]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

import dagster as dg  # noqa: E402

from automatic_transmission.health.asset import HEALTH_JOB_NAME  # noqa: E402
from tests.support.atp import temporary_atp_database  # noqa: E402
from tests.support.database import open_test_server  # noqa: E402

MULTIPROCESS_JOB = "health_job_on_multiprocess_executor"


def health_job() -> dg.JobDefinition:
    """The job exactly as the location defines it (module level: reconstructable)."""
    from automatic_transmission.definitions import defs

    return defs.resolve_job_def(HEALTH_JOB_NAME)


def health_job_multiprocess() -> dg.JobDefinition:
    """The same selection on Dagster's default executor, for --compare."""
    from automatic_transmission.definitions import defs
    from automatic_transmission.health.asset import ASSET_KEY

    job = dg.define_asset_job(
        MULTIPROCESS_JOB,
        selection=dg.AssetSelection.assets(ASSET_KEY),
        executor_def=dg.multiprocess_executor,
    )
    with_job = dg.Definitions.merge(defs, dg.Definitions(jobs=[job]))
    return with_job.resolve_job_def(MULTIPROCESS_JOB)


def time_runs(target: object, runs: int, instance: dg.DagsterInstance) -> list[float]:
    seconds = []
    for _ in range(runs):
        started = time.perf_counter()
        with dg.execute_job(dg.reconstructable(target), instance=instance) as result:  # type: ignore[arg-type]
            if not result.success:
                raise SystemExit(f"the run failed: {result.run_id}")
        seconds.append(time.perf_counter() - started)
    return seconds


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--compare", action="store_true", help="also time a process per step")
    options = parser.parse_args()
    with open_test_server() as server, temporary_atp_database(server) as database:
        s = server.settings
        os.environ.update({"AT_PGSQL_HOST": s.host, "AT_PGSQL_PORT": str(s.port),
                           "AT_PGSQL_DATABASE": database, "AT_PGSQL_USERNAME": s.username})  # fmt: skip
        if s.password:
            os.environ["AT_PGSQL_PASSWORD"] = s.password
        os.environ.pop("AT_NOTIFY_URLS", None)  # nothing leaves the machine
        targets = [("in-process (the job as defined)", health_job)]
        if options.compare:
            targets.append(("multiprocess (a process per step)", health_job_multiprocess))
        with tempfile.TemporaryDirectory() as home:
            instance = dg.DagsterInstance.local_temp(home)
            for label, target in targets:
                seconds = time_runs(target, options.runs, instance)
                print(f"{HEALTH_JOB_NAME} {label}: median {statistics.median(seconds):.1f} s "
                      f"over {len(seconds)} runs (each: "
                      f"{', '.join(f'{x:.1f}' for x in seconds)})")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
