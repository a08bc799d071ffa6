"""Step 09's placement of one download: hardlink (must not grow with the size) and forced copy
against `cp` of the same file in the same run (copy <= 1.1x cp).

    uv run python benchmarks/transfer_bench.py [--gib 2] [--rounds 3] [--dir /path]

The copy goes through a temporary name, is flushed to disk (fsync) and renamed; `cp` is measured
alone and followed by `sync FILE` (the same durability), alternating with the pipeline's copy so
both see the same cache and disk state. Medians are printed.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

from automatic_transmission.library.files import Library, list_download
from automatic_transmission.library.naming import load_naming
from automatic_transmission.library.placement import plan_placement
from automatic_transmission.model import MediaRow, MediaType, PipelineStatus, RejectionStatus

CHUNK = 64 * 1024 * 1024


def write_file(path: Path, size: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as out:
        left = size
        block = os.urandom(CHUNK)
        while left > 0:
            out.write(block[: min(left, CHUNK)])
            left -= CHUNK
        out.flush()
        os.fsync(out.fileno())


def movie(name: str) -> MediaRow:
    return MediaRow(
        hash="b" * 40,
        media_type=MediaType.MOVIE,
        pipeline_status=PipelineStatus.DOWNLOADED,
        rejection_status=RejectionStatus.ACCEPTED,
        original_title=name,
        original_path=name,
        media_title="Bench Movie",
        release_year=2020,
        resolution="1080p",
    )


def place_once(base: Path, name: str, copy_only: bool) -> float:
    library = Library(
        download_dir=str(base / "downloads"),
        movie_dir=str(base / ("copies" if copy_only else "links")),
        tv_show_dir=str(base / "tv"),
        naming=load_naming("plex"),
        copy_only=copy_only,
    )
    Path(library.movie_dir).mkdir(exist_ok=True)
    row = movie(name)
    began = time.perf_counter()
    files = list_download(Path(library.download_dir), name)
    library.place(plan_placement(row, files, library.naming, library.roots))
    elapsed = time.perf_counter() - began
    target = Path(library.movie_dir) / "Bench Movie (2020)" / "Bench Movie (2020).mkv"
    assert target.stat().st_size == (base / "downloads" / name).stat().st_size
    target.unlink()
    return elapsed


def cp_once(source: Path, target: Path, durable: bool) -> float:
    began = time.perf_counter()
    subprocess.run(["cp", str(source), str(target)], check=True)
    if durable:
        subprocess.run(["sync", str(target)], check=True)
    elapsed = time.perf_counter() - began
    target.unlink()
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--gib", type=float, default=2.0)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--dir", default=None, help="where to write (default: a temp dir)")
    options = parser.parse_args()
    with tempfile.TemporaryDirectory(dir=options.dir) as folder:
        base = Path(folder)
        big = "Bench.Movie.2020.1080p.mkv"
        small = "Small.Movie.2020.1080p.mkv"
        size = int(options.gib * 1024**3)
        write_file(base / "downloads" / big, size)
        write_file(base / "downloads" / small, 2 * 1024 * 1024)
        link_small = [place_once(base, small, False) for _ in range(options.rounds)]
        link_big = [place_once(base, big, False) for _ in range(options.rounds)]
        copies, cps, cps_sync = [], [], []
        for _ in range(options.rounds):
            cps.append(cp_once(base / "downloads" / big, base / "cp.mkv", durable=False))
            copies.append(place_once(base, big, True))
            cps_sync.append(cp_once(base / "downloads" / big, base / "cp.mkv", durable=True))
        med = statistics.median
        print(f"file: {size / 1024**3:.2f} GiB, rounds: {options.rounds}, medians")
        print(f"hardlink 2 MiB:          {med(link_small) * 1000:8.2f} ms")
        print(f"hardlink {options.gib:g} GiB:          {med(link_big) * 1000:8.2f} ms")
        print(f"pipeline copy (+fsync):  {med(copies):8.2f} s")
        print(
            f"cp:                      {med(cps):8.2f} s   ratio copy/cp      {med(copies) / med(cps):.2f}"
        )
        print(
            f"cp + sync FILE:          {med(cps_sync):8.2f} s   ratio copy/cp+sync {med(copies) / med(cps_sync):.2f}"
        )


if __name__ == "__main__":
    main()
