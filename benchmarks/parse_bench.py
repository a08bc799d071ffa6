"""Compare our release-name parser with guessit and parsett: dev-set accuracy and speed.

Run from the repo root: ``uv run python benchmarks/parse_bench.py [--repeat N]``.
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
    FIELDS,
    Case,
    Parser,
    guessit_adapter,
    load_cases,
    ours,
    parsett_adapter,
    score,
)

PARSERS: dict[str, Parser] = {"ours": ours, "guessit": guessit_adapter, "parsett": parsett_adapter}


def names_per_second(parser: Parser, cases: list[Case], repeat: int) -> float:
    """Median throughput over ``repeat`` passes of the whole set (after one warm-up call)."""
    names = [c.name for c in cases]
    parser(names[0])
    rates = []
    for _ in range(repeat):
        start = time.perf_counter()
        for name in names:
            parser(name)
        rates.append(len(names) / (time.perf_counter() - start))
    return statistics.median(rates)


def main() -> int:
    cli = argparse.ArgumentParser(description=__doc__)
    cli.add_argument("--repeat", type=int, default=3, help="speed passes per parser (median)")
    options = cli.parse_args()
    cases = load_cases()
    print(f"dev set: {len(cases)} names; title = exact match, title_ci = case-insensitive")
    print("media_type: movie vs tv (tv_show/tv_season/tv_episode_pack), derived from the")
    print("expected season/episode where the set has no type key\n")

    scores = {name: score(parser, cases) for name, parser in PARSERS.items()}
    header = f"{'field':<12}{'n':>6}" + "".join(f"{name:>10}" for name in PARSERS)
    print(header)
    print("-" * len(header))
    for field in FIELDS:
        total = scores["ours"].total[field]
        row = "".join(f"{scores[name].accuracy(field):>10.4f}" for name in PARSERS)
        print(f"{field:<12}{total:>6}{row}")

    print()
    speeds = {name: names_per_second(p, cases, options.repeat) for name, p in PARSERS.items()}
    for name, rate in speeds.items():
        print(f"{name:<10}{rate:>10.0f} names/s")
    print(f"\nours/guessit speed ratio: {speeds['ours'] / speeds['guessit']:.1f}x (need >= 5x)")
    print(f"ours/parsett speed ratio: {speeds['ours'] / speeds['parsett']:.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
