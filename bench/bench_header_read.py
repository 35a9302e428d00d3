"""How fast headers are read: astropy's getheader against ingest.fitsread and the full mapping.

    .venv/bin/python bench/bench_header_read.py [N]

Writes N files (default 2000; copies of the real header samples, with END cards so that
getheader reads them too, and sparse data sections) to a temporary archive tree and prints files
per second for each reader, best of three passes, and the ratios. The target: fitsread at least
70% of getheader's speed.
"""
from __future__ import annotations

import sys
import tempfile
import time
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from astropy.io import fits  # noqa: E402

from ingest.fitsread import read_primary_header  # noqa: E402
from ingest.mapping import map_file  # noqa: E402
from tests.ingest.samples import load_samples, write_sample  # noqa: E402


def files_per_second(read, paths: list[Path], passes: int = 3) -> float:
    best = float("inf")
    for _ in range(passes):
        started = time.perf_counter()
        for path in paths:
            read(path)
        best = min(best, time.perf_counter() - started)
    return len(paths) / best


def main(count: int = 2000) -> None:
    warnings.simplefilter("ignore")
    samples = load_samples()
    with tempfile.TemporaryDirectory(prefix="lick_bench_") as tmp:
        root = Path(tmp)
        paths = []
        for i in range(count):
            sample = samples[i % len(samples)]
            month_day_dir, _, name = sample.rel_path.rpartition("/")
            paths.append(write_sample(sample, root, rel_path=f"{month_day_dir}/{i:05d}_{name}", end=True))
        getheader = files_per_second(fits.getheader, paths)
        fitsread = files_per_second(read_primary_header, paths)
        mapping = files_per_second(lambda p: map_file(p, root), paths)
    print(f"{count} files")
    print(f"astropy getheader   {getheader:10,.0f} files/s")
    print(f"ingest.fitsread     {fitsread:10,.0f} files/s   {fitsread / getheader:6.2f} x getheader")
    print(f"ingest.map_file     {mapping:10,.0f} files/s   {mapping / getheader:6.2f} x getheader")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 2000)
