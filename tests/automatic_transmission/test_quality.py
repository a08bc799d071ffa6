"""Issue 16 (a, b): the revision a release name announces, the quality of parsed columns, and
quality.yaml validated at load (errors name the file and the key)."""

from __future__ import annotations

from pathlib import Path

import pytest

from automatic_transmission.model import MediaType
from automatic_transmission.parsing import parse_release
from automatic_transmission.parsing.revision import parse_revision
from automatic_transmission.quality import (
    QUALITY_FILE,
    QualityConfigError,
    load_quality,
    quality_of,
)


@pytest.mark.parametrize(
    ("name", "revision"),
    [
        ("Show.S01E05.1080p.WEB.h264-GRP", 1),
        ("Movie.2020.PROPER.1080p.BluRay.x264-GRP", 2),
        ("Show.S01E05.REPACK.1080p.WEB-DL-GRP", 2),
        ("Show.S01E05.repack.720p.HDTV", 2),
        ("Movie.2020.RERIP.720p.WEBRip", 2),
        ("Show.S01E05.REAL.720p.HDTV-GRP", 2),
        ("Show.S01E05.REPACK2.1080p.WEB-DL-GRP", 3),
        ("Show.S01E05.REPACK3.1080p.WEB-DL-GRP", 4),
        ("Movie.2020.REAL.REPACK.720p.HDTV", 3),
        ("[Sub] Anime - 05v2 [1080p]", 2),
        ("Real.Steel.2011.1080p.BluRay", 1),  # a title word, not the marker
        ("The.Real.World.S01E01.720p", 1),
        ("Improper.Conduct.2020.1080p", 1),  # "proper" inside a word
    ],
)
def test_the_revision_counts_propers_and_repacks(name: str, revision: int) -> None:
    assert parse_revision(name) == revision


def test_parse_release_reports_the_revision() -> None:
    assert parse_release("Show.S01E05.REPACK2.1080p.WEB-DL.x264-GRP").revision == 3
    assert parse_release("Show.S01E05.1080p.WEB-DL.x264-GRP").revision == 1


@pytest.mark.parametrize(
    ("resolution", "upload_type", "quality"),
    [
        ("1080p", "WEB", "1080p WEB-DL"),  # a plain WEB release is WEB-DL
        ("1080p", "WEB-DL", "1080p WEB-DL"),
        ("1080p", "WEBRip", "1080p WEBRip"),
        ("2160p", "BluRay REMUX", "2160p BluRay"),
        ("1080p", "BDRip", "1080p BluRay"),
        ("720p", "BRRip", "720p BluRay"),
        ("720p", "HDTV", "720p HDTV"),
        ("1088p", "WEB", "1080p WEB-DL"),
        ("4k", "WEB", "2160p WEB-DL"),
        (None, "DVDRip", "480p DVD"),
        ("1080p", "CAM", "1080p CAM"),  # its own name: on no shipped ladder
        ("1080p", None, None),
        (None, "WEB", None),
    ],
)
def test_quality_is_resolution_and_source_group(
    resolution: str | None, upload_type: str | None, quality: str | None
) -> None:
    assert quality_of(resolution, upload_type) == quality


def test_the_shipped_ladders_follow_the_peers_order() -> None:
    profile = load_quality()
    movie, tv = profile.ladder(MediaType.MOVIE), profile.ladder(MediaType.TV_SHOW)
    assert (movie.cutoff, tv.cutoff) == ("1080p BluRay", "1080p WEB-DL")
    order = ["2160p BluRay", "2160p WEB-DL", "1080p BluRay", "1080p WEB-DL", "1080p WEBRip"]
    ranks = [movie.rank(q) for q in [*order, "1080p HDTV", "720p BluRay"]]
    assert None not in ranks
    assert ranks == sorted(r for r in ranks if r is not None)
    assert movie.rank("1080p CAM") is None and tv.rank(None) is None
    assert profile.ladder(MediaType.TV_SEASON) is tv


GOOD = "  qualities: [1080p BluRay, 720p WEB-DL]\n  cutoff: 1080p BluRay\n"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (f"movie:\n{GOOD}tv:\n{GOOD}  upgrade: false\n", r"tv: unknown key\(s\) upgrade"),
        (f"movie:\n{GOOD}", r"tv is required"),
        (f"movie:\n{GOOD}tv:\n{GOOD}films:\n{GOOD}", r"unknown key\(s\) films"),
        (
            f"movie:\n{GOOD}tv:\n  qualities: [1080p BluRay]\n  cutoff: 720p HDTV\n",
            r"tv: cutoff '720p HDTV' is not one of the qualities",
        ),
        (
            f"movie:\n  qualities: [1080p Bluray]\n  cutoff: 1080p Bluray\ntv:\n{GOOD}",
            r"movie: qualities: '1080p Bluray' is not <resolution> <source>",
        ),
        (
            f"movie:\n  qualities: [1080p BluRay, 1080p BluRay]\n  cutoff: 1080p BluRay\ntv:\n{GOOD}",
            r"movie: qualities: 1080p BluRay listed twice",
        ),
        (f"movie:\n{GOOD}  upgrades: maybe\ntv:\n{GOOD}", r"movie: upgrades must be true or false"),
        (f"movie:\n  qualities: []\n  cutoff: x\ntv:\n{GOOD}", r"movie: qualities must be"),
        (f"movie:\n{GOOD}tv:\n{GOOD}tv:\n{GOOD}", r"key 'tv' appears twice"),
    ],
    ids=[
        "unknown key", "missing kind", "unknown kind", "cutoff not listed", "unknown source",
        "listed twice", "upgrades not bool", "empty list", "duplicate kind",
    ],
)  # fmt: skip
def test_a_malformed_ladder_is_a_load_error_naming_file_and_key(
    tmp_path: Path, content: str, message: str
) -> None:
    (tmp_path / QUALITY_FILE).write_text(content)
    with pytest.raises(QualityConfigError, match=message) as raised:
        load_quality(tmp_path)
    assert str(raised.value).startswith(str(tmp_path / QUALITY_FILE))


def test_a_valid_ladder_loads(tmp_path: Path) -> None:
    (tmp_path / QUALITY_FILE).write_text(f"movie:\n{GOOD}  upgrades: false\ntv:\n{GOOD}")
    profile = load_quality(tmp_path)
    assert profile.movie.qualities == ("1080p BluRay", "720p WEB-DL")
    assert (profile.movie.upgrades, profile.tv.upgrades) == (False, True)
