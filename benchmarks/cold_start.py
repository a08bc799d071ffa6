"""Cold start of each code location: `import <package>.definitions` in a fresh interpreter, as a
ratio to `import dagster` alone (what every location pays anyway). Target: at most 1.3x.

Run from the repo root: ``uv run python benchmarks/cold_start.py [--runs 7] [--explain]``.

Every measurement is a new `python -c "import ..."` process with ENVIRONMENT=prod; the targets
are measured interleaved (one of each per round, the order rotating), so load on the machine
hits all of them alike, and the median of the rounds is reported. `--explain` (or a location over
the target) prints, from `python -X importtime`, what the location imports beyond dagster and
what that costs. Exit code 1 when a location is over the target.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
BASELINE = "dagster"
EMPTY = "python"
TARGETS: dict[str, str] = {
    EMPTY: "pass",
    BASELINE: "import dagster",
    "automatic_transmission": "import automatic_transmission.definitions",
    "wiring_schema_tics": "import wiring_schema_tics.definitions",
}
LOCATIONS = ("automatic_transmission", "wiring_schema_tics")
MARK = "--- dagster imported ---"


def environment() -> dict[str, str]:
    env = dict(os.environ)
    env["ENVIRONMENT"] = "prod"
    env.pop("PYTHONPROFILEIMPORTTIME", None)
    return env


@dataclass(frozen=True)
class Sample:
    wall: float  # the whole process, start to exit: what a code server or run pod pays
    cpu: float  # user + system CPU of the process: barely moved by other load on the machine
    inner: float  # the import statement alone, timed inside the process


def timed(code: str) -> str:
    """`code` timed by the interpreter itself (excludes interpreter start and exit)."""
    return f"import time as _t; _s = _t.perf_counter()\n{code}\nprint(_t.perf_counter() - _s)"


def time_once(code: str, env: Mapping[str, str]) -> Sample:
    """One fresh interpreter running `code` (it must succeed)."""
    start = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, "-c", timed(code)],
        cwd=REPO_ROOT,
        env=dict(env),
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    assert process.stdout is not None
    output = process.stdout.read()
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - start
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        raise RuntimeError(f"{code!r} failed with exit code {process.returncode}")
    return Sample(wall, usage.ru_utime + usage.ru_stime, float(output.split()[-1]))


def measure(runs: int, targets: Mapping[str, str] = TARGETS) -> dict[str, list[Sample]]:
    """`runs` rounds of every target (after one warm-up round), interleaved, order rotating."""
    env = environment()
    names = list(targets)
    for name in names:  # warm-up: byte-code compiled, files in the page cache
        time_once(targets[name], env)
    samples: dict[str, list[Sample]] = {name: [] for name in names}
    for round_number in range(runs):
        shift = round_number % len(names)
        for name in names[shift:] + names[:shift]:
            samples[name].append(time_once(targets[name], env))
    return samples


@dataclass(frozen=True)
class Result:
    name: str
    wall: float  # medians, seconds
    cpu: float
    inner: float
    wall_range: tuple[float, float]
    ratio: float  # wall, to `import dagster`: the figure the target is about
    cpu_ratio: float
    inner_ratio: float


def summarize(samples: Mapping[str, list[Sample]]) -> list[Result]:
    def median(name: str, metric: str) -> float:
        return statistics.median(getattr(sample, metric) for sample in samples[name])

    base = {metric: median(BASELINE, metric) for metric in ("wall", "cpu", "inner")}
    results = []
    for name, values in samples.items():
        walls = [sample.wall for sample in values]
        wall, cpu, inner = (median(name, metric) for metric in ("wall", "cpu", "inner"))
        results.append(
            Result(
                name=name,
                wall=wall,
                cpu=cpu,
                inner=inner,
                wall_range=(min(walls), max(walls)),
                ratio=wall / base["wall"],
                cpu_ratio=cpu / base["cpu"],
                inner_ratio=inner / base["inner"] if base["inner"] else 0.0,
            )
        )
    return results


@dataclass(frozen=True)
class ImportCost:
    module: str
    self_us: int
    cumulative_us: int
    depth: int


def extra_imports(module: str) -> list[ImportCost]:
    """What `import <module>` imports beyond `import dagster`, from `python -X importtime`."""
    code = f"import dagster, sys; print({MARK!r}, file=sys.stderr); import {module}"
    completed = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", code],
        cwd=REPO_ROOT,
        env=environment(),
        check=True,
        capture_output=True,
        text=True,
    )
    lines = completed.stderr.splitlines()
    after = lines[lines.index(MARK) + 1 :] if MARK in lines else lines
    costs = []
    for line in after:
        if not line.startswith("import time:") or "self [us]" in line:
            continue
        self_us, cumulative_us, name = line.removeprefix("import time:").split("|", 2)
        depth = (len(name) - len(name.lstrip(" "))) // 2
        costs.append(ImportCost(name.strip(), int(self_us), int(cumulative_us), depth))
    return costs


def explain(module: str, top: int) -> str:
    """Where a location's extra import time goes: the modules with the most time of their own,
    and the packages it pulls in (a heavy third-party import shows up at its first module)."""
    costs = extra_imports(module)
    total_ms = sum(cost.self_us for cost in costs) / 1000
    lines = [f"  {module}: {len(costs)} modules beyond dagster, {total_ms:.0f} ms (importtime)"]
    lines.append("  most time of their own (self ms, cumulative ms):")
    for cost in sorted(costs, key=lambda cost: cost.self_us, reverse=True)[:top]:
        lines.append(
            f"    {cost.self_us / 1000:7.1f} {cost.cumulative_us / 1000:8.1f}  {cost.module}"
        )
    packages: dict[str, ImportCost] = {}
    for cost in costs:
        root = cost.module.split(".")[0]
        current = packages.get(root)
        if current is None or cost.cumulative_us > current.cumulative_us:
            packages[root] = cost
    lines.append("  packages imported beyond dagster (cumulative ms, via module):")
    for cost in sorted(packages.values(), key=lambda cost: cost.cumulative_us, reverse=True):
        lines.append(f"    {cost.cumulative_us / 1000:8.1f}  {cost.module}")
    return "\n".join(lines)


def report(results: Sequence[Result], max_ratio: float) -> str:
    header = (
        f"{'target':<24}{'wall s':>8}{'min':>7}{'max':>7}{'cpu s':>8}{'import s':>10}"
        f"{'wall x':>8}{'cpu x':>7}{'import x':>10}"
    )
    lines = [header]
    for r in results:
        verdict = ""
        if r.name in LOCATIONS:
            verdict = "  ok" if r.ratio <= max_ratio else f"  OVER {max_ratio}x"
        low, high = r.wall_range
        lines.append(
            f"{r.name:<24}{r.wall:>8.3f}{low:>7.2f}{high:>7.2f}{r.cpu:>8.3f}{r.inner:>10.3f}"
            f"{r.ratio:>8.2f}{r.cpu_ratio:>7.2f}{r.inner_ratio:>10.2f}{verdict}"
        )
    lines.append(
        "medians; x = ratio to `import dagster`. wall: process start to exit (the target is on "
        "this); cpu: user+sys of the process; import: the import statement timed inside it"
    )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--runs", type=int, default=7, help="rounds (median); default 7")
    parser.add_argument("--max-ratio", type=float, default=1.3, help="target; default 1.3")
    parser.add_argument("--explain", action="store_true", help="importtime of every location")
    parser.add_argument("--top", type=int, default=12, help="packages listed by --explain")
    args = parser.parse_args(argv)

    print(f"{sys.executable}, {args.runs} interleaved rounds, ENVIRONMENT=prod", flush=True)
    results = summarize(measure(args.runs))
    print(report(results, args.max_ratio))
    over = [r.name for r in results if r.name in LOCATIONS and r.ratio > args.max_ratio]
    for name in LOCATIONS if args.explain else over:
        print(explain(TARGETS[name].removeprefix("import "), args.top))
    return 1 if over else 0


if __name__ == "__main__":
    sys.exit(main())
