"""The one scrubber: every error text, log line, metadata value and notification built from an
outside answer passes through `scrub` before it is cut, logged, stored, shown or sent.

It removes every registered secret and any fragment of one at least `FRAGMENT` characters long
(a key straddling a cut, or echoed half by a service), the `extra` secrets a caller names for
one text, and credentials written into URLs (`user:pass@`, `?token=...`). Resources register the
secrets they are configured with (`register`) when they build a client; `scrub` then knows them
for the process.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable

MASK = "[redacted]"
FRAGMENT = 8  # a run of this many characters of a secret counts as the secret
MIN_SECRET = 4  # shorter values (test placeholders, empty) are not worth scrubbing

# The scheme's length is bounded: unbounded, a long run of letters (a 100 kB title) is scanned
# again from every position, which took minutes (quadratic); real schemes are short.
URL_CREDENTIALS = re.compile(r"(?P<scheme>[a-z][a-z0-9+.-]{0,31}://)[^/@\s:]+(:[^/@\s]*)?@", re.I)
SECRET_QUERY = re.compile(
    r"(?P<name>[?&;](?:(?:[a-z]+_)?api[_-]?key|apikey|passkey|key|token|x-plex-token|"
    r"access_token|password|pass|secret|auth|sig|signature)=)[^&\s#]+",
    re.IGNORECASE,
)

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


def scrub(text: str, extra: Iterable[str] = ()) -> str:
    """`text` without any registered secret or long fragment of one, without the `extra`
    secrets, and without credentials written into URLs; each is replaced by MASK."""
    text = _without_registered(text)
    # Longest first, so no part of a longer secret is left behind by a shorter one.
    for secret in sorted({s for s in extra if len(s) >= MIN_SECRET}, key=len, reverse=True):
        text = text.replace(secret, MASK)
    text = URL_CREDENTIALS.sub(lambda m: f"{m.group('scheme')}{MASK}@", text)
    return SECRET_QUERY.sub(lambda m: f"{m.group('name')}{MASK}", text)


def _without_registered(text: str) -> str:
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
