"""Title fixes on top of parsett: years inside titles, dotted acronyms, leading words, editions,
genres, brackets and punctuation; the cut to the column width."""

from __future__ import annotations

import re

from automatic_transmission.parsing.cleaning import _normalise_words
from automatic_transmission.parsing.patterns import (
    _ABBREVIATION,
    _ACRONYM,
    _AKA,
    _BATCH_TAIL,
    _BROADCASTER_TAGS,
    _EDITION_STUB,
    _EDITION_TAIL,
    _GENRE_TAIL,
    _LEADING_WORDS,
    _SPACED_CAPS,
    _TWO_YEARS,
    _YEAR,
    _YEAR_WORD,
    MAX_TITLE,
)


def _fix_year_and_title(name: str, title: str, year: int | None) -> tuple[str, int | None]:
    """Apply the title-year rules parsett misses."""
    # "The.Legend.of.1900.1998": the later of two adjacent years is the release year.
    pair = _TWO_YEARS.search(name)
    if pair and year is not None and int(pair.group(1)) == year:
        year = int(pair.group(2))
        before = _normalise_words(name[: pair.start(2)])
        before = re.sub(r"[ .(]+$", "", before)
        if before.lower().startswith(title.lower()) and len(before) > len(title):
            title = before
    if year is None:
        return title, year
    # "Let.It.Fall.Los.Angeles.1982-1992.2017": a year range before the year is title text.
    m = re.search(rf"(?<![\w])({_YEAR}[-\u2013]{_YEAR})[ ._]+\(?{year}(?![\w])", name)
    if m:
        before = _normalise_words(name[: m.end(1)])
        if before.lower().startswith(title.lower()) and len(before) > len(title):
            title = before
    # "Easy Rider (Drama 1969)": words inside the year's bracket are not title.
    # "Apollo 13 1995 Anniversary Edition": parsett lost the number between title and year.
    bare = re.search(rf"(?<![\w.]){year}(?![\w])", name)
    if bare:
        before = _normalise_words(name[: bare.start()])
        rest = before[len(title) :] if before.lower().startswith(title.lower()) else ""
        if re.fullmatch(r" \d{1,3}", rest):
            title = before
    group = re.search(rf"[(\[]([^()\[\]]*?)(?<!\d){year}(?!\d)[^()\[\]]*[)\]]", name)
    if group and group.group(1).strip(" /-_."):
        before = _normalise_words(name[: group.start()])
        if before and title.lower().startswith(before.lower()) and len(title) > len(before):
            title = before
    return title, year


def _restore_acronyms(name: str, title: str) -> str:
    """Keep dotted acronyms: "S.H.I.E.L.D." not "S H I E L D", "P.D." not "P.D"."""
    for match in _ACRONYM.finditer(name):
        dotted = match.group(1)
        if dotted.count(".") < 2 and not dotted.isupper():
            continue  # two letters only when capitals ("P.D."), never "e.g"
        spaced = dotted.replace(".", " ")
        if spaced in title:
            title = title.replace(spaced, dotted + ".", 1)
        elif re.search(rf"{re.escape(dotted)}(?![\w.])", title):
            title = title.replace(dotted, dotted + ".", 1)
    # Dot-separated names: "S.W.A.T.2017.S07E01" comes back from parsett as "S W A T".
    for match in _SPACED_CAPS.finditer(title):
        dotted = match.group().replace(" ", ".")
        if re.search(rf"(?<![A-Za-z0-9]){re.escape(dotted)}(?![A-Za-z0-9])", name):
            title = title.replace(match.group(), dotted + ".", 1)
    return title


def _leading_words(text: str, title: str) -> str:
    """Put back plain words parsett dropped before the title ("IMAX Blue Planet", "PBS
    NewsHour", "X2 X-Men United"); drop a broadcaster tag before it ("BBC Billy and Us")."""
    words = title.split(" ")
    if len(words) > 1 and words[0].lower() in _BROADCASTER_TAGS and words[0].isupper():
        return " ".join(words[1:])
    at = text.find(words[0] + " ") if " " in text else text.find(words[0] + ".")
    if at <= 0 or text[at - 1] not in " ._":
        return title
    prefix = text[:at]
    if not _LEADING_WORDS.fullmatch(prefix):
        return title
    lost = re.split(r"[ ._]", prefix)[:-1]
    if any(_YEAR_WORD.fullmatch(word) for word in lost):
        return title  # "2008 The Incredible Hulk": a year before the title is not title
    while lost and lost[0].lower() in _BROADCASTER_TAGS:
        lost = lost[1:]
    return " ".join([*lost, title]) if lost else title


def _tidy_title(text: str, title: str) -> str:
    """Cut edition, genre and a.k.a. words off the end of the title."""
    aka = _AKA.search(title)
    if aka and aka.start() > 0:
        title = title[: aka.start()]
    for _ in range(2):
        before = title
        for tail in (_EDITION_TAIL, _GENRE_TAIL, _BATCH_TAIL):
            cut = tail.search(title)
            if cut and title[: cut.start()].strip(" -").lower() not in ("", "the", "a", "an"):
                title = title[: cut.start()]  # never the whole title: "The Final Cut" (2004)
        stub = _EDITION_STUB.search(title)
        if stub and stub.start() > 0:
            after = re.escape(stub.group(1))
            if re.search(rf"{after}[ ._]+(?:Director'?s|Cut|Edition)", text, re.I):
                title = title[: stub.start()]
        if title == before:
            break
    return title.rstrip(" -")


_OPENERS = re.compile(r"[\[{|]")


def _cut_at_bracket(text: str, title: str) -> str:
    """End the title where the name opens a bracket or a "|" between two of its words:
    "Title [ BD 1080p ]" is not "Title BD", "Title | Other Title (...)" is "Title"."""
    words = title.split(" ")
    for index, word in enumerate(words[1:], start=1):
        if word == "|":
            return " ".join(words[:index])
    if len(words) < 2 or not _OPENERS.search(text):
        return title
    found = re.search(r"([\W_]+)".join(re.escape(word) for word in words), text)
    if not found:
        return title
    for index in range(1, len(words)):
        if _OPENERS.search(found.group(index)):
            return " ".join(words[:index])
    return title


def _restore_punctuation(text: str, title: str) -> str:
    """Keep an ellipsis ("What If...", "tick tick...BOOM") and an abbreviation's final dot
    ("Samrat & Co.", "Monsters, Inc.") that parsett dropped."""
    words = title.split(" ")
    if "..." in text and " " not in text:
        pattern = r"([ ._]+)".join(re.escape(w) for w in words) + r"(\.{3,})?"
        found = re.search(pattern, text)
        if found:
            parts = [words[0]]
            for index, word in enumerate(words[1:], start=1):
                sep = found.group(index)
                if sep.count(".") >= 4:
                    parts.append("... ")
                elif sep.count(".") == 3:
                    parts.append("...")
                else:
                    parts.append(" ")
                parts.append(word)
            if found.group(len(words)):
                parts.append("...")
            return "".join(parts)
        return title
    if " " in text and not title.endswith("."):
        last = words[-1]
        # Only a short capitalised abbreviation ("Co.", "Inc.", "Jr."), never a sentence dot.
        if len(words) > 1 and _ABBREVIATION.fullmatch(last) and f" {last}. " in text:
            return title + "."
    return title


def _fit_title(title: str | None) -> str | None:
    if not title:
        return None
    title = title.strip()
    if len(title) <= MAX_TITLE:
        return title or None
    cut = title[:MAX_TITLE]
    space = cut.rfind(" ")
    return (cut[:space] if space > MAX_TITLE // 2 else cut).strip() or None
