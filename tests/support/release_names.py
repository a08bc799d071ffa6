"""Load the release-name dev set and score parsers on it, for the accuracy test and the bench."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

DEV_SET = Path(__file__).parents[1] / "data" / "release_names_dev.jsonl"
# Hand-written names in the families the dev set is thin on (numbers in titles, anime,
# packs, daily shows, foreign tags); every row asserts ``media_type`` explicitly.
EXTRA_SET = Path(__file__).parents[1] / "data" / "release_names_extra.jsonl"
# Invented names in the eight families of issue 9 (bare episode codes, Spanish/French/Dutch
# numbering, repeated episode markers, years as seasons, daily shows, anime absolute numbers,
# extras, numbers in movie titles) plus movie controls; written and scored before the rules.
HELDOUT_SET = Path(__file__).parents[1] / "data" / "release_names_heldout.jsonl"
# Round two of issue 9: invented names across the shapes other projects' parser suites hold
# (Sonarr-style names, anime fansubs, packs, multi-episode, daily, specials, numbers in titles,
# foreign numbering, paths, site prefixes, odd separators, editions, resolution spellings);
# written and scored before any rule was changed for them.
ROUND2_SET = Path(__file__).parents[1] / "data" / "release_names_round2.jsonl"
# Round three of issue 9: invented names in the shapes that make titles hard (full paths with
# show/season folders, dashes, apostrophes, ampersands, numbers and roman numerals, dotted
# acronyms, non-English titles, fansub brackets, site prefixes, AKA, episode titles, dashed
# group suffixes, lowercase scene names, release tags, trailing site tags); written and scored
# before any rule was changed for them.
ROUND3_SET = Path(__file__).parents[1] / "data" / "release_names_round3.jsonl"
# Each set by the name the bench's --data takes, in report order.
DATA_SETS: dict[str, Path] = {
    "dev": DEV_SET,
    "extra": EXTRA_SET,
    "heldout": HELDOUT_SET,
    "round2": ROUND2_SET,
    "round3": ROUND3_SET,
}

# The fields scored, in report order. ``title_ci`` is the title compared case-insensitively.
FIELDS = ("title", "title_ci", "year", "season", "episode", "resolution", "media_type")

TV_TYPES = frozenset({"tv_show", "tv_season", "tv_episode_pack"})

Prediction = Mapping[str, Any]
Parser = Callable[[str], Prediction]


@dataclass(frozen=True)
class Case:
    """One dev-set row: the name and the fields asserted for it (None = asserted absent)."""

    name: str
    expected: dict[str, Any]
    source: str


def load_cases(path: Path = DEV_SET) -> list[Case]:
    """Read the jsonl file; one case per non-blank line."""
    cases = []
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            if line.strip():
                row = json.loads(line)
                cases.append(Case(row["name"], row["expected"], row.get("source", "")))
    return cases


def expected_media_kind(expected: Mapping[str, Any]) -> str | None:
    """The coarse kind (movie|tv) a case asserts, or None when it asserts nothing usable.

    An explicit ``media_type`` (one of our media types) wins. Otherwise a ``type`` key
    (movie|episode) is used; the dev set has neither on most rows, so it is derived: an
    asserted season or episode means tv; season and episode both asserted absent means movie.
    """
    explicit = media_kind(expected.get("media_type"))
    if explicit is not None:
        return explicit
    kind = expected.get("type")
    if kind in ("movie", "episode"):
        return "movie" if kind == "movie" else "tv"
    season, episode = expected.get("season", ...), expected.get("episode", ...)
    if season not in (None, ...) or episode not in (None, ...):
        return "tv"
    if season is None and episode is None:
        return "movie"
    return None


def media_kind(media_type: Any) -> str | None:
    """Collapse our media types to movie|tv (tv_show, tv_season, tv_episode_pack -> tv)."""
    if media_type == "movie":
        return "movie"
    if media_type in TV_TYPES:
        return "tv"
    return None


def _norm_number(value: Any) -> Any:
    """int and one-element lists compare equal; lists compare as sorted unique lists."""
    if isinstance(value, list | tuple):
        items = sorted({int(v) for v in value})
        if not items:
            return None
        return items[0] if len(items) == 1 else items
    return value


def field_ok(name: str, predicted: Prediction, expected: Mapping[str, Any]) -> bool | None:
    """Whether one field is right; None when the case asserts nothing for that field."""
    if name == "media_type":
        want_kind = expected_media_kind(expected)
        if want_kind is None:
            return None
        return media_kind(predicted.get("media_type")) == want_kind
    key = "title" if name == "title_ci" else name
    if key not in expected:
        return None
    want, got = expected[key], predicted.get(key)
    if key == "title":
        want = want.strip() if isinstance(want, str) else want
        got = got.strip() if isinstance(got, str) else got
        if name == "title_ci" and isinstance(want, str) and isinstance(got, str):
            return want.casefold() == got.casefold()
        return bool(want == got)
    if key in ("season", "episode"):
        return bool(_norm_number(want) == _norm_number(got))
    return bool(want == got)


@dataclass
class Score:
    """Right/asserted counts per field, plus the failures for inspection."""

    right: dict[str, int] = field(default_factory=lambda: dict.fromkeys(FIELDS, 0))
    total: dict[str, int] = field(default_factory=lambda: dict.fromkeys(FIELDS, 0))
    failures: dict[str, list[tuple[str, Any, Any]]] = field(
        default_factory=lambda: {f: [] for f in FIELDS}
    )

    def accuracy(self, name: str) -> float:
        return self.right[name] / self.total[name] if self.total[name] else 0.0


def score(parser: Parser, cases: Iterable[Case]) -> Score:
    """Run ``parser`` over every case and count right answers per asserted field."""
    result = Score()
    for case in cases:
        predicted = parser(case.name)
        for name in FIELDS:
            ok = field_ok(name, predicted, case.expected)
            if ok is None:
                continue
            result.total[name] += 1
            if ok:
                result.right[name] += 1
            else:
                key = "title" if name == "title_ci" else name
                got = predicted.get(key)
                want = case.expected.get(key)
                if name == "media_type":
                    want = expected_media_kind(case.expected)
                result.failures[name].append((case.name, want, got))
    return result


def scored(path: Path, at_least: int, typed: bool = True) -> Score:
    """Our parser's score on the set in ``path``, after checking the set is whole (``at_least``
    rows) and, when ``typed``, that every row asserts its ``media_type``."""
    cases = load_cases(path)
    assert len(cases) >= at_least, f"{path.name}: {len(cases)} rows, want at least {at_least}"
    if typed:
        assert all("media_type" in case.expected for case in cases), path.name
    return score(ours, cases)


# --- adapters: each returns a dict with the scored keys --------------------------------------


def ours(name: str) -> dict[str, Any]:
    """Our parser (automatic_transmission.parsing) as a scoring dict."""
    from automatic_transmission.parsing import parse_release

    return parse_release(name).as_dict()


def _one_or_list(values: Any) -> Any:
    if values is None:
        return None
    if isinstance(values, list):
        ints = [v for v in values if isinstance(v, int)]
        if not ints:
            return None
        return ints[0] if len(ints) == 1 else ints
    return values if isinstance(values, int) else None


def _norm_resolution(value: Any) -> str | None:
    if not isinstance(value, str):
        return None
    low = value.lower()
    if low in ("4k", "uhd", "2160i"):
        return "2160p"
    if low.endswith("i") and low[:-1].isdigit():
        return low[:-1] + "p"
    return low


def guessit_adapter(name: str) -> dict[str, Any]:
    """guessit's answer mapped to our scoring keys (type episode -> tv_show)."""
    from guessit import guessit

    try:
        g = guessit(name)
    except Exception:
        return {}
    title = g.get("title")
    return {
        "title": title if isinstance(title, str) else None,
        "year": g.get("year") if isinstance(g.get("year"), int) else None,
        "season": _one_or_list(g.get("season")),
        "episode": _one_or_list(g.get("episode")),
        "resolution": _norm_resolution(g.get("screen_size")),
        "media_type": "tv_show" if g.get("type") == "episode" else "movie",
    }


def parsett_adapter(name: str) -> dict[str, Any]:
    """parsett's answer mapped to our scoring keys (seasons/episodes present -> tv_show)."""
    from PTT import parse_title

    try:
        p = parse_title(name)
    except Exception:
        return {}
    seasons, episodes = p.get("seasons") or [], p.get("episodes") or []
    return {
        "title": p.get("title") or None,
        "year": p.get("year"),
        "season": _one_or_list(seasons),
        "episode": _one_or_list(episodes),
        "resolution": _norm_resolution(p.get("resolution")),
        "media_type": "tv_show" if seasons or episodes else "movie",
    }
