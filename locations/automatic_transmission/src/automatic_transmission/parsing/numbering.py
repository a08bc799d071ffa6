"""Season/episode numbering rules parsett misses (issue 9), each a general rule over the name.

Applied after parsett and the title rules in ``automatic_transmission.parsing``; each takes the
cleaned name and the reading so far and returns the corrected reading.

1. A bare episode code after the title ("Show.1107.720p.HDTV" -> S11E07, "show.2011.518.hdtv"
   -> S05E18) when the name says TV: a year before the number, or no year anywhere and more
   name after it. A resolution-shaped ``1080``/``2160`` stays a resolution, a year-shaped number
   stays a year/title, and a number followed by a year is part of a film's title
   ("Agent 327 2019 720p").
2. Spanish "Cap.205" (S02E05, "Cap.301_310" a range); Dutch "Se.3 afl.3"; "S 01" with a space;
   Chinese/Japanese "第05話" / "第12集" (episode) and "第2季" (season).
3. Repeated episode markers are a multi-episode release ("S03E01.S03E02", "5x03_04",
   "S06E01-S06E02", "S15E4101-E4104").
4. A year as the season ("2012x07", "S2019"): the season, not the release year.
5. Daily shows in every common date shape ("05.19.2016", "19.05.2016", "17-03-2023", "150913",
   "2019 11" before the tags) are episodes dated by air day: no season/episode numbers.
6. Anime absolute numbering: after a "[Group]" prefix, the number after the title is the
   episode ("[Group] Show Title 187", "[Group]Show 01 Episode Name [CRC]"); "Show #812" too.
7. Extras and bonus discs ("S02.Extras.03.Bloopers") carry no episode number.
8. A year inside the episode title after the marker ("Show 2x08 The 1999 Reunion",
   "Show.S03E05.2001.A.Space.Oddity") is no release year.
"""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass, replace

from automatic_transmission.parsing.patterns import (
    _ANIME_SEASON,
    _DIGITS,
    _FANSUB,
    _FOREIGN_SEASON,
    _MINI_PART,
    _NUMBER_MARKER,
    _NUMBER_PREFIXES,
    _NUMBER_WORDS,
    _PART,
    _PT_ROMAN,
    _ROMAN,
    _SEASON_TO,
    _SEASON_WORD,
    _THREE,
    _THREE_D,
    _TOKENS,
    _TRAILING_EPISODE,
    _YEAR_WORD,
    MAX_SEASON_SPAN,
    EpisodeNumber,
)

__all__ = ["Reading", "apply_numbering_rules"]

# An episode range longer than this ("S01E01-E999") came from a misread number.
MAX_EPISODE_SPAN = 400
RESOLUTION_NUMBERS = frozenset({480, 576, 720, 1080, 2160})
_NEXT_YY = (datetime.date.today().year + 1) % 100


@dataclass(frozen=True)
class Reading:
    """The fields the numbering rules read and correct."""

    title: str
    year: int | None
    seasons: list[int]
    episodes: list[int]
    dated: bool
    resolution: str | None = None


_YEARISH = re.compile(r"(?:19|20)\d\d")
_SEP = re.compile(r"[ ._]+")
_ALNUM = re.compile(r"[^\W_]+")
_PLAIN_WORDS = re.compile(r"[^\W_]+(?: [^\W_]+)*")

# --- 7. extras -------------------------------------------------------------------------------
_EXTRAS = re.compile(r"(?<![A-Za-z0-9])S(\d{1,2})[ ._-]+(?:Extras?|Bonus)(?![A-Za-z])", re.I)

# --- 3/4. episode markers and their repeats --------------------------------------------------
_MARK = re.compile(
    r"(?<![A-Za-z0-9])(?:S(\d{1,2}|(?:19|20)\d\d)[ ._]?E(\d{1,4})|(\d{1,2})x(\d{1,3})"
    r"|((?:19|20)\d\d)x(\d\d))(?![0-9])",
    re.I,
)
_MORE = re.compile(
    r"(?P<sep>[ ._]*[-&+][ ._]*|[ ._]|)(?:(?:S(?P<s>\d{1,4})[ ._]?)?E(?P<e>\d{1,4})"
    r"|(?P<xs>\d{1,4})x(?P<xe>\d{1,3})|(?<=\d)(?P<bsep>[_-]|x)(?P<bare>\d{1,3}))(?![A-Za-z0-9])",
    re.I,
)
# Rule 8: episode-title words next to a year ("The 1999 Reunion", "2001.A.Space").
_TITLE_WORD_BEFORE = re.compile(r"[A-Za-z]*[a-z][A-Za-z]*")
_TITLE_WORD_AFTER = re.compile(r"[A-Z][a-z]*")
_YEAR_SEASON = re.compile(r"(?<![A-Za-z0-9])S((?:19|20)\d\d)(?![A-Za-z0-9])", re.I)

# --- 2. foreign numbering --------------------------------------------------------------------
_CAP = re.compile(
    r"(?<![A-Za-z0-9])Cap[ ._]?(\d{1,2})(\d\d)(?:[_-](\d{1,2})(\d\d))?(?![0-9])", re.I
)
_AFL = re.compile(
    r"(?<![A-Za-z0-9])(?:Se|Seizoen)[ ._]?(\d{1,2})[ ._-]+afl(?:evering)?[ ._]?(\d{1,3})(?![0-9])",
    re.I,
)
_SPACED_SEASON = re.compile(r"(?<=[ ._])S (\d{1,2})(?: E (\d{1,3}))?(?![0-9A-Za-z])")
# "第05話", "第5话", "第12集", "第3回" (episode); "第2季", "第2期" (season).
_CJK_EPISODE = re.compile(r"\u7b2c\s*(\d{1,4})\s*[\u8a71\u8bdd\u96c6\u56de]")
_CJK_SEASON = re.compile(r"\u7b2c\s*(\d{1,2})\s*[\u5b63\u671f]")

# --- 5. dates --------------------------------------------------------------------------------
_DATE = re.compile(
    r"(?<![A-Za-z0-9])(?:(\d\d)([._ -])(\d\d)\2((?:19|20)\d\d)"
    r"|((?:19|20)\d\d)([._ -])(\d\d)\6(\d\d))(?![0-9])"
)
_SHORT_DATE = re.compile(r"(?<=[ ._])(\d\d)(0[1-9]|1[0-2])(0[1-9]|[12]\d|3[01])(?=[ ._-]|$)")
_YEAR_MONTH = re.compile(
    r"(?<=[ ._])((?:19|20)\d\d)[ ._](0[1-9]|1[0-2])[ ._]"
    r"(?=\d{3,4}[pi]|HDTV|PDTV|WEB|SDTV|DSR|x26|h26)",
    re.I,
)

# --- 1/6. bare numbers after the title -------------------------------------------------------
_GROUP_PREFIX = re.compile(r"^\[[^\]]+\][ _.]*")
_BARE = re.compile(
    r"^(?P<head>[^\[\]()]*?[A-Za-z][^\[\]()]*?)(?P<sep>[ ._]*-[ ._]*|[ ._]+)"
    r"(?:(?P<year>(?:19|20)\d\d)[ ._]+)?"
    r"(?P<hash>#)?(?P<num>\d{1,4})(?:v\d)?(?P<tail>[ ._\-\[(].*)?$"
)
_YEAR_NEXT = re.compile(r"^[ ._\-]*[(\[]?(?:19|20)\d\d(?![0-9A-Za-z])")
# A disc source: a year-less film ("Room.237.720p.BluRay"), not a broadcast episode.
_DISC = re.compile(
    r"(?<![A-Za-z])(?:Blu-?Ray|BD(?:Rip)?|BRRip|DVD(?:Rip)?|REMUX|HDDVD)(?![A-Za-z])", re.I
)
# A numbered one-off event ("UFC.179.PPV", "Fight 300 Hill vs Lee"): its number is no episode.
_EVENT = re.compile(r"(?<![A-Za-z])(?:PPV|vs)(?![A-Za-z])", re.I)
_OVA = re.compile(r"(?<![A-Za-z0-9])(?:OVA|OAD|ONA)[ ._-]?(\d{1,3})(?![0-9])")
_ANY_YEAR = re.compile(r"(?<![A-Za-z0-9])(?:19|20)\d\d(?![0-9])")
_RES_TOKEN = re.compile(r"(?<![A-Za-z0-9])\d{3,4}[pi](?![A-Za-z0-9])", re.I)


def apply_numbering_rules(text: str, reading: Reading) -> Reading:
    """The reading after rules 1-7 (see the module docstring)."""
    reading = _markers(text, reading)
    reading = _foreign(text, reading)
    reading = _dates(text, reading)
    reading = _bare_number(text, reading)
    reading = _ova_number(text, reading)
    extras = _EXTRAS.search(text)
    if extras and reading.seasons == [int(extras.group(1))]:
        reading = replace(reading, episodes=[])
    return reading


def _markers(text: str, reading: Reading) -> Reading:
    """Rules 3 and 4: repeated markers are a multi-episode release; a year may be the season."""
    mark = _MARK.search(text)
    if mark:
        reading = _title_left_of_marker(text, mark.start(), reading)
        if reading.year is not None and _year_in_episode_title(text, mark.end(), reading.year):
            reading = replace(reading, year=None)
    if not mark:
        year_season = _YEAR_SEASON.search(text)
        if year_season:
            season = int(year_season.group(1))
            return _year_as_season(text, reading, season, [])
        return reading
    groups = mark.groups()
    season = int(groups[0] or groups[2] or groups[4])
    episodes = [int(groups[1] or groups[3] or groups[5])]
    at = mark.end()
    while True:
        more = _MORE.match(text, at)
        if not more:
            break
        other = more.group("s") or more.group("xs")
        if other and int(other) != season:
            break
        if more.group("bsep") in ("_", "x") and not (groups[2] or groups[4]):
            break  # "S02E04_11_27": only "5x03_04" and "2012x07x08" chain this way
        number = int(more.group("e") or more.group("xe") or more.group("bare"))
        dash = "-" in more.group("sep") or more.group("bsep") == "-"
        last = episodes[-1]
        if dash and " " not in more.group("sep") and last < number <= last + MAX_EPISODE_SPAN:
            episodes.extend(range(last + 1, number + 1))
        elif number not in episodes:
            episodes.append(number)
        at = more.end()
    if _YEARISH.fullmatch(str(season)):
        return _year_as_season(text, reading, season, episodes)
    multi = len(episodes) > 1 and reading.seasons in ([], [season])
    if multi and set(reading.episodes) <= set(episodes):
        return replace(reading, seasons=[season], episodes=sorted(set(episodes)))
    return reading


def _year_in_episode_title(text: str, end: int, year: int) -> bool:
    """Rule 8: the year stands only after the marker, unbracketed, next to a plain word of
    the episode title: a lower-case word before it ("The 1999 Reunion") or a capitalised
    word after it ("2001.A.Space"); release tags ("HDTV", "WEBRip", "720p") are no such word."""
    found = list(re.finditer(rf"(?<![0-9]){year}(?![0-9])", text))
    if len(found) != 1 or found[0].start() < end or text[found[0].start() - 1] in "([":
        return False
    before = _SEP.split(text[end : found[0].start()].strip(" ._"))[-1]
    after = _SEP.split(text[found[0].end() :].strip(" ._") + " ")[0]
    return bool(_TITLE_WORD_BEFORE.fullmatch(before) or _TITLE_WORD_AFTER.fullmatch(after))


def _title_left_of_marker(text: str, at: int, reading: Reading) -> Reading:
    """ "2047.S01E03.720p-GRP": parsett took a later word for the title because the words
    before the episode marker looked like a year; a show's title stands before its marker, so
    words there that share nothing with the title read so far are the title."""
    prefix = _words(_GROUP_PREFIX.sub("", text[:at]))
    if not _PLAIN_WORDS.fullmatch(prefix):
        return reading
    if set(_ALNUM.findall(reading.title.casefold())) & set(_ALNUM.findall(prefix.casefold())):
        return reading  # the title is (partly) there, only spelt differently ("S.W.A.T.")
    year = reading.year
    if year is not None and str(year) == prefix and text.count(prefix) == 1:
        year = None
    return replace(reading, title=prefix, year=year)


def _year_as_season(text: str, reading: Reading, season: int, episodes: list[int]) -> Reading:
    """ "2012x07", "S2019": the year-shaped number is the season, not the release year."""
    year = reading.year
    rest = _YEAR_SEASON.sub(" ", _MARK.sub(" ", text))
    if year == season and not re.search(rf"(?<![0-9]){season}(?![0-9])", rest):
        year = None
    return replace(reading, year=year, seasons=[season], episodes=sorted(set(episodes)))


def _foreign(text: str, reading: Reading) -> Reading:
    """Rule 2: "Cap.205" (S02E05), "Se.3 afl.3", "S 01 E 05", "第05話", "第2季"."""
    cjk_episode, cjk_season = _CJK_EPISODE.search(text), _CJK_SEASON.search(text)
    if cjk_episode and not reading.episodes:
        reading = replace(reading, episodes=[int(cjk_episode.group(1))])
    if cjk_season and not reading.seasons:
        reading = replace(reading, seasons=[int(cjk_season.group(1))])
    cap = _CAP.search(text)
    if cap:
        season, first = int(cap.group(1)), int(cap.group(2))
        episodes = [first]
        if cap.group(3) and int(cap.group(3)) == season:
            last = int(cap.group(4))
            if first < last <= first + MAX_EPISODE_SPAN:
                episodes = list(range(first, last + 1))
        if season and first and reading.seasons in ([], [season]):
            return replace(reading, seasons=[season], episodes=episodes)
    afl = _AFL.search(text)
    if afl and reading.seasons in ([], [int(afl.group(1))]) and len(reading.episodes) < 2:
        title = _title_before(text, afl.start(), reading.title)
        return replace(
            reading, title=title, seasons=[int(afl.group(1))], episodes=[int(afl.group(2))]
        )
    spaced = _SPACED_SEASON.search(text)
    if spaced and not reading.seasons and len(reading.episodes) < 2:
        episodes = [int(spaced.group(2))] if spaced.group(2) else reading.episodes
        title = _title_before(text, spaced.start(), reading.title)
        return replace(reading, title=title, seasons=[int(spaced.group(1))], episodes=episodes)
    return reading


def _dates(text: str, reading: Reading) -> Reading:
    """Rule 5: an air date makes a daily episode; its numbers are neither title nor episode."""
    if (reading.seasons and reading.episodes) or _MARK.search(text):
        return reading
    found = _DATE.search(text)
    year: int | None = None
    if found and found.start() > 0:
        if found.group(4):
            a, b, year = int(found.group(1)), int(found.group(3)), int(found.group(4))
            valid = 1 <= min(a, b) <= 12 and max(a, b) <= 31
        else:
            year, month, day = int(found.group(5)), int(found.group(7)), int(found.group(8))
            valid = 1 <= month <= 12 and 1 <= day <= 31
        if not valid:
            found, year = None, None
    else:
        found = None
    if found is None and reading.year is None:
        found = _SHORT_DATE.search(text)
        if found:
            yy = int(found.group(1))
            year = (2000 if yy <= _NEXT_YY else 1900) + yy
    if found is None:
        found = _YEAR_MONTH.search(text)
        year = int(found.group(1)) if found else None
    if found is None:
        return reading
    title = _title_before(text, found.start(), reading.title)
    return replace(reading, title=title, year=year, seasons=[], episodes=[], dated=True)


def _bare_number(text: str, reading: Reading) -> Reading:
    """Rules 1, 6 and the film-title number: a bare number right after the title."""
    if reading.seasons or reading.dated:
        return reading
    fansub = _GROUP_PREFIX.match(text)
    body = text[fansub.end() :] if fansub else text
    found = _BARE.match(body)
    if not found:
        return reading
    head = _words(found.group("head"))
    title = reading.title
    if not head or not title.casefold().startswith(head.casefold()):
        return reading
    rest = title[len(head) :]
    digits, tail = found.group("num"), found.group("tail") or ""
    number = int(digits)
    if rest and not rest.startswith(" " + digits) and not rest.startswith(" #" + digits):
        return reading
    if reading.episodes and reading.episodes != [number]:
        return reading
    if reading.episodes and "-" in found.group("sep"):
        return reading  # "Show Title - 1120 [1080p]": parsett's absolute episode stands
    if _YEAR_NEXT.match(tail) and not found.group("year") and not _YEARISH.fullmatch(digits):
        # "Agent 327 2019 720p": the year after the number makes it a film's title number.
        if found.group("hash"):
            return reading
        return replace(reading, title=f"{head} {digits}", episodes=[])
    if fansub or found.group("hash"):
        # "[Group] Show Title 187", "Show #812": an absolute episode number.
        if _YEARISH.fullmatch(digits) and not found.group("hash"):
            return reading
        return replace(reading, title=head, episodes=[number])
    if len(digits) < 3 or _YEARISH.fullmatch(digits):
        return reading
    if number in RESOLUTION_NUMBERS:
        if reading.resolution is None and not _RES_TOKEN.search(text):
            return replace(reading, title=head, resolution=f"{number}p")
        return reading
    season, episode = divmod(number, 100)
    said_tv = bool(found.group("year")) or (
        not _ANY_YEAR.search(text) and _tv_without_year(body, rest, digits, tail)
    )
    if season and episode and said_tv and not _EVENT.search(tail):
        return replace(reading, title=head, seasons=[season], episodes=[episode])
    return reading


def _ova_number(text: str, reading: Reading) -> Reading:
    """ "[Group] Title OVA 02": a numbered OVA/OAD/ONA is that episode of the show."""
    if reading.seasons or reading.episodes or reading.dated:
        return reading
    ova = _OVA.search(text)
    if not ova:
        return reading
    title = _title_before(text, ova.start(), reading.title)
    return replace(reading, title=title, episodes=[int(ova.group(1))])


def _tv_without_year(body: str, rest: str, digits: str, tail: str) -> bool:
    """Whether a year-less name with a bare code after the title reads as an episode: words
    after the code that parsett kept as title ("Show.304.The.Hanging.Tree") are an episode
    title; otherwise release tags that are not a disc source ("Room.237.720p.BluRay" is a
    film); a scene-style name ending at the code ("Show.Name.612") is an episode."""
    if len(rest) > len(digits) + 1:
        return True
    if tail.strip(" ._-"):
        return not _DISC.search(tail)
    return " " not in body


def _title_before(text: str, at: int, title: str) -> str:
    """The title cut where the name's words before ``at`` end, when it runs on past them."""
    prefix = _words(_GROUP_PREFIX.sub("", text[:at]))
    if prefix and title.casefold().startswith(prefix.casefold()) and len(title) > len(prefix):
        return title[: len(prefix)].rstrip(" -")
    return title


def _words(text: str) -> str:
    """Release-name spelling to the title's words: dots/underscores are spaces."""
    return _SEP.sub(" ", text).strip(" -")


# --- seasons and episodes from parsett's lists -----------------------------------------------


def _glued_only(name: str, number: int) -> bool:
    """True when ``number`` appears in the name only glued to the end of a word, as in the
    group name "B4ND1T69" or the channel "Zee5", never standalone or after S/E/Ep/x/Part."""
    seen = False
    for token in _TOKENS.findall(name):
        for digits in _DIGITS.finditer(token):
            if int(digits.group()) != number:
                continue
            seen = True
            prefix = token[: digits.start()].lower()
            if not prefix or _NUMBER_MARKER.search(prefix) or prefix in _NUMBER_PREFIXES:
                return False
    return seen


def _as_number(values: list[int]) -> EpisodeNumber:
    items = sorted({v for v in values if isinstance(v, int) and v >= 0})
    if not items:
        return None
    return items[0] if len(items) == 1 else items


def _seasons(name: str, seasons: list[int], episodes: list[int]) -> list[int]:
    span = _SEASON_TO.search(name) if len(seasons) <= 1 else None
    if span:
        lo, hi = int(span.group(1)), int(span.group(2))
        if lo < hi <= lo + MAX_SEASON_SPAN:
            return list(range(lo, hi + 1))
    if len(seasons) > MAX_SEASON_SPAN:
        return seasons[:1]
    if len(seasons) == 1 and not episodes and _glued_only(name, seasons[0]):
        return []
    return seasons


def _title_number_only(name: str, title: str, number: int) -> bool:
    """True when ``number`` is year-shaped, a word of the title and nowhere else in the name:
    "1917.1080p.BluRay" is the film 1917, not episode 1917 (a three-digit "102 - Title" file
    name stays an episode)."""
    if not _YEAR_WORD.fullmatch(str(number)):
        return False
    word = re.compile(rf"(?<![A-Za-z0-9]){number}(?![A-Za-z0-9])")
    return bool(word.search(title)) and len(word.findall(name)) == 1


def _episodes(name: str, title: str, seasons: list[int], episodes: list[int]) -> list[int]:
    if len(episodes) > 1 and sorted(episodes) == sorted(seasons):
        # "Season 1-10 S01-S10": the season range was read twice.
        return []
    if len(episodes) == 1 and _glued_only(name, episodes[0]):
        return []
    if episodes == [3] and _THREE_D.search(name) and not _THREE.search(_THREE_D.sub(" ", name)):
        return []  # "Film.(2014).[1080p].[3D]": a 3D release, not episode 3
    if not seasons and len(episodes) == 1 and _title_number_only(name, title, episodes[0]):
        return []
    if len(seasons) == 1 and not episodes:
        # "Series.2.Part.11": within a season, a part number is the episode.
        part = _PART.search(name)
        if part:
            return [int(part.group(1))]
    return episodes


def _title_numbers(
    name: str, title: str, seasons: list[int], episodes: list[int], year: int | None
) -> tuple[str, list[int], list[int]]:
    """Season/episode numbers parsett left in the title or missed beside it."""
    # "Band.of.Brothers.Part.01.Currahee", "Planet.Earth.II.Part.1.of.6": a mini-series episode.
    mini = _MINI_PART.search(name)
    if mini and not seasons and (mini.group(1) or year is None):
        number = int(mini.group(1) or mini.group(2))
        if episodes in ([], [number]):
            episodes = [number]
            cut = re.search(r"[ ._-]*\b(?:Part|Pt)\b", title, re.I)
            if cut and cut.start() > 0:
                title = title[: cut.start()]
    # "Dark.Staffel.2", "Gomorra Stagione 5 Episodio 2": foreign season words.
    foreign = _FOREIGN_SEASON.search(name) if not seasons else None
    if foreign:
        seasons = [int(foreign.group(1))]
        if foreign.group(2) and not episodes:
            episodes = [int(foreign.group(2))]
        word = re.search(
            r"[ ._-]*\b(?:Staffel|Stagione|Sezon|S\w?song|S\w?son|Sesong|Kausi)\b", title, re.I
        )
        if word and word.start() > 0:
            title = title[: word.start()]
    # "Friends.Season.One", "Blackadder Series Two": the season as a word.
    word_season = _SEASON_WORD.search(name) if not seasons else None
    if word_season:
        seasons = [_NUMBER_WORDS[word_season.group(1).lower()]]
        cut = re.search(r"[ ._-]*\b(?:Season|Series)\b", title, re.I)
        if cut and cut.start() > 0:
            title = title[: cut.start()]
    # "The.Pacific.Pt.I": "Pt" + roman numeral, no year, is a mini-series episode.
    pt_roman = _PT_ROMAN.search(name) if not seasons and not episodes and year is None else None
    if pt_roman:
        episodes = [_ROMAN[pt_roman.group(1)]]
        cut = re.search(r"[ ._-]*\b(?:Pt|PT)\b", title)
        if cut and cut.start() > 0:
            title = title[: cut.start()]
    # "[Group] Spice and Wolf 03", "[Group] Railgun T 25 END": the episode stayed in the title.
    if not seasons and not episodes and _FANSUB.match(name):
        trailing = _TRAILING_EPISODE.match(title)
        if trailing:
            title, episodes = trailing.group(1), [int(trailing.group(2))]
    # "Title 2 - 11": a single digit between title and episode number is the season.
    if not seasons and len(episodes) == 1:
        anime = _ANIME_SEASON.search(name)
        if anime and title.endswith(" " + anime.group(1)):
            tail = re.search(r"-[ _]+(\d{1,4})", name[anime.end(1) :])
            if tail and int(tail.group(1)) == episodes[0]:
                title, seasons = title[: -len(anime.group(1))].rstrip(), [int(anime.group(1))]
    return title, seasons, episodes
