"""The revision of a release: a PROPER or REPACK fixes an earlier release of the same quality.

1 is the first release; PROPER, REPACK, RERIP and (upper-case) REAL make it 2, a numbered
REPACK2/PROPER2 makes it 3 (the number counts the fixes), REAL on top of a PROPER/REPACK adds one
more (`REAL.REPACK` -> 3), and an anime-style version (`05v2`) is its number. Sonarr counts the
same way; a higher revision of the same quality and group replaces the release held.

REAL only counts in capitals: `Real Steel`, `The Real World` are titles, not markers.
"""

from __future__ import annotations

import re

FIRST_REVISION = 1
_FIX = re.compile(r"(?<![a-z0-9])(?:proper|repack|rerip)(\d{0,2})(?![a-z0-9])", re.I)
_REAL = re.compile(r"(?<![A-Za-z0-9])REAL(?![A-Za-z0-9])")
_VERSION = re.compile(r"(?<![a-z])\d{1,4}v([2-9])(?![a-z0-9])", re.I)


def parse_revision(name: str) -> int:
    """The revision a release name announces (1 when it announces none)."""
    fixes = [int(number) if number else 1 for number in _FIX.findall(name)]
    revision = FIRST_REVISION + (max(fixes) if fixes else 0)
    if _REAL.search(name):
        revision += 1
    versions = [int(v) for v in _VERSION.findall(name)]
    return max([revision, *versions])
