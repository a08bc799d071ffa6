"""Rules of the release-name parser, one readable case per rule."""

from __future__ import annotations

import datetime
from typing import Any

import pytest

from automatic_transmission.model import MediaType
from automatic_transmission.parsing import (
    MAX_SHORT,
    MAX_TITLE,
    MAX_UPLOADER,
    ParsedRelease,
    classify_media_type,
    latest_year,
    missing_required_fields,
    parse_release,
    patterns,
    required_field_error,
)

# (id, name, expected subset of fields)
CASES: list[tuple[str, str, dict[str, Any]]] = [
    (
        "movie_scene_name_has_every_field",
        "Dune.Part.Two.2024.2160p.WEB-DL.DDP5.1.Atmos.H.265-FLUX",
        {
            "title": "Dune Part Two",
            "year": 2024,
            "season": None,
            "episode": None,
            "resolution": "2160p",
            "video_codec": "h265",
            "audio_codec": "EAC3",
            "upload_type": "WEB-DL",
            "uploader": "FLUX",
            "media_type": "movie",
        },
    ),
    (
        "movie_yify_style",
        "Hercules (2014) 1080p BrRip H264 - YIFY",
        {"title": "Hercules", "year": 2014, "resolution": "1080p", "uploader": "YIFY"},
    ),
    (
        "episode_single",
        "The Walking Dead S05E03 720p HDTV x264-ASAP[ettv]",
        {
            "title": "The Walking Dead",
            "season": 5,
            "episode": 3,
            "resolution": "720p",
            "video_codec": "x264",
            "upload_type": "HDTV",
            "uploader": "ASAP",
            "media_type": "tv_show",
        },
    ),
    (
        "bracketed_year_wins_over_title_year_2001",
        "2001 A Space Odyssey (1968) 1080p BluRay x264",
        {"title": "2001 A Space Odyssey", "year": 1968, "media_type": "movie"},
    ),
    (
        "bracketed_year_wins_over_title_year_2049",
        "Blade Runner 2049 (2017) 2160p UHD BluRay x265",
        {"title": "Blade Runner 2049", "year": 2017, "resolution": "2160p"},
    ),
    ("bracketed_year_after_year_title", "1917 (2019) 1080p", {"title": "1917", "year": 2019}),
    (
        "second_of_two_adjacent_years_is_the_year",
        "1917.2019.1080p.BluRay.x264-SPARKS",
        {"title": "1917", "year": 2019, "uploader": "SPARKS"},
    ),
    (
        "year_in_title_then_release_year",
        "The.Legend.of.1900.1998.1080p.BluRay.H264.AAC-RARBG",
        {"title": "The Legend of 1900", "year": 1998, "audio_codec": "AAC"},
    ),
    (
        "genre_words_in_year_bracket_are_not_title",
        "Easy Rider  (Drama 1969)  Peter Fonda  720p  BrRip",
        {"title": "Easy Rider", "year": 1969},
    ),
    (
        "multi_episode_range_with_dash",
        "The.Simpsons.S01E01-E03.720p.WEB.x265-GRP",
        {"season": 1, "episode": [1, 2, 3], "media_type": "tv_episode_pack"},
    ),
    (
        "multi_episode_concatenated",
        "Friends.S09E23E24.720p.BluRay.DD5.1.x264-NTb.mkv",
        {"season": 9, "episode": [23, 24], "audio_codec": "AC3", "media_type": "tv_episode_pack"},
    ),
    (
        "multi_episode_x_notation",
        "Show.Name.1x01-03.HDTV.XviD",
        {"season": 1, "episode": [1, 2, 3], "video_codec": "xvid"},
    ),
    (
        "multi_season_pack",
        "The.X-Files.Complete.S01-S03.1080p.BluRay.x264-GECKOS",
        {"title": "The X-Files", "season": [1, 2, 3], "episode": None, "media_type": "tv_season"},
    ),
    (
        "season_range_written_with_to",
        "The Simpsons - Complete Seasons S01 to S04 (1080p)",
        {"title": "The Simpsons", "season": [1, 2, 3, 4], "media_type": "tv_season"},
    ),
    (
        "complete_season_word",
        "Breaking Bad Season 2 Complete 720p",
        {"title": "Breaking Bad", "season": 2, "episode": None, "media_type": "tv_season"},
    ),
    (
        "complete_season_scene",
        "Breaking.Bad.S02.COMPLETE.1080p.BluRay.x264-ROVERS",
        {"season": 2, "episode": None, "media_type": "tv_season"},
    ),
    (
        "special_is_season_zero",
        "Doctor.Who.2005.S00E05.720p.HDTV.x264-FoV",
        {"title": "Doctor Who", "season": 0, "episode": 5, "media_type": "tv_show"},
    ),
    (
        "plus_as_word_separator",
        "The+Office+S01E01+720p+HDTV",
        {"title": "The Office", "season": 1, "episode": 1, "media_type": "tv_show"},
    ),
    (
        "plus_between_episodes_kept",
        "The Office S07E25+E26 Search Committee.mp4",
        {"title": "The Office", "episode": [25, 26]},
    ),
    (
        "tracker_prefix_www_dash",
        "www.Torrenting.com - Severance.S02E01.1080p.WEB.h264-ETHEL",
        {"title": "Severance", "season": 2, "episode": 1, "video_codec": "h264"},
    ),
    (
        "tracker_prefix_uindex",
        "www.UIndex.org    -    The Bear S03E01 1080p WEB h264-ETHEL",
        {"title": "The Bear", "season": 3, "episode": 1},
    ),
    (
        "tracker_prefix_in_brackets",
        "[ www.Speed.cd ] -Sons.of.Anarchy.S07E07.720p.HDTV.X264-DIMENSION",
        {"title": "Sons of Anarchy", "season": 7, "episode": 7, "uploader": "DIMENSION"},
    ),
    (
        "tracker_prefix_tamilmv",
        "www.1TamilMV.world - Ayalaan (2024) Tamil PreDVD - 1080p - x264 - 2.5GB.mkv",
        {"title": "Ayalaan", "year": 2024},
    ),
    (
        "tracker_prefix_bare_domain",
        "Crazy4TV.com - Dark Matter Season 1 S01 720p BluRay x265 HEVC",
        {"title": "Dark Matter", "season": 1, "video_codec": "x265"},
    ),
    (
        "daily_show_date_gives_year_and_episode_type",
        "Stephen.Colbert.2020.06.23.John.Bolton.720p.HDTV.x264-SORNY[eztv]",
        {"title": "Stephen Colbert", "year": 2020, "media_type": "tv_show"},
    ),
    (
        "resolution_4k_is_2160p",
        "Casino.1995.4K.HDR.BluRay.x265-GRP",
        {"resolution": "2160p"},
    ),
    (
        "resolution_from_width_x_height",
        "Sons of Anarchy Season 3 Complete 1280 x 720 x264",
        {"resolution": "720p", "season": 3},
    ),
    (
        "resolution_standard_width_wins",
        "[Beatrice-Raws] Evangelion 3.333 You Can (Not) Redo [BDRip 3840x1632 HEVC TrueHD]",
        {"resolution": "2160p", "audio_codec": "TrueHD", "upload_type": "BDRip"},
    ),
    (
        "number_glued_in_group_name_is_not_a_season",
        "X-Men.2000.REMASTERED.BRRip.XviD.B4ND1T69",
        {"title": "X-Men", "year": 2000, "season": None, "media_type": "movie"},
    ),
    (
        "number_glued_in_channel_name_is_not_an_episode",
        "Kasganj 2019 Hindi 1080p Zee5 WebDL AVC AAC 2.0 ESub - Telly.mkv",
        {"episode": None, "video_codec": "h264", "media_type": "movie"},
    ),
    (
        "season_range_not_repeated_as_episodes",
        "Are You Being Served (1972) Season 1-10 S01-S10 + Extras (576p AMZN WEB-DL x265)",
        {"season": list(range(1, 11)), "episode": None, "resolution": "576p"},
    ),
    (
        "part_within_a_season_is_the_episode",
        "Sea.Monsters.Series.2.Part.11.Oceans.Most.Powerful.1080p.HDTV.x264",
        {"season": 2, "episode": 11},
    ),
    (
        "remux_source_fits_column",
        "Casino.1995.2160p.UHD.BluRay.REMUX.HDR.HEVC.DTS-X.7.1-DENDA.mkv",
        {"upload_type": "REMUX", "audio_codec": "DTS-X", "video_codec": "h265"},
    ),
    (
        "dotted_acronym_kept_in_spaced_name",
        "Marvels Agents of S.H.I.E.L.D. S02E06 HDTV x264-KILLERS[ettv]",
        {"title": "Marvels Agents of S.H.I.E.L.D.", "season": 2, "episode": 6},
    ),
    (
        "dotted_acronym_kept_in_dotted_name",
        "S.W.A.T.2017.S07E01.1080p.WEB.h264-ETHEL",
        {"title": "S.W.A.T.", "year": 2017, "season": 7, "episode": 1},
    ),
    (
        "two_letter_acronym_keeps_final_dot",
        "Chicago P.D. S11E01 720p WEB h264-ETHEL",
        {"title": "Chicago P.D.", "season": 11, "episode": 1},
    ),
    (
        "number_between_title_and_year_is_title",
        "Apollo 13 1995 Anniversary Edition 720p BRRip x264",
        {"title": "Apollo 13", "year": 1995, "media_type": "movie"},
    ),
    (
        "explicit_resolution_beats_group_name",
        "Amelie 2001 TRUEFRENCH 720p BluRay x264-FHD",
        {"resolution": "720p", "year": 2001},
    ),
    (
        "mini_series_part_of_n_is_the_episode",
        "The.Night.Manager.Part.3.of.6.720p.HDTV.x264",
        {"title": "The Night Manager", "season": None, "episode": 3, "media_type": "tv_show"},
    ),
    (
        "mini_series_zero_padded_part_is_the_episode",
        "Band.of.Brothers.Part.01.Currahee.1080p.BluRay.x264",
        {"title": "Band of Brothers", "episode": 1, "media_type": "tv_show"},
    ),
    (
        "film_part_stays_in_title",
        "Harry.Potter.and.the.Deathly.Hallows.Part.2.2011.1080p.BluRay.x264-CiNEFiLE",
        {"title": "Harry Potter and the Deathly Hallows Part 2", "episode": None},
    ),
    (
        "episode_range_written_nxee_twice",
        "Futurama.3x01-3x02.DVDRip.XviD",
        {"season": 3, "episode": [1, 2], "media_type": "tv_episode_pack"},
    ),
    (
        "fansub_trailing_number_is_the_episode",
        "[Nep_Blanc] Spice and Wolf 03 .mp4",
        {"title": "Spice and Wolf", "episode": 3, "media_type": "tv_show"},
    ),
    (
        "fansub_number_before_end_is_the_episode",
        "[Anime Land] Toaru Kagaku no Railgun T 25 END (WEBRip 1080p Hi10P AAC) RAW",
        {"title": "Toaru Kagaku no Railgun T", "episode": 25},
    ),
    (
        "anime_digit_before_dash_episode_is_the_season",
        "Kaguya-sama wa Kokurasetai 3 - 05 (1080p)",
        {"title": "Kaguya-sama wa Kokurasetai", "season": 3, "episode": 5},
    ),
    (
        "number_title_is_not_a_season",
        "[SubsPlease] Mob Psycho 100 S3 - 12 (1080p) [12345678].mkv",
        {"title": "Mob Psycho 100", "season": 3, "episode": 12},
    ),
    (
        "german_staffel_is_a_season",
        "Dark.Staffel.2.German.DL.720p.WEB.x264-WvF",
        {"title": "Dark", "season": 2, "episode": None, "media_type": "tv_season"},
    ),
    (
        "italian_stagione_episodio",
        "Gomorra Stagione 5 Episodio 2 iTA 1080p",
        {"title": "Gomorra", "season": 5, "episode": 2},
    ),
    (
        "hyphens_as_the_only_separator",
        "The-Batman-2022-720p-BluRay-x264",
        {"title": "The Batman", "year": 2022, "resolution": "720p"},
    ),
    (
        "year_title_then_release_year",
        "2012.2009.1080p.BluRay.x264.DTS-WiKi",
        {"title": "2012", "year": 2009, "media_type": "movie"},
    ),
    (
        "numeric_tv_title",
        "9-1-1.S07E01.1080p.WEB.h264-ETHEL",
        {"title": "9-1-1", "season": 7, "episode": 1},
    ),
    (
        "broadcaster_tag_before_title_is_dropped",
        "BBC.Billy.and.Us.1080p.HDTV.x265.AAC.MVGroup.org.mkv",
        {"title": "Billy and Us", "media_type": "movie"},
    ),
    (
        "other_leading_word_parsett_drops_is_title",
        "PBS.NewsHour.2024.03.05.720p.WEB.h264-GRP",
        {"title": "PBS NewsHour", "year": 2024, "media_type": "tv_show"},
    ),
    (
        "leading_imax_is_title_trailing_imax_is_edition",
        "IMAX.Under.the.Sea.2009.1080p.BluRay.x264-GRP",
        {"title": "IMAX Under the Sea", "year": 2009},
    ),
    ("imax_after_year_is_edition", "Avatar.2009.IMAX.1080p.BluRay.x264", {"title": "Avatar"}),
    (
        "number_word_title_parsett_reads_as_tag",
        "X2.X-Men.United.2003.REMASTERED.BRRip.XviD.B4ND1T69",
        {"title": "X2 X-Men United", "year": 2003},
    ),
    ("title_only_a_tag_like_word", "X2.2003.1080p.BluRay.x264-GRP", {"title": "X2"}),
    (
        "year_before_title_is_not_restored",
        "2008 The Incredible Hulk Feature Film.mp4",
        {"title": "The Incredible Hulk Feature Film"},
    ),
    (
        "edition_words_are_not_title",
        "Blade.Runner.The.Final.Cut.1982.1080p.BluRay.x264-GRP",
        {"title": "Blade Runner", "year": 1982},
    ),
    (
        "dash_cut_is_not_title",
        "Nude - International Cut (2018) 720p WEB Rip",
        {"title": "Nude", "year": 2018},
    ),
    (
        "dangling_edition_adjective_is_not_title",
        "The Warriors - Ultimate Directors Cut (1979) 1080p",
        {"title": "The Warriors"},
    ),
    (
        "genre_after_dash_is_not_title",
        "The Deep Blue Sea - Drama 2011 Eng Rus Multi-Subs 720p [H264-mp4]",
        {"title": "The Deep Blue Sea", "year": 2011},
    ),
    (
        "the_final_cut_alone_is_a_title",
        "The.Final.Cut.2004.720p.BluRay",
        {"title": "The Final Cut"},
    ),
    (
        "aka_keeps_the_first_title",
        "Shin.Godzilla.AKA.Godzilla.Resurgence.2016.1080p.BluRay.x264",
        {"title": "Shin Godzilla", "year": 2016},
    ),
    ("spaced_aka", "Nikita a k a La Femme Nikita 1990 720p BluRay", {"title": "Nikita"}),
    (
        "ellipsis_at_end_kept",
        "What.If...2010.1080p.WEB-DL.DDP2.0.H264.mkv",
        {"title": "What If..."},
    ),
    ("ellipsis_inside_kept", "tick.tick...BOOM.mp4", {"title": "tick tick...BOOM"}),
    (
        "abbreviation_dot_kept",
        "Monsters, Inc. (2001) 1080p BluRay x264",
        {"title": "Monsters, Inc.", "year": 2001},
    ),
    (
        "sentence_dot_separator_not_kept",
        "1. Детские игры. 1988. 1080p. HEVC. 10bit..mkv",
        {"title": "1. Детские игры", "year": 1988},
    ),
    (
        "season_as_word",
        "Friends.Season.One.720p.BluRay.x264",
        {"title": "Friends", "season": 1, "episode": None, "media_type": "tv_season"},
    ),
    (
        "three_digits_before_tv_source_is_season_episode",
        "Friends.515.HDTV.XviD-LOL",
        {"title": "Friends", "season": 5, "episode": 15, "media_type": "tv_show"},
    ),
    (
        "three_digits_before_film_source_stay_title",
        "Room.237.720p.BluRay.x264",
        {"title": "Room 237", "season": None, "episode": None, "media_type": "movie"},
    ),
    (
        "pt_roman_without_year_is_episode",
        "The.Pacific.Pt.I.720p.BluRay.x264",
        {"title": "The Pacific", "episode": 1, "media_type": "tv_show"},
    ),
    (
        "part_roman_without_year_stays_a_film",
        "The.Godfather.Part.II.1080p.BluRay.x264",
        {"title": "The Godfather Part II", "episode": None, "media_type": "movie"},
    ),
    (
        "country_tag_before_season_is_not_title",
        "The Office (US) S02E01 1080p",
        {"title": "The Office", "season": 2, "episode": 1},
    ),
    (
        "future_year_is_a_title_number",
        "Blade.Runner.2049.1080p.WEB-DL.DD5.1.H264",
        {"title": "Blade Runner 2049", "year": None, "media_type": "movie"},
    ),
    (
        "year_shaped_title_is_not_an_episode",
        "1917.1080p.BluRay.x264-GRP",
        {"title": "1917", "year": None, "episode": None, "media_type": "movie"},
    ),
    (
        "three_digit_file_number_stays_an_episode",
        "102 - The Invitation.avi",
        {"episode": 102, "media_type": "tv_show"},
    ),
    (
        "file_size_is_not_an_episode",
        "Oppenheimer (2023) 1080p [5.8GB].mkv",
        {"title": "Oppenheimer", "year": 2023, "episode": None, "media_type": "movie"},
    ),
    (
        "sample_prefix_is_not_title",
        "sample-the.holdovers.2023.1080p.web.h264-ethel.mkv",
        {"title": "the holdovers", "year": 2023, "resolution": "1080p"},
    ),
    (
        "number_after_last_dash_is_the_episode",
        "Lycoris Recoil - 1080p - 05v2.mkv",
        {"title": "Lycoris Recoil", "episode": 5, "resolution": "1080p", "media_type": "tv_show"},
    ),
    (
        "complete_series_without_seasons_is_tv",
        "Fawlty.Towers.The.Complete.Series.DVDRip.XviD",
        {"title": "Fawlty Towers", "season": None, "media_type": "tv_season"},
    ),
    (
        "tag_like_one_word_titles_survive",
        "Cam.2018.1080p.NF.WEB-DL.DD5.1.x264",
        {"title": "Cam", "year": 2018, "media_type": "movie"},
    ),
    (
        "numbered_fight_night_is_not_an_episode",
        "UFC.290.Volkanovski.vs.Rodriguez.PPV.1080p.WEB-DL.H264.Fight-BB",
        {"season": None, "episode": None, "media_type": "movie"},
    ),
    (
        "star_wars_episode_numeral_is_a_film",
        "Star.Wars.Episode.V.The.Empire.Strikes.Back.1980.1080p.BluRay.x264",
        {"title": "Star Wars Episode V The Empire Strikes Back", "episode": None},
    ),
]


@pytest.mark.parametrize(("name", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_parse_release_rule(name: str, expected: dict[str, Any]) -> None:
    got = parse_release(name).as_dict()
    assert {key: got[key] for key in expected} == expected


HOSTILE: list[tuple[str, str]] = [
    ("empty", ""),
    ("only_spaces", "   "),
    ("only_punctuation", ".-_[](){}!!!???"),
    ("control_characters", "\x00\x01\x1b[31m\x7f"),
    ("huge_letters_100kb", "a" * 100_000),
    ("huge_digits_100kb", "1" * 100_000),
    ("huge_episode_markers", "S01E01" * 20_000),
    ("huge_brackets", "([{" * 40_000),
    ("huge_separators", ".-" * 50_000),
    ("unicode_only", "\u2603\u00e9\u4e2d\u6587" * 1000),
]


@pytest.mark.parametrize("name", [c[1] for c in HOSTILE], ids=[c[0] for c in HOSTILE])
def test_hostile_input_returns_a_result_within_column_limits(name: str) -> None:
    parsed = parse_release(name)
    assert isinstance(parsed, ParsedRelease)
    assert parsed.media_type in ("movie", "tv_show", "tv_season", "tv_episode_pack", "unknown")
    assert parsed.title is None or 0 < len(parsed.title) <= MAX_TITLE
    for value in (parsed.resolution, parsed.video_codec, parsed.audio_codec, parsed.upload_type):
        assert value is None or len(value) <= MAX_SHORT
    assert parsed.uploader is None or len(parsed.uploader) <= MAX_UPLOADER


@pytest.mark.parametrize(
    "name", ["", "   ", "....", "\x00\x07"], ids=["empty", "spaces", "dots", "ctl"]
)
def test_name_without_words_is_unknown_with_all_fields_null(name: str) -> None:
    assert parse_release(name) == ParsedRelease(media_type="unknown")


def test_control_characters_are_treated_as_separators() -> None:
    parsed = parse_release("The\x00Matrix\x07 1999\x1b 1080p")
    assert (parsed.title, parsed.year, parsed.resolution) == ("The Matrix", 1999, "1080p")


def test_non_string_input_is_not_an_error() -> None:
    assert parse_release(None).media_type == "unknown"
    assert parse_release(12345).media_type in ("movie", "unknown")


def test_over_long_title_is_cut_at_a_word_boundary() -> None:
    words = " ".join(["Word"] * 100)
    title = parse_release(f"{words} 2019 1080p").title
    assert title is not None and len(title) <= MAX_TITLE
    assert title.endswith("Word")


def test_over_long_group_is_dropped_not_truncated() -> None:
    assert parse_release("Some.Movie.2019.1080p.WEB-DL.x264-" + "G" * 40).uploader is None


@pytest.mark.parametrize(
    ("name", "media_type"),
    [
        ("Hercules.2014.1080p.BluRay.x264-SPARKS", "movie"),
        ("The.Bear.S03E01.1080p.WEB.h264-ETHEL", "tv_show"),
        ("The.Bear.S03.1080p.WEB.h264-ETHEL", "tv_season"),
        ("The.Bear.S01-S03.1080p.WEB.h264-ETHEL", "tv_season"),
        ("The.Bear.S03E01-E04.1080p.WEB.h264-ETHEL", "tv_episode_pack"),
        ("!!!", "unknown"),
    ],
    ids=["movie", "tv_show", "tv_season", "multi_season", "tv_episode_pack", "unknown"],
)
def test_classify_media_type_covers_every_type(name: str, media_type: str) -> None:
    assert classify_media_type(name) == media_type


@pytest.mark.parametrize(
    ("parsed", "media_type", "error"),
    [
        (ParsedRelease(title="Dune", year=2021), "movie", None),
        (ParsedRelease(title="Dune"), "movie", "release_year is null"),
        (ParsedRelease(), "movie", "title is null; release_year is null"),
        (ParsedRelease(title="Show", season=1, episode=2), "tv_show", None),
        (ParsedRelease(title="Show"), "tv_show", "season is null; episode is null"),
        (ParsedRelease(title="Show", season=0), "tv_show", "episode is null"),
        (ParsedRelease(title="Show", episode=[1, 2]), "tv_episode_pack", "season is null"),
        (ParsedRelease(title="Show", season=[1, 2]), "tv_season", None),
        (ParsedRelease(season=1), "tv_season", "title is null"),
        (ParsedRelease(), "unknown", "title is null"),
    ],
    ids=[
        "movie_complete",
        "movie_needs_release_year",
        "movie_needs_title_and_year",
        "tv_show_complete",
        "tv_show_needs_season_and_episode",
        "season_zero_counts_as_present",
        "episode_pack_needs_season",
        "season_pack_complete",
        "every_type_needs_title",
        "unknown_needs_title",
    ],
)
def test_required_field_error_text(
    parsed: ParsedRelease, media_type: str, error: str | None
) -> None:
    assert required_field_error(parsed, media_type) == error
    expected_missing = [] if error is None else [e.split(" ")[0] for e in error.split("; ")]
    assert missing_required_fields(parsed, media_type) == expected_missing


def test_parsing_module_imports_parsett_lazily() -> None:
    import subprocess
    import sys

    code = (
        "import sys, automatic_transmission.parsing\n"
        "assert 'PTT' not in sys.modules and 'guessit' not in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


# --- issue 9: numbering families (every name invented for these tests) ------------------------

Row = tuple[str, dict[str, Any]]


def _check(name: str, expected: dict[str, Any]) -> None:
    got = parse_release(name).as_dict()
    assert {key: got[key] for key in expected} == expected, name


BARE_EPISODE_CODES: list[Row] = [
    # A three/four-digit code right after the title, the name otherwise TV-shaped.
    ("Pebble.Cove.1209.720p.HDTV.x264-GRP", {"title": "Pebble Cove", "season": 12, "episode": 9}),
    ("Foghorn.Inn.713.HDTV.XviD-XYZ", {"title": "Foghorn Inn", "season": 7, "episode": 13}),
    ("tin.roof.2013.921.hdtv-abc", {"title": "tin roof", "year": 2013, "season": 9, "episode": 21}),
    ("harrowgate.2015.0308-qrs", {"title": "harrowgate", "year": 2015, "season": 3, "episode": 8}),
    ("Brook_Lane_416_The_Last_Letter", {"title": "Brook Lane", "season": 4, "episode": 16}),
    ("Kestrel.Moor.815", {"title": "Kestrel Moor", "season": 8, "episode": 15}),
    ("Kestrel.Moor.203.The.Visitor.DVDRip.XviD", {"title": "Kestrel Moor", "season": 2}),
    ("Oak.Ridge.Clinic.1102.WEB.h264-NOPE", {"title": "Oak Ridge Clinic", "season": 11}),
    # What is not an episode code: a resolution, a year, a film's title number, a disc, an event.
    ("Salt.Flats.1080.BluRay.x264-GRP", {"title": "Salt Flats", "resolution": "1080p"}),
    ("Ember.Fields.2160.WEB.x265-GRP", {"title": "Ember Fields", "resolution": "2160p"}),
    ("2012.720p.BluRay.x264-GRP", {"title": "2012", "episode": None, "media_type": "movie"}),
    ("Locker.204.720p.BluRay.x264-GRP", {"title": "Locker 204", "media_type": "movie"}),
    ("Bout.188.PPV.HDTV.x264-GRP", {"season": None, "episode": None}),
    ("Cargo 300 DVDRip", {"season": None, "episode": None, "media_type": "movie"}),
]

FILM_TITLE_NUMBERS: list[Row] = [
    # A number followed by a year is part of a film's title, never an episode.
    ("Vault.419.2012.1080p.BluRay.x264-GRP", {"title": "Vault 419", "year": 2012}),
    ("Agent 327 2019 720p WEBRip x264", {"title": "Agent 327", "media_type": "movie"}),
    ("Gate 88 (2004) 720p BluRay", {"title": "Gate 88", "year": 2004, "episode": None}),
    ("Pier.1044.2018.720p.WEB-DL", {"title": "Pier 1044", "year": 2018, "season": None}),
    ("2001.A.Space.Odyssey.1968.1080p.BluRay", {"title": "2001 A Space Odyssey", "year": 1968}),
    ("1917.2019.1080p.BluRay.x264-GRP", {"title": "1917", "year": 2019, "media_type": "movie"}),
    ("Blade.Runner.2049.2017.1080p.BluRay", {"title": "Blade Runner 2049", "year": 2017}),
    ("Apollo.13.1995.720p.BluRay.x264", {"title": "Apollo 13", "year": 1995, "episode": None}),
    ("The.Matrix.1999.1920x1080.BluRay.x264", {"title": "The Matrix", "year": 1999}),
]

FOREIGN_NUMBERING: list[Row] = [
    ("Rio Bravo Sur - Temporada 3 [HDTV][Cap.304][Castellano]", {"season": 3, "episode": 4}),
    ("Los Pescadores [HDTV 720p][Cap.1109][Castellano]", {"season": 11, "episode": 9}),
    ("Calle Mayor [HDTV][Cap.201_203][Castellano]", {"season": 2, "episode": [1, 2, 3]}),
    ("El.Valle.Temporada.2.HDTV", {"title": "El Valle", "season": 2, "media_type": "tv_season"}),
    ("Les.Pompiers.Saison4.FRENCH.HDTV", {"title": "Les Pompiers", "season": 4}),
    ("De Dijk Se.2 afl.6 Dutch 720p", {"title": "De Dijk", "season": 2, "episode": 6}),
    ("Stille Water Seizoen 1 afl 3 1080p", {"title": "Stille Water", "season": 1, "episode": 3}),
    ("Hollow Pines S 04 1080p WEB", {"title": "Hollow Pines", "season": 4, "episode": None}),
    ("Hollow Pines S 04 E 09 1080p WEB", {"title": "Hollow Pines", "season": 4, "episode": 9}),
]

REPEATED_MARKERS: list[Row] = [
    ("Glen.Row.S02E03.S02E04.720p.HDTV", {"season": 2, "episode": [3, 4]}),
    ("Glen.Row.3x07.3x08.HDTV.XviD", {"season": 3, "episode": [7, 8]}),
    ("Glen.Row.6x01_02.HDTV.XviD", {"season": 6, "episode": [1, 2]}),
    ("Glen.Row.S05E10-S05E12.1080p.WEB", {"season": 5, "episode": [10, 11, 12]}),
    ("Glen.Row.S3.E4-S3E5.720p.WEB", {"season": 3, "episode": [4, 5]}),
    ("Glen.Row.S11E2201-E2203.HDTV", {"season": 11, "episode": [2201, 2202, 2203]}),
    ("Glen.Row.S01E01E02.720p.WEB", {"episode": [1, 2], "media_type": "tv_episode_pack"}),
    # Other seasons end the run; an underscore run after SxxEyy is not more episodes.
    ("Glen.Row.S01E09.S02E01.720p.WEB", {"season": 1, "episode": 9}),
    ("Glen_Row_S02E04_11_27.mkv", {"season": 2, "episode": 4}),
]

YEAR_SEASONS: list[Row] = [
    ("Bake.Club.2015x09.HDTV.x264", {"year": None, "season": 2015, "episode": 9}),
    ("Bake Club - 2016x01 - 2016x02 - Tarts", {"year": None, "season": 2016, "episode": [1, 2]}),
    ("Bake.Club.S2018.720p.WEB", {"season": 2018, "episode": None, "media_type": "tv_season"}),
    ("Bake.Club.2017x03x04.HDTV", {"year": None, "season": 2017, "episode": [3, 4]}),
    ("Bake.Club.S2020E11.1080p.WEB", {"season": 2020, "episode": 11, "year": None}),
]

DAILY_SHOWS: list[Row] = [
    ("News.at.Nine.07.22.2017.720p.HDTV", {"title": "News at Nine", "year": 2017}),
    ("News.at.Nine.22.07.2017.720p.HDTV", {"title": "News at Nine", "year": 2017}),
    ("News at Nine 22-07-2017 1080p WEB", {"title": "News at Nine", "year": 2017}),
    ("News at Nine 02-05-2017 1080p WEB", {"title": "News at Nine", "episode": None}),
    ("news.at.nine.170722.hdtv.x264-grp", {"title": "news at nine", "year": 2017}),
    ("News At Nine 2017 07 720p HDTV", {"title": "News At Nine", "year": 2017}),
    ("News.at.Nine.2017.07.22.720p.WEB", {"title": "News at Nine", "season": None}),
]

ANIME_ABSOLUTE: list[Row] = [
    ("[Fansub] Storm Pilots 211", {"title": "Storm Pilots", "episode": 211, "season": None}),
    (
        "[Fansub]Lantern Girl 04 The Night Market [1A2B3C4D].mkv",
        {"title": "Lantern Girl", "episode": 4},
    ),
    ("[Fansub] Rail Knights 1033 [1080p]", {"title": "Rail Knights", "episode": 1033}),
    ("[Fansub]_Moon_Garden_08_[720p][ABCDEF01].mkv", {"title": "Moon Garden", "episode": 8}),
    ("Hero Academy Z #415", {"title": "Hero Academy Z", "episode": 415}),
    ("Steel Ninjas - 1204 [1080p]", {"title": "Steel Ninjas", "season": None, "episode": 1204}),
]

EXTRAS: list[Row] = [
    ("Dry.Creek.S03.Extras.02.Outtakes.720p.BluRay", {"season": 3, "episode": None}),
    ("Dry.Creek.S01.Bonus.04.Interviews.1080p.BluRay", {"season": 1, "episode": None}),
    ("Dry.Creek.S03E02.Extras.Outtakes.720p.BluRay", {"season": 3, "episode": 2}),
]


# --- issue 9 round two: shapes from other parsers' suites (every name invented here) ---------

FILE_PATHS: list[Row] = [
    # The file name is parsed; folder words are never title.
    (
        "/srv/video/Shows/Brass Lantern/Season 03/Brass.Lantern.S03E07.720p.WEB.mkv",
        {"title": "Brass Lantern", "season": 3, "episode": 7, "resolution": "720p"},
    ),
    (
        "E:\\Films\\Orchid.Hotel.2011.1080p.BluRay\\Orchid.Hotel.2011.1080p.BluRay.mkv",
        {"title": "Orchid Hotel", "year": 2011, "media_type": "movie"},
    ),
    ("library/Fallow.Ground.S01E02.HDTV.avi", {"title": "Fallow Ground", "episode": 2}),
    # Folders fill what the file name lacks: year and resolution of a same-titled folder ...
    (
        "Films/Quillon Point (2009)/Quillon Point - 720p.mkv",
        {"title": "Quillon Point", "year": 2009, "resolution": "720p", "media_type": "movie"},
    ),
    # ... the season of a season folder, the title when the file is only a number.
    (
        "Shows/Hazel Row/Season 2/Hazel Row - 05 - The Well.mkv",
        {"title": "Hazel Row", "season": 2, "episode": 5, "media_type": "tv_show"},
    ),
    ("Shows/Hazel Row/Season 2/07.mkv", {"title": "Hazel Row", "season": 2, "episode": 7}),
    # A folder for another title lends nothing.
    ("Films/Grey Owl (1990)/Other.Thing.720p.mkv", {"title": "Other Thing", "year": None}),
    # Not paths: " / " between translations, a slash inside brackets, no extension or root.
    ("Alto Cielo / High Sky (2015) 720p", {"year": 2015, "media_type": "movie"}),
    ("[Grp][Kumo/Cloud][05][1080p]", {"episode": 5}),
    ("Up/Down 2019 1080p WEB", {"title": "Up/Down", "year": 2019}),
]

TITLE_BEFORE_MARKER: list[Row] = [
    # A year-shaped show title right before the marker is the title, not a year.
    ("2061.S02E05.1080p.WEB.h264-KNOT", {"title": "2061", "year": None, "season": 2}),
    ("1994.S01E01.720p.HDTV.x264-ZED", {"title": "1994", "year": None, "episode": 1}),
    # A title spelt differently before the marker stays as read.
    ("K.I.T.E.S02E01.720p.HDTV", {"title": "K.I.T.E.", "season": 2}),
    ("Loch.Fen.2019.S01E02.720p.WEB", {"title": "Loch Fen", "year": 2019}),
]

MARKERS_JOINED_BY_AMPERSAND: list[Row] = [
    ("Wren Hill 3x09 & 3x10 HDTV", {"season": 3, "episode": [9, 10]}),
    ("Wren.Hill.S01E05+S01E06.720p", {"season": 1, "episode": [5, 6]}),
    ("Wren Hill S04E01 & S05E01", {"season": 4, "episode": 1}),
]

THREE_D_IS_NO_EPISODE: list[Row] = [
    ("Coral.Deep.(2011).[720p].[3D]", {"episode": None, "media_type": "movie"}),
    ("Coral Deep 3D 2011 1080p BluRay", {"episode": None, "year": 2011}),
    ("[Grp] Sky Fox - 03 [3D Remaster][720p]", {"episode": 3}),
]

BATCH_AND_OVA: list[Row] = [
    (
        "[Grp] Hoshi Kuzu - Batch 01-24 [720p]",
        {"title": "Hoshi Kuzu", "episode": list(range(1, 25))},
    ),
    ("[Grp] Hoshi Kuzu Batch [1080p]", {"title": "Hoshi Kuzu"}),
    ("[Grp] Mizu no Oto OVA 3 [1080p]", {"title": "Mizu no Oto", "episode": 3}),
    ("[Grp] Mizu no Oto OAD02 [720p]", {"title": "Mizu no Oto", "episode": 2}),
    ("[Grp] Mizu no Oto S2 - 04 [720p]", {"season": 2, "episode": 4}),
]


# --- issue 9 round three: title-hard shapes (every name invented here) -----------------------

PATH_TITLES: list[Row] = [
    # A file name that opens with its episode code has no title: the show folder names it.
    ("Shows/Marsh Lights/Season 02/02x11 - The Lamp.mkv", {"title": "Marsh Lights", "episode": 11}),
    ("TV/Pike Street/Season 3/S03E02.mkv", {"title": "Pike Street", "season": 3, "episode": 2}),
    ("TV\\Pike Street\\S03E04 - Return.avi", {"title": "Pike Street", "episode": 4}),
    # A lower-case file name takes the spelling of a folder with the same words.
    (
        "Films/Amber Vale (2003)/amber.vale.2003.720p.bluray.mkv",
        {"title": "Amber Vale", "year": 2003, "media_type": "movie"},
    ),
    ("D:\\Films\\Tin.Harp.1998.DVDRip\\tin.harp.1998.dvdrip.avi", {"title": "Tin Harp"}),
    # A folder with other words, or a file already capitalised, changes nothing.
    ("Films/Other Film (2003)/amber.vale.2003.mkv", {"title": "amber vale"}),
    ("films/amber vale/Amber.Vale.2003.mkv", {"title": "Amber Vale"}),
    # A title before the code stays the file's own.
    ("TV/Pike Street/Season 3/Pike.Street.S03E05.mkv", {"title": "Pike Street"}),
]

LEADING_TAGS: list[Row] = [
    # A site in curly braces and a one-word tag in parentheses before the name are no title.
    ("{www.FilmBox.ph} Le.Phare.Noir.2017.720p", {"title": "Le Phare Noir", "year": 2017}),
    ("(Hi10)_Kumo_no_Ue_-_04_(720p)_(Grp)_(0A1B2C3D).mkv", {"title": "Kumo no Ue", "episode": 4}),
    ("(HEVC) Tall Pines S02E03 1080p", {"title": "Tall Pines", "season": 2}),
    # A number in parentheses is title or year, never a tag.
    ("(300) Nights.2011.720p.BluRay", {"title": "300 Nights", "year": 2011}),
]

TITLE_ENDS_AT_A_BRACKET: list[Row] = [
    # Words inside a bracket or after a "|" that opens after the title are not title.
    ("[Grp] Hoshi Michi [ BD 1280x720 x264 AAC ]", {"title": "Hoshi Michi"}),
    ("[Grp] Kawa no Oto | River Sound (BD 1080p x265).mkv", {"title": "Kawa no Oto"}),
    ("Long Acre {BD Remux} 2010 1080p", {"title": "Long Acre", "year": 2010}),
    # A bracket or bar before the title, or none at all, changes nothing.
    ("[Grp] Sora to Umi - 02 [720p]", {"title": "Sora to Umi", "episode": 2}),
    ("Up/Down 2019 1080p WEB", {"title": "Up/Down"}),
]

CJK_NUMBERING: list[Row] = [
    # "第N話/话/集/回" is the episode, "第N季/期" the season: an episode, not a film.
    ("[Grp] Yoru no Kane \u7b2c07\u8a71 (720p).mp4", {"episode": 7, "media_type": "tv_show"}),
    ("Shan He \u7b2c2\u5b63 \u7b2c12\u96c6 1080p", {"season": 2, "episode": 12}),
    # A marker already read is kept.
    ("Yoru.no.Kane.S01E03.\u7b2c9\u8a71.720p", {"season": 1, "episode": 3}),
]

YEAR_IN_EPISODE_TITLE: list[Row] = [
    # A year among the episode title's words after the marker is no release year.
    ("Oak Hollow 3x02 The 1987 Flood HDTV", {"title": "Oak Hollow", "year": None, "episode": 2}),
    ("Oak.Hollow.S01E09.1984.Revisited.720p.WEB", {"year": None, "season": 1}),
    # A year before the marker, bracketed, or among release tags is the year.
    ("Oak.Hollow.2015.S01E04.The.Well.720p", {"year": 2015}),
    ("Oak.Hollow.S02E01.2016.720p.HDTV.x264", {"year": 2016}),
    ("Oak Hollow S02E02 Home (2016) 720p", {"year": 2016}),
]


FAMILIES = {
    "bare_episode_code_is_season_and_episode_when_the_name_says_tv": BARE_EPISODE_CODES,
    "number_before_a_year_is_a_film_title_number": FILM_TITLE_NUMBERS,
    "cap_temporada_saison_afl_and_spaced_s_are_numbering": FOREIGN_NUMBERING,
    "repeated_episode_markers_are_a_multi_episode_release": REPEATED_MARKERS,
    "year_shaped_season_is_the_season_not_the_year": YEAR_SEASONS,
    "daily_show_dates_are_not_title_or_episode": DAILY_SHOWS,
    "anime_number_after_group_and_title_is_absolute_episode": ANIME_ABSOLUTE,
    "extras_carry_no_episode": EXTRAS,
    "a_file_path_is_read_from_its_file_name_and_folders_fill_gaps": FILE_PATHS,
    "words_before_the_first_marker_are_the_title": TITLE_BEFORE_MARKER,
    "markers_joined_by_ampersand_or_plus_are_multi_episode": MARKERS_JOINED_BY_AMPERSAND,
    "a_3d_tag_is_no_episode_number": THREE_D_IS_NO_EPISODE,
    "batch_label_is_not_title_and_ova_number_is_the_episode": BATCH_AND_OVA,
    "a_file_named_by_its_code_or_in_lower_case_takes_the_folder_title": PATH_TITLES,
    "a_braced_site_or_parenthesised_tag_before_the_name_is_no_title": LEADING_TAGS,
    "the_title_ends_where_a_bracket_or_bar_opens": TITLE_ENDS_AT_A_BRACKET,
    "chinese_and_japanese_episode_and_season_markers_are_numbering": CJK_NUMBERING,
    "a_year_in_the_episode_title_is_no_release_year": YEAR_IN_EPISODE_TITLE,
}
FAMILY_ROWS = [(family, *row) for family, rows in FAMILIES.items() for row in rows]


@pytest.mark.parametrize(
    ("family", "name", "expected"),
    FAMILY_ROWS,
    ids=[f"{family}-{index}" for index, (family, _, _) in enumerate(FAMILY_ROWS)],
)
def test_numbering_family_rule(family: str, name: str, expected: dict[str, Any]) -> None:
    _check(name, expected)


@pytest.mark.parametrize(
    "name",
    [row[0] for row in DAILY_SHOWS] + ["Quiz.Hour.2019.03.04.720p.WEB"],
)
def test_daily_show_is_an_episode_not_a_movie(name: str) -> None:
    assert parse_release(name).media_type == MediaType.TV_SHOW


@pytest.mark.parametrize("name", [row[0] for row in ANIME_ABSOLUTE])
def test_anime_absolute_number_is_an_episode_not_a_movie(name: str) -> None:
    assert parse_release(name).media_type == MediaType.TV_SHOW


def test_crc_tag_is_never_a_title_word() -> None:
    title = parse_release("[Fansub] Paper Moon Club 12 Finale [DEADBEEF].mkv").title
    assert title == "Paper Moon Club"


def test_media_type_is_the_model_enum() -> None:
    assert isinstance(parse_release("Glen.Row.S01E01.720p").media_type, MediaType)
    assert classify_media_type("Hercules.2014.1080p") is MediaType.MOVIE


def test_the_latest_year_is_measured_at_each_parse_not_at_import(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A code server running across New Year must judge years against the new bound: the bound
    follows the date of the parse (here moved to 2049, so 2049 is a year, no longer a title)."""
    name = "Blade.Runner.2049.1080p.WEB-DL.DD5.1.H264"
    assert parse_release(name).year is None  # today: 2049 is a number in the title
    monkeypatch.setattr(patterns, "today", lambda: datetime.date(2049, 1, 1))
    assert latest_year() == 2050
    assert parse_release(name).year == 2049
