"""Compare our release-name parser with guessit and parsett: dev-set accuracy and speed.

Run from the repo root: ``uv run python benchmarks/parse_bench.py [--repeat N] [--data SET]``.
``--data`` is ``all`` (the default: every set scored separately, speed on the dev set),
``dev`` (the 885-name dev set), ``extra`` (the hand-written set), ``heldout`` (the issue-9
families, written before their rules), ``round2`` (issue 9 round two: broad invented shapes,
written before their rules), ``round3`` (issue 9 round three: title-hard shapes, written
before their rules) or a path to a jsonl file.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from tests.support.release_names import (  # noqa: E402
    DATA_SETS,
    FIELDS,
    Case,
    Parser,
    guessit_adapter,
    load_cases,
    ours,
    parsett_adapter,
    score,
)

CHOICES = {name: [path] for name, path in DATA_SETS.items()} | {"all": [*DATA_SETS.values()]}

PARSERS: dict[str, Parser] = {"ours": ours, "guessit": guessit_adapter, "parsett": parsett_adapter}


def names_per_second(
    parsers: dict[str, Parser], cases: list[Case], repeat: int
) -> dict[str, float]:
    """Median throughput per parser over ``repeat`` passes of the whole set (after one warm-up
    call each). The parsers take turns within each pass, so a shared machine's load changes
    hit them alike and the ratios stay fair."""
    names = [c.name for c in cases]
    for parser in parsers.values():
        parser(names[0])
    rates: dict[str, list[float]] = {label: [] for label in parsers}
    for _ in range(repeat):
        for label, parser in parsers.items():
            start = time.perf_counter()
            for name in names:
                parser(name)
            rates[label].append(len(names) / (time.perf_counter() - start))
    return {label: statistics.median(values) for label, values in rates.items()}


def print_accuracy(label: str, cases: list[Case], show_failures: int) -> None:
    """One accuracy table (ours vs guessit vs parsett) for ``cases``."""
    print(f"{label}: {len(cases)} names")
    scores = {name: score(parser, cases) for name, parser in PARSERS.items()}
    header = f"{'field':<12}{'n':>6}" + "".join(f"{name:>10}" for name in PARSERS)
    print(header)
    print("-" * len(header))
    for field in FIELDS:
        total = scores["ours"].total[field]
        row = "".join(f"{scores[name].accuracy(field):>10.4f}" for name in PARSERS)
        print(f"{field:<12}{total:>6}{row}")
    if show_failures:
        for field in FIELDS:
            for name, want, got in scores["ours"].failures[field][:show_failures]:
                print(f"  ours {field}: {name!r}: want {want!r} got {got!r}")
    print()


def main() -> int:
    cli = argparse.ArgumentParser(description=__doc__)
    cli.add_argument("--repeat", type=int, default=3, help="speed passes per parser (median)")
    cli.add_argument(
        "--data",
        default="all",
        help="all | dev | extra | heldout | round2 | round3 | path to a jsonl file (default: all)",
    )
    cli.add_argument("--failures", type=int, default=0, help="list up to N of our misses per field")
    options = cli.parse_args()
    paths = CHOICES.get(options.data) or [Path(options.data)]
    print("title = exact match, title_ci = case-insensitive")
    print("media_type: movie vs tv (tv_show/tv_season/tv_episode_pack); from the row's")
    print("media_type key, else derived from the expected season/episode\n")
    sets = [(path, load_cases(path)) for path in paths]
    for path, cases in sets:
        print_accuracy(path.name, cases, options.failures)
    cases = sets[0][1]
    print(f"speed on {sets[0][0].name}:")
    speeds = names_per_second(PARSERS, cases, options.repeat)
    for name, rate in speeds.items():
        print(f"{name:<10}{rate:>10.0f} names/s")
    print(f"\nours/guessit speed ratio: {speeds['ours'] / speeds['guessit']:.1f}x (need >= 5x)")
    print(f"ours/parsett speed ratio: {speeds['ours'] / speeds['parsett']:.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
