"""Step 09 on a torrent of many files (issue 19 #7): one movie and N-1 `.srt` files, listed,
planned and placed (hardlinks) from real files, for N = 500, 1,000, 2,000 and 5,000 by default.

    uv run python benchmarks/many_files_bench.py [--files 500,1000,2000,5000] [--dir /path]

Prints, per N, the seconds of `list_download`, `plan_placement` and `Library.place`, and how many
subtitles were placed (bounded: only those that belong to the video). Linear placement means the
plan's time per file stays flat as N grows.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from automatic_transmission.library.files import Library, list_download
from automatic_transmission.library.naming import load_naming
from automatic_transmission.library.placement import plan_placement
from automatic_transmission.model import MediaRow, MediaType, PipelineStatus, RejectionStatus

LANGUAGES = ("en", "fr", "de", "es", "it", "pt", "nl", "sv")


def make_download(folder: Path, files: int) -> None:
    folder.mkdir(parents=True)
    (folder / "movie.mkv").write_bytes(b"v" * 4096)
    for n in range(files - 1):  # half tagged by language, half untagged
        tag = f"_{LANGUAGES[n % len(LANGUAGES)]}" if n % 2 else ""
        (folder / f"{n:05d}{tag}.srt").write_bytes(b"1\n00:00:01,000 --> 00:00:02,000\nx\n")


def measure(base: Path, files: int) -> tuple[float, float, float, int]:
    downloads, movies = base / "downloads", base / "movies"
    make_download(downloads / "Many.Files.2020", files)
    movies.mkdir()
    library = Library(str(downloads), str(movies), str(base / "tv"), load_naming("plex"))
    row = MediaRow(
        hash="f" * 40,
        media_type=MediaType.MOVIE,
        pipeline_status=PipelineStatus.DOWNLOADED,
        rejection_status=RejectionStatus.ACCEPTED,
        original_title="Many.Files.2020",
        media_title="Many Files",
        release_year=2020,
    )
    started = time.perf_counter()
    found = list_download(downloads, "Many.Files.2020")
    listed = time.perf_counter()
    placement = plan_placement(row, found, library.naming, library.roots)
    planned = time.perf_counter()
    library.place(placement)
    placed = time.perf_counter()
    subtitles = sum(1 for _, target in placement.files if target.endswith(".srt"))
    return listed - started, planned - listed, placed - planned, subtitles


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--files", default="500,1000,2000,5000")
    parser.add_argument("--dir", default=None, help="where to write (default: a temporary dir)")
    args = parser.parse_args()
    print(f"{'files':>6} {'list s':>8} {'plan s':>8} {'plan us/file':>12} {'place s':>8} subs")
    for files in (int(n) for n in args.files.split(",")):
        with tempfile.TemporaryDirectory(dir=args.dir) as folder:
            listed, planned, placed, subtitles = measure(Path(folder), files)
        per_file = planned / files * 1e6
        print(
            f"{files:>6} {listed:>8.3f} {planned:>8.3f} {per_file:>12.1f} {placed:>8.3f} {subtitles}"
        )


if __name__ == "__main__":
    main()
