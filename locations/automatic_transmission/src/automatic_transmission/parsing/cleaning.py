"""Input cleaning before parsett reads a name: control characters, site and sample prefixes,
file sizes, hyphen-only separators."""

from __future__ import annotations

import re

from automatic_transmission.model import CONTROL_CHARACTERS
from automatic_transmission.parsing.patterns import (
    _PREFIX_BRACKET,
    _PREFIX_DOMAIN,
    _PREFIX_SAMPLE,
    _PREFIX_TAG,
    _PREFIX_WWW,
    _SIZE,
    _SPACES,
    MAX_INPUT,
)


def _clean_input(name: object) -> str:
    """A bounded, printable, prefix-free version of ``name``."""
    if not isinstance(name, str):
        name = "" if name is None else str(name)
    text = CONTROL_CHARACTERS.sub(" ", name[: MAX_INPUT * 4])[:MAX_INPUT]
    if " " not in text.strip() and "+" in text:
        # "The+Office+S01E01": '+' used as the word separator.
        text = text.replace("+", ".")
    text = _SIZE.sub(" ", text)
    for _ in range(2):
        stripped = _PREFIX_SAMPLE.sub("", text, count=1)
        stripped = _PREFIX_BRACKET.sub("", stripped, count=1)
        stripped = _PREFIX_TAG.sub("", stripped, count=1)
        stripped = _PREFIX_WWW.sub("", stripped, count=1)
        stripped = _PREFIX_DOMAIN.sub("", stripped, count=1)
        if stripped == text:
            break
        text = stripped
    return _SPACES.sub(" ", text).strip()


def _hyphen_separated(text: str) -> bool:
    """True for "The-Batman-2022-720p-BluRay": hyphens are the only word separator."""
    stem = re.sub(r"\.[A-Za-z0-9]{2,4}$", "", text)
    return not re.search(r"[ ._+]", stem) and stem.count("-") >= 3


def _normalise_words(text: str) -> str:
    """Release-name spelling to words: dots/underscores between words become spaces."""
    text = text.replace("_", " ")
    if " " not in text.strip():
        text = text.replace(".", " ")
    text = re.sub(r"[\s\-:/\\\[({|,]+$", "", text)
    text = re.sub(r"^[^\w]+", "", text)
    return _SPACES.sub(" ", text).strip()
