"""Parse torrent/release names into the fields the pipeline files media by.

Built on parsett (PyPI ``parsett``, module ``PTT``) with domain corrections layered on top.
The corrections are general rules, not per-name fixes; why parsett and how each round of rules
scored is in ``benchmarks/PARSING.md`` (figures from ``benchmarks/parse_bench.py``). The package
is split by job: ``patterns`` (constants, regexes), ``cleaning`` (input), ``title``, ``quality``
(resolution, codecs, source), ``numbering`` (seasons, episodes), ``paths`` (folders); this module
keeps ``ParsedRelease`` and ``parse_release``, which runs them in order.

Normalisation (the DB limits resolution/codecs/upload_type to 10 chars, uploader to 25,
title to 255):

- ``resolution``: ``<height>p`` lower case; 4K/UHD -> ``2160p``, ``1080i`` -> ``1080p``,
  ``1920x1080`` -> ``1080p``; when a pack lists several, the highest.
- ``video_codec``: lower case, no dots: ``x264``/``x265`` when the name names the encoder,
  otherwise ``h264``/``h265`` (also for AVC/HEVC), ``xvid``, ``divx``, ``av1``, ``mpeg2``,
  ``mpeg``.
- ``audio_codec``: the main track's format without channel count: ``AAC``, ``AC3``,
  ``EAC3`` (DD+/DDP), ``DTS``, ``DTS-HD MA``, ``DTS-X``, ``TrueHD``, ``Atmos``, ``FLAC``,
  ``PCM``, ``OPUS``, ``MP3``.
- ``upload_type``: the source as parsett spells it (``WEB-DL``, ``WEBRip``, ``BluRay``,
  ``BDRip``, ``BRRip``, ``HDTV``, ``DVDRip``, ``HDRip``, ``CAM``, ...); BluRay remuxes are
  ``REMUX``.
- Over-long values: ``title`` is cut to 255 characters at a word boundary (a shortened title
  still finds the film); every other field longer than its column is dropped to ``None``
  (a cut codec or group name would be a wrong value).

Title/number rules on top of parsett (each general, scored on ``tests/data/release_names_extra.jsonl``):
dotted acronyms kept ("S.W.A.T.", "P.D."); a bare number between title and year stays in the
title ("Apollo 13 1995"); an explicit ``<N>p`` beats a resolution read from a word ("-FHD");
"Part 1 of 6"/"Part 01" is a mini-series episode; "3x01-3x02" is a range; a fansub title's
trailing "03"/"25 END" is the episode and "Title 2 - 05" is season 2; foreign season words
(Staffel, Stagione, Sezon, Sasong, ...); hyphen-only separators ("The-Batman-2022-720p");
leading words parsett drops are title ("IMAX Blue Planet", "PBS NewsHour", "X2 X-Men United")
except a broadcaster tag (BBC, ITV, CH4, NG: "BBC.Billy.and.Us" -> "Billy and Us") or a year;
edition/cut words ("Special Edition", "The Final Cut", "- International Cut", "Criterion") and
a genre after a dash ("- Drama") are not title; "X AKA Y" / "X a k a Y" is X; an ellipsis and a
short abbreviation's dot are kept ("What If...", "tick tick...BOOM", "Samrat & Co.");
"Season.One"/"Series Two" is a season; "Lost.102.HDTV" (three digits right before a broadcast
source, no year) is S01E02; "The.Pacific.Pt.I" (Pt + roman, no year) is episode 1 ("Part II"
stays title: "The Godfather Part II").

More rules: a "year" later than next year is a title number ("Blade.Runner.2049.1080p"
-> "Blade Runner 2049", no year); a year-shaped episode number that is only a word of the
title is the title ("1917.1080p" is not episode 1917; three-digit "102 - Title.avi" stays an
episode); a file size ("[5.8GB]") is removed before parsing; a leading "sample-" is not
title; with no other number, the number after the last dash at the end is the episode
("Title - 1080p - 05v2.mkv"); "Complete Series" without season numbers is ``tv_season``
(season None, so the required-field check flags it for review rather than filing a film).
Sports: a dated event ("NBA 2023 11 02 ...", "WWE.Raw.2024.01.15") is a daily ``tv_show``;
a numbered one-off event ("UFC.290...") is a ``movie`` and its number is not an episode.
Known misses: a year-less title starting with a year ("2001.A.Space.Odyssey.1080p" reads
2001 as the year; the dev set reads "2008 The Incredible Hulk" that way), "Firefly - 101",
"John.Adams.Part.II.Independence".

Country tags: a country code between the title and the season marker is not title
("The.Office.US.S01E01", "The Office (US)", "Big.Brother.AU" -> "The Office", "Big Brother"),
as guessit (which moves it to a ``country`` field) and parsett do; the pipeline matches series
by title + year, and the dev set's own rows disagree (US/UK dropped, one AU kept).

Season/episode numbering (bare episode codes, "Cap.205", repeated markers such as
"S03E01.S03E02" or "3x01-3x02", year-shaped seasons, daily shows in every date shape, anime
absolute numbers, extras, a number before a year in a film title, words before the first marker
that share nothing with parsett's title ("2047.S01E03...-GRP"), "&"/"+" joining repeated markers,
"OVA 02" as episode 2) lives in ``parsing/numbering.py`` and runs after the rules above; a "3D"
tag is no episode, an anime "- Batch" label is not title.

File paths ("Shows/Title/Season 2/Title - 05.mkv") are read by ``parsing/paths.py``: the file
name is parsed and its folders fill only what it lacks (title, season, year, resolution).

Nothing here raises on any ``str`` input; hostile input (control characters, 100 kB names)
is cleaned and capped before parsing.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, replace
from typing import Any

from automatic_transmission.model import CONTROL_CHARACTERS, MediaType
from automatic_transmission.parsing.cleaning import (
    _clean_input,
    _hyphen_separated,
    _normalise_words,
)
from automatic_transmission.parsing.numbering import (
    Reading,
    _as_number,
    _episodes,
    _seasons,
    _title_numbers,
    apply_numbering_rules,
)
from automatic_transmission.parsing.paths import split_path
from automatic_transmission.parsing.patterns import (
    _CODE_FIRST,
    _COMPLETE_SERIES,
    _DASH_EPISODE,
    _NUMBER_TITLE,
    _RES_TOKEN,
    _TOKENS,
    MAX_INPUT,
    MAX_SHORT,
    MAX_TITLE,
    MAX_UPLOADER,
    MEDIA_TYPES,
    EpisodeNumber,
    _ptt_parse,
    latest_year,
)
from automatic_transmission.parsing.quality import (
    _audio_codec,
    _fit,
    _resolution,
    _upload_type,
    _video_codec,
)
from automatic_transmission.parsing.revision import FIRST_REVISION, parse_revision
from automatic_transmission.parsing.title import (
    _cut_at_bracket,
    _fit_title,
    _fix_year_and_title,
    _leading_words,
    _restore_acronyms,
    _restore_punctuation,
    _tidy_title,
)

__all__ = [
    "MAX_SHORT",
    "MAX_TITLE",
    "MAX_UPLOADER",
    "MEDIA_TYPES",
    "EpisodeNumber",
    "ParsedRelease",
    "classify_media_type",
    "latest_year",
    "missing_required_fields",
    "parse_release",
    "required_field_error",
]


@dataclass(frozen=True)
class ParsedRelease:
    """What a release name tells us; every field is None when the name does not say."""

    title: str | None = None
    year: int | None = None
    season: EpisodeNumber = None
    episode: EpisodeNumber = None
    resolution: str | None = None
    video_codec: str | None = None
    audio_codec: str | None = None
    upload_type: str | None = None
    uploader: str | None = None
    # Always a MediaType once built; a plain value ("movie") is accepted and converted, so
    # callers that build a ParsedRelease by hand keep working.
    media_type: MediaType | str = MediaType.UNKNOWN
    revision: int = FIRST_REVISION  # PROPER/REPACK: parsing/revision.py

    def __post_init__(self) -> None:
        object.__setattr__(self, "media_type", MediaType(self.media_type))

    def as_dict(self) -> dict[str, Any]:
        """The fields in declaration order (the ``at-parse`` JSON shape)."""
        return asdict(self)


def _media_type(
    title: str | None,
    season: EpisodeNumber,
    episode: EpisodeNumber,
    dated: bool,
    series: bool = False,
) -> MediaType:
    if isinstance(episode, list):
        return MediaType.TV_EPISODE_PACK
    if episode is not None:
        return MediaType.TV_SHOW
    if season is not None or (series and title):
        # "Fawlty.Towers.The.Complete.Series": a series box set, seasons unnamed.
        return MediaType.TV_SEASON
    if dated:
        # Daily shows ("Show.2020.06.16") are episodes named by air date.
        return MediaType.TV_SHOW
    return MediaType.MOVIE if title else MediaType.UNKNOWN


def parse_release(name: object) -> ParsedRelease:
    """Parse a release name; never raises, returns an all-None ``unknown`` result at worst."""
    try:
        return _parse(name)
    except Exception:  # errors are values: a bad name is an unknown release, not a crash
        return ParsedRelease()


def _parse(name: object) -> ParsedRelease:
    if not isinstance(name, str):
        name = "" if name is None else str(name)
    folders, file_name = split_path(CONTROL_CHARACTERS.sub(" ", name[: MAX_INPUT * 4])[:MAX_INPUT])
    parsed = _parse_name(file_name)
    return _fill_from_folders(parsed, folders, file_name) if folders else parsed


def _fill_from_folders(parsed: ParsedRelease, folders: list[str], file_name: str) -> ParsedRelease:
    """A file's reading completed from its folders, nearest first: the title when the file
    name has none, the season of a "Season 2" folder, the year and resolution of a folder
    named for the same title ("Film (2014)/Film - 1080p.mkv"), and that folder's spelling of
    a title the file name writes all in lower case ("Film (2014)/film.2014.mkv")."""
    title, year, season = parsed.title, parsed.year, parsed.season
    resolution = parsed.resolution
    if title and _NUMBER_TITLE.fullmatch(title) and parsed.episode is not None:
        title = None  # "Season 1/03.mkv", "Сезон 5/Серия 11.mkv": the file is only a number
    if parsed.episode is not None and _CODE_FIRST.match(file_name):
        title = None  # "Season 4/04x07 - The Tide.mkv": words after the code are the episode's
    for folder in reversed(folders):
        found = _parse_name(folder)
        season_folder = found.season is not None and found.episode is None
        if season is None and season_folder and parsed.season is None:
            season = found.season
        if not found.title:
            continue
        if title is None and not season_folder:
            title = found.title
        if _same_title(found.title, title):
            if title and title.islower() and not found.title.islower():
                title = found.title
            year = year if year is not None else found.year
            resolution = resolution or found.resolution
    if (title, year, season, resolution) == (
        parsed.title,
        parsed.year,
        parsed.season,
        parsed.resolution,
    ):
        return parsed
    return replace(
        parsed,
        title=title,
        year=year,
        season=season,
        resolution=resolution,
        media_type=_media_type(title, season, parsed.episode, dated=False),
    )


def _same_title(a: str | None, b: str | None) -> bool:
    """Titles equal but for case and punctuation ("Film" / "film", "Mr. X" / "Mr X")."""
    if not a or not b:
        return False
    return _TOKENS.findall(a.casefold()) == _TOKENS.findall(b.casefold())


def _parse_name(name: str) -> ParsedRelease:
    text = _clean_input(name)
    if not any(ch.isalnum() for ch in text):
        return ParsedRelease()
    raw: dict[str, Any] = _ptt_parse()(text)

    title = raw.get("title") or ""
    year = raw.get("year") if isinstance(raw.get("year"), int) else None
    date = raw.get("date")
    if year is None and isinstance(date, str) and date[:4].isdigit():
        year = int(date[:4])
    if year is not None and year > latest_year():
        # "Blade.Runner.2049.1080p": a future "year" is a number in the title.
        at_year = re.search(rf"(?<![\w]){year}(?![\w])", text)
        before = _normalise_words(text[: at_year.start()]) if at_year else ""
        if title and before.lower() == title.lower():
            title = f"{before} {year}"
        year = None
    if not title and year is not None:
        # "X2.2003.1080p": parsett read the whole title as a tag; the words before the year.
        at_year = re.search(rf"(?<![\w]){year}(?![\w])", text)
        if at_year and re.fullmatch(
            r"[A-Za-z0-9]+(?:[ ._-][A-Za-z0-9]+)*[ ._(\[]*", text[: at_year.start()]
        ):
            title = _normalise_words(text[: at_year.start()]).rstrip(" ([")
    if not title and year is not None and re.match(rf"{year}(?:[ ._-]|$)", text):
        # "2012.720p.BluRay": a name that is only a year-shaped word is a film called that.
        title, year = str(year), None
    if title:
        title = _leading_words(text, title)
        title, year = _fix_year_and_title(text, title, year)
        title = _tidy_title(text, title)
        title = _restore_acronyms(text, title)
        title = _restore_punctuation(text, title)
        title = _cut_at_bracket(text, title)

    seasons = [s for s in raw.get("seasons") or [] if isinstance(s, int)]
    episodes = [e for e in raw.get("episodes") or [] if isinstance(e, int)]
    if title and _hyphen_separated(text):
        title = title.replace("-", " ")
    if title:
        title, seasons, episodes = _title_numbers(text, title, seasons, episodes, year)
    if not seasons and not episodes and not isinstance(date, str):
        # "Lycoris Recoil - 1080p - 05v2.mkv": the number after the last dash is the episode.
        dash = _DASH_EPISODE.search(text)
        if dash and not _RES_TOKEN.fullmatch(dash.group(1) + "p"):
            episodes = [int(dash.group(1))]
    seasons = _seasons(text, seasons, episodes)
    episodes = _episodes(text, title, seasons, episodes)
    numbered = apply_numbering_rules(
        text, Reading(title, year, seasons, episodes, dated=isinstance(date, str))
    )
    title, year, seasons, episodes = (
        numbered.title,
        numbered.year,
        numbered.seasons,
        numbered.episodes,
    )
    season, episode = _as_number(seasons), _as_number(episodes)

    fitted_title = _fit_title(title)
    return ParsedRelease(
        title=fitted_title,
        year=year,
        season=season,
        episode=episode,
        resolution=_fit(numbered.resolution or _resolution(text, raw.get("resolution")), MAX_SHORT),
        video_codec=_fit(_video_codec(text, raw.get("codec")), MAX_SHORT),
        audio_codec=_fit(_audio_codec(text, raw.get("audio")), MAX_SHORT),
        upload_type=_fit(_upload_type(raw.get("quality")), MAX_SHORT),
        uploader=_fit(raw.get("group"), MAX_UPLOADER),
        media_type=_media_type(
            fitted_title,
            season,
            episode,
            dated=numbered.dated,
            series=bool(_COMPLETE_SERIES.search(text)),
        ),
        revision=parse_revision(text),
    )


def classify_media_type(name: object) -> MediaType:
    """The media type of a feed title or torrent name whose type is not known."""
    return MediaType(parse_release(name).media_type)


_REQUIRED: dict[MediaType, tuple[tuple[str, str], ...]] = {
    MediaType.MOVIE: (("title", "title"), ("year", "release_year")),
    MediaType.TV_SHOW: (("title", "title"), ("season", "season"), ("episode", "episode")),
    MediaType.TV_SEASON: (("title", "title"), ("season", "season")),
    MediaType.TV_EPISODE_PACK: (("title", "title"), ("season", "season")),
}


def missing_required_fields(parsed: ParsedRelease, media_type: MediaType | str) -> list[str]:
    """Names (DB column names: ``title``, ``release_year``, ``season``, ``episode``) of the
    fields ``media_type`` needs that ``parsed`` lacks; an unknown type needs only the title."""
    known = media_type in MEDIA_TYPES
    required = _REQUIRED.get(MediaType(media_type), ()) if known else ()
    required = required or (("title", "title"),)
    return [column for attr, column in required if getattr(parsed, attr) in (None, "", [])]


def required_field_error(parsed: ParsedRelease, media_type: MediaType | str) -> str | None:
    """The error text stored for an incomplete parse, e.g. ``"season is null; episode is null"``;
    None when nothing required is missing."""
    missing = missing_required_fields(parsed, media_type)
    return "; ".join(f"{column} is null" for column in missing) or None
