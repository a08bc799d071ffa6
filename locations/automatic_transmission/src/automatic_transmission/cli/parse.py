"""``at-parse``: print the parse of release names as one JSON object per line."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterable, Sequence
from typing import TextIO

from automatic_transmission.parsing import parse_release


def _names(args: Sequence[str], stdin: TextIO) -> Iterable[str]:
    """The names from the arguments, or else one per non-blank stdin line."""
    if args:
        yield from args
        return
    for line in stdin:
        name = line.rstrip("\r\n")
        if name.strip():
            yield name


def main(argv: Sequence[str] | None = None) -> int:
    """Parse each name and print its fields; always exits 0 (a bad name prints nulls)."""
    parser = argparse.ArgumentParser(
        prog="at-parse",
        description="Parse release names; with no NAME, read one name per line from stdin.",
    )
    parser.add_argument("names", nargs="*", metavar="NAME", help="release name(s) to parse")
    options = parser.parse_args(argv)
    out = sys.stdout
    for name in _names(options.names, sys.stdin):
        out.write(json.dumps(parse_release(name).as_dict(), ensure_ascii=False) + "\n")
    out.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
