"""The one scrubber: every error text, log line and metadata value built from an outside answer
passes through `scrub` before it is cut, logged, stored or shown.

It removes every registered secret and any fragment of one at least `FRAGMENT` characters long
(a key straddling a cut, or echoed half by a service). Resources register the secrets they are
configured with (`register`) when they build a client; `scrub` then knows them for the process.
"""

from __future__ import annotations

import threading

MASK = "[redacted]"
FRAGMENT = 8  # a run of this many characters of a secret counts as the secret
MIN_SECRET = 4  # shorter values (test placeholders, empty) are not worth scrubbing

_lock = threading.Lock()
_secrets: dict[str, frozenset[str]] = {}  # secret -> its FRAGMENT-grams


def register(*secrets: str | None) -> None:
    """Remember secrets to remove from every text `scrub` sees in this process."""
    with _lock:
        for secret in secrets:
            if secret and len(secret) >= MIN_SECRET and secret not in _secrets:
                size = min(FRAGMENT, len(secret))
                grams = frozenset(secret[i : i + size] for i in range(len(secret) - size + 1))
                _secrets[secret] = grams


def scrub(text: str) -> str:
    """`text` with every registered secret, and every long fragment of one, replaced by MASK."""
    with _lock:
        secrets = list(_secrets.items())
    if not text or not secrets:
        return text
    covered = bytearray(len(text))
    for secret, grams in secrets:
        size = min(FRAGMENT, len(secret))
        for start in range(len(text) - size + 1):
            if text[start : start + size] in grams:
                covered[start : start + size] = b"\x01" * size
    if not any(covered):
        return text
    parts: list[str] = []
    index = 0
    while index < len(text):
        if covered[index]:
            while index < len(text) and covered[index]:
                index += 1
            parts.append(MASK)
        else:
            parts.append(text[index])
            index += 1
    return "".join(parts)
