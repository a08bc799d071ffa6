"""The constants and regexes the parser's rules share: column widths, limits, and every
pattern compiled once at import (the rules using them are in cleaning, title, quality,
numbering and the package)."""

from __future__ import annotations

import datetime
import re
from functools import lru_cache
from typing import Any

from automatic_transmission import limits
from automatic_transmission.model import MediaType

MEDIA_TYPES = tuple(MediaType)


# Column widths of the release table (automatic_transmission.limits).
MAX_TITLE = limits.TITLE_CHARS
MAX_SHORT = limits.SHORT_CHARS
MAX_UPLOADER = limits.UPLOADER_CHARS


def today() -> datetime.date:
    """The date the year bound is measured from (a function: a test moves it)."""
    return datetime.date.today()


def latest_year() -> int:
    """A "year" later than next year is a number in the title ("Blade.Runner.2049.1080p").
    Measured at each parse, so a code server running across New Year moves the bound."""
    return today().year + 1


# Real release names are well under this; anything longer is cut before the regexes run.
MAX_INPUT = 400


# A season list longer than this came from a misread number, not a box set.
MAX_SEASON_SPAN = 40


EpisodeNumber = int | list[int] | None


_SPACES = re.compile(r"\s+")


_TLD = (
    r"(?:com|org|net|info|to|cd|me|tv|in|ws|io|cc|xyz|world|art|party|club|biz|co|uk|eu|se"
    r"|nl|ru|pw|li|si|lol|mx|vip|top|site|online|one|gs|am|re)"
)


# "[ www.Speed.cd ] -", "[www.arabp2p.net]_-_", "{www.Site.ph} "
_PREFIX_BRACKET = re.compile(
    r"^\s*[\[(【{]\s*(?:www\.)?[\w-]+(?:\.[\w-]+)*\.[a-z]{2,10}\s*[\])】}]\s*[-_:.\s]*", re.I
)


# A one-word tag in parentheses before the name: "(Hi10)_Title_-_06", "(HEVC) Title"; never
# a number ("(500) Days", "(2000) Title").
_PREFIX_TAG = re.compile(r"^\s*\((?=[^()\s]*[A-Za-z])[^()\s]{2,12}\)[ _.]*(?=\w)")


# "www.Torrenting.com - ", "www.1TamilMV.world - ", "Crazy4TV.com - "
_PREFIX_WWW = re.compile(r"^\s*www\.[\w-]+(?:\.[\w-]+)+\s*[-_:|]+\s*", re.I)


_PREFIX_DOMAIN = re.compile(rf"^\s*[\w-]+\.{_TLD}\s+[-_:|]+\s*", re.I)


_YEAR = r"(?:19\d\d|20\d\d)"


# A sample file's marker before the name: "sample-the.holdovers.2023.1080p.web.h264-ethel.mkv".
_PREFIX_SAMPLE = re.compile(r"^\s*sample[-_.]+(?=\w)", re.I)


# A file size ("[5.8GB]", "- 700MB -"): never an episode number.
_SIZE = re.compile(
    r"[\[(]?(?<![\w.])\d{1,4}(?:[.,]\d{1,2})?\s?(?:GB|MB|GiB|MiB)(?![\w])[\])]?", re.I
)


# "Lycoris Recoil - 1080p - 05v2.mkv": a number after the last dash at the very end of the name.
_DASH_EPISODE = re.compile(r"[ _]-[ _](\d{1,4})(?:v\d)?(?:\.[A-Za-z0-9]{2,4})?$")


# "Fawlty.Towers.The.Complete.Series": a whole series without season numbers.
_COMPLETE_SERIES = re.compile(r"(?<![A-Za-z0-9])Complete[ ._-]+Series(?![A-Za-z0-9])", re.I)


# Two year-like numbers in a row: the first belongs to the title ("1917.2019", "The Legend of
# 1900 1998"), the second is the release year.
_TWO_YEARS = re.compile(rf"(?<![\w])({_YEAR})(?:[ ._]+|[ ._]*\()({_YEAR})(?![\w])")


_RES_WXH = re.compile(r"(?<!\d)(\d{3,4})\s*[x\u00d7]\s*(\d{3,4})(?:p|i)?(?!\d)", re.I)


_RES_ANY = re.compile(r"(?<![\w])(\d{3,4})[pi](?![a-z0-9])|\b(4k|uhd)\b", re.I)


_WIDTH_CLASS = {7680: 4320, 3840: 2160, 4096: 2160, 2560: 1440, 1920: 1080, 1280: 720}


_SEASON_TO = re.compile(
    r"\bS(?:eason)?[ ._]?(\d{1,2})[ ._]*(?:to|thru|through|-|~|\u2013)[ ._]*"
    r"S(?:eason)?[ ._]?(\d{1,2})\b",
    re.I,
)


# A dotted acronym standing as its own word in a space-separated name: "S.H.I.E.L.D. S02".
_ACRONYM = re.compile(r"(?<![A-Za-z0-9.])((?:[A-Za-z]\.)+[A-Za-z])\.?(?= )")


_TOKENS = re.compile(r"[A-Za-z0-9]+")


_DIGITS = re.compile(r"\d+")


# What may stand glued before a season/episode number: "S01E05", "5x06", "Ep02", "T02".
_NUMBER_MARKER = re.compile(r"(?:^|\d)(?:x|e|xe)$|^(?:s|e|ep|t|se|sez|ser|x)$")


_NUMBER_PREFIXES = frozenset(
    {
        "season",
        "episode",
        "part",
        "pt",
        "cd",
        "disc",
        "vol",
        "cap",
        "chapter",
        "eps",
        "series",
        "saison",
        "temporada",
        "seizoen",
        "staffel",
        "stagione",
    }
)


_THREE_D = re.compile(r"(?<![A-Za-z0-9])3D(?![A-Za-z0-9])", re.I)


_THREE = re.compile(r"(?<![0-9.])0*3(?![0-9.])")


_PART = re.compile(r"\bPart[ ._]?(\d{1,3})\b", re.I)


# A mini-series episode: "Part.1.of.6", "Part 03" (films say "Part 2", "Part II", "Part One").
_MINI_PART = re.compile(
    r"(?<![A-Za-z0-9])(?:Part|Pt)[ ._]?(?:(\d{1,2})[ ._]?of[ ._]?\d{1,2}|0(\d))(?![A-Za-z0-9])",
    re.I,
)


# The same run as parsett writes it in a title: "S W A T".
_SPACED_CAPS = re.compile(r"(?<![\w.'])[A-Z](?: [A-Z])+(?![\w'])")


# A fansub release: "[Group] Title ...".
_FANSUB = re.compile(r"^\[[^\]]+\][ _]*(?=[^\[ _])")


# The episode number left at the end of a fansub title: "Spice and Wolf 03", "Railgun T 25 END".
_TRAILING_EPISODE = re.compile(
    r"^(.*?\S)[ ._-]+(0\d{1,3}|\d{1,4}(?=[ ._]+END$))(?:[ ._]+END)?$", re.I
)


# "Title 2 - 05": a single digit between the title and the episode is the season (fansub style).
_ANIME_SEASON = re.compile(r"(?<![\w.])([2-9])[ _]+-[ _]+\d{1,4}(?:v\d)?(?![\w.])")


# Season/episode words parsett does not know: German, Italian, Polish, Swedish/Danish/Norwegian,
# Finnish ("Staffel 2 Folge 3", "Stagione 4 Episodio 2", "Sezon 1", "Sasong 1", "Kausi 2").
_FOREIGN_SEASON = re.compile(
    r"(?<![A-Za-z0-9])(?:Staffel|Stagione|Sezon|S[\u00e4a]song|S[\u00e6a]son|Sesong|Kausi)"
    r"[ ._]?(\d{1,2})(?![0-9])(?:[ ._-]*(?:Folge|Episodio|Odcinek|Avsnitt|Jakso)[ ._]?(\d{1,3}))?",
    re.I,
)


# An explicit resolution token in the name.
_RES_TOKEN = re.compile(r"(?<![A-Za-z0-9])(\d{3,4})[pi](?![A-Za-z0-9])", re.I)


# Broadcaster tags some groups put before a documentary's title ("BBC.Billy.and.Us"); any
# other leading word parsett drops ("IMAX.Blue.Planet", "PBS.NewsHour", "X2.X-Men") is title.
_BROADCASTER_TAGS = frozenset({"bbc", "itv", "ch4", "c4", "ng", "natgeo", "hd", "fhd", "uhd", "4k"})


_LEADING_WORDS = re.compile(r"(?:[A-Za-z0-9]+[ ._])+")


_YEAR_WORD = re.compile(r"(?:19|20)\d\d")


# Cut/edition words parsett leaves at the end of a title: "Aliens Special Edition",
# "Blade Runner The Final Cut", "Nude - International Cut", "Watchmen Ultimate Cut".
_EDITION_TAIL = re.compile(
    r"(?:[ ._]+-)?[ ._]+(?:The[ ._]+)?(?:(?:Ultimate|Special|Extended|Collector'?s|Anniversary"
    r"|Limited|Deluxe|Definitive|Unrated|Uncut|Remastered)[ ._]+)*"
    r"(?:Director'?s[ ._]+Cut|Directors[ ._]+Cut|(?:Final|Ultimate|International|Theatrical"
    r"|Extended|Unrated|Uncut)[ ._]+Cut|(?:Special|Extended|Collector'?s|Ultimate|Anniversary"
    r"|Deluxe|Definitive)[ ._]+Edition|Criterion(?:[ ._]+Collection)?|Theatrical|Extended"
    r"|Unrated|Uncut|Remastered)$",
    re.I,
)


# An edition adjective left dangling after parsett cut the rest ("The Warriors - Ultimate"
# from "The Warriors - Ultimate Directors Cut").
_EDITION_STUB = re.compile(
    r"(?:[ ._]+-)?[ ._]+(Ultimate|Special|Extended|Collector'?s|Anniversary)$", re.I
)


# An anime batch's label left on the title: "Title - Batch" (from "Title - Batch 01-12").
_BATCH_TAIL = re.compile(r"(?:[ ._]+-)?[ ._]+Batch$", re.I)


# A genre after a dash at the end of a title: "The Deep Blue Sea - Drama".
_GENRE_TAIL = re.compile(
    r"[ ._]+-[ ._]+(?:Drama|Comedy|Horror|Thriller|Action|Documentary|Romance|Animation"
    r"|Western|Crime|Mystery|Fantasy|Adventure|Musical|Sci-Fi|War)$",
    re.I,
)


_ABBREVIATION = re.compile(r"[A-Z][a-z]{1,3}")


# "Das Boot AKA The Boat", "Nikita a k a La Femme Nikita": the first title is the title.
_AKA = re.compile(r"[ ._]+(?:AKA|aka|a[ .]k[ .]a\.?)[ ._]+\S")


# "Season.One", "Series Two": a season written as a word.
_NUMBER_WORDS = {
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
}


_SEASON_WORD = re.compile(
    r"(?<![A-Za-z0-9])(?:Season|Series)[ ._](One|Two|Three|Four|Five|Six|Seven|Eight|Nine|Ten)"
    r"(?![A-Za-z0-9])",
    re.I,
)


# "The.Pacific.Pt.I": "Pt" plus a roman numeral is a mini-series episode (films write "Part").
_PT_ROMAN = re.compile(
    r"(?<![A-Za-z0-9])(?:Pt|PT)[ ._]?(I|II|III|IV|V|VI|VII|VIII|IX|X)(?![A-Za-z0-9])"
)


_ROMAN = {
    "I": 1,
    "II": 2,
    "III": 3,
    "IV": 4,
    "V": 5,
    "VI": 6,
    "VII": 7,
    "VIII": 8,
    "IX": 9,
    "X": 10,
}


_CODEC_X = re.compile(r"(?<![a-z0-9])x[ .-]?26([45])(?![0-9])", re.I)


_CODEC_H = re.compile(r"(?<![a-z0-9])h[ .-]?26([45])(?![0-9])", re.I)


_DIVX = re.compile(r"divx", re.I)


_MPEG2 = re.compile(r"mpeg[ .-]?2", re.I)


_DTS_X = re.compile(r"DTS[ .:-]?X(?![a-z])", re.I)


_AUDIO_NAMES = {
    "Dolby Digital Plus": "EAC3",
    "Dolby Digital": "AC3",
    "DTS Lossless": "DTS-HD MA",
    "DTS Lossy": "DTS",
    "TrueHD": "TrueHD",
    "FLAC": "FLAC",
    "AAC": "AAC",
    "PCM": "PCM",
    "OPUS": "OPUS",
    "MP3": "MP3",
    "Atmos": "Atmos",
}


_UPLOAD_TYPES = {"BluRay REMUX": "REMUX"}


@lru_cache(maxsize=1)
def _ptt_parse() -> Any:
    """parsett's parse function, imported on first use so importing this module stays cheap."""
    from PTT import parse_title

    return parse_title


# A file name that is only an episode number, maybe after an episode word.
_NUMBER_TITLE = re.compile(
    r"(?:(?:Episode|Ep|E|Folge|Afl|Aflevering|Cap|Capitulo|\u0421\u0435\u0440\u0438\u044f)[ ._]*)?"
    r"\d{1,4}",
    re.I,
)


# A file name that opens with its episode code: "S01E06.mkv", "04x07 - Name.mkv".
_CODE_FIRST = re.compile(r"\s*[\[(]?(?:S\d{1,3}[ ._]?E\d{1,4}|\d{1,2}x\d{1,4})(?![0-9])", re.I)
