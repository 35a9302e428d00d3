"""Bulk ingest throughput against merely reading the primary headers with astropy.

    LICK_DB_NAME=lick_bench .venv/bin/python bench/bench_ingest.py [--files 20000] [--jobs N]

Generates the demo tree once (var/bench_archive, reused afterwards), then on the same files:
1. reads every primary header with ``astropy.io.fits.getheader``, in a pool of N processes
   (N = cores, as bulk ingest uses), and also in one process;
2. bulk-ingests the tree with ``lick-admin ingest``'s code into the 1,000,000-row benchmark
   database (bench/common.py: every index present, the demo's schedule imported), as new rows
   (the tree's rows of an earlier run are removed first, and again afterwards), and prints files/s
   of each and the ratio ingest / parallel getheader (target >= 0.85), with the machine's load.
Both run with the files in the page cache (each is read once before timing).
"""
from __future__ import annotations

import argparse
import multiprocessing
import os
import sys
import time
import warnings
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
os.environ.setdefault("LICK_DB_NAME", "lick_bench")
os.environ["LICK_ARCHIVE_ROOT"] = str(REPO / "var" / "bench_archive")

from astropy.io import fits  # noqa: E402

import bench.common  # noqa: E402,F401  (database name first)
from bench.common import ensure_database  # noqa: E402

from archive.config import get_settings  # noqa: E402
from archive.db import dispose_engines, engine  # noqa: E402
from archive.demo import generate_demo  # noqa: E402
from ingest.bulk import bulk_ingest  # noqa: E402
from ingest.layout import find_files  # noqa: E402
from ingest.pipeline import relative_path  # noqa: E402
from ingest.schedule import import_schedule, read_schedule  # noqa: E402


def _getheader(path: Path) -> int:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            return len(fits.getheader(path, ignore_missing_end=True))
        except Exception:  # noqa: BLE001  (a quirk file astropy refuses still costs its read)
            return 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=20_000)
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    args = parser.parse_args()
    root = get_settings().archive_root
    started = time.perf_counter()
    summary = generate_demo(root, seed=2026, files=args.files)
    print(f"demo tree: {summary.files} files, {summary.total_bytes / 1e6:.0f} MB "
          f"({summary.written} written) in {time.perf_counter() - started:.1f} s")
    paths = list(find_files(root))
    for path in paths:  # into the page cache, for both contestants
        path.read_bytes()

    started = time.perf_counter()
    for path in paths:
        _getheader(path)
    serial = len(paths) / (time.perf_counter() - started)
    parallel_before = parallel_getheader(paths, args.jobs)
    load_getheader = os.getloadavg()[0]

    ensure_database(1_000_000, proprietary=0.3)
    rel_paths = [relative_path(p, root) for p in paths]
    with engine("owner").begin() as conn:
        import_schedule(conn, read_schedule(summary.schedule_csv))
    remove_rows(rel_paths)
    dispose_engines()
    load_before = os.getloadavg()[0]
    started = time.perf_counter()
    report = bulk_ingest([str(root)], jobs=args.jobs, progress=False)
    ingest = len(paths) / (time.perf_counter() - started)
    load_after = os.getloadavg()[0]
    remove_rows(rel_paths)
    # getheader again after the ingest: the machine's load drifts, and the mean of the two runs
    # brackets the ingest in time
    parallel_after = parallel_getheader(paths, args.jobs)
    parallel = (parallel_before + parallel_after) / 2
    print(f"ingest into {get_settings().db_name} ({rows_in_db():,} rows): {report.summary()}")
    print(f"astropy getheader, 1 process:    {serial:8.0f} files/s")
    print(f"astropy getheader, {args.jobs} processes:  {parallel:8.0f} files/s   (mean of {parallel_before:.0f} "
          f"before the ingest, load {load_getheader:.1f}, and {parallel_after:.0f} after)")
    print(f"bulk ingest, {args.jobs} processes:        {ingest:8.0f} files/s   (load {load_before:.1f} before, "
          f"{load_after:.1f} after; 1-minute load averages, machine shared: noisy)")
    print(f"ratio ingest / getheader ({args.jobs} processes): {ingest / parallel:.2f}  (target >= 0.85)")
    print(f"ratio ingest / getheader (1 process):   {ingest / serial:.2f}")


def parallel_getheader(paths: list[Path], jobs: int) -> float:
    """files/s of astropy getheader over ``paths`` in a pool of ``jobs`` processes."""
    with multiprocessing.get_context("fork").Pool(jobs) as pool:
        started = time.perf_counter()
        list(pool.imap_unordered(_getheader, paths, chunksize=64))
        return len(paths) / (time.perf_counter() - started)


def remove_rows(rel_paths: list[str]) -> None:
    """Remove the bench tree's rows (and so their grants), so that the ingest inserts them anew."""
    from sqlalchemy import text

    from ingest.store import withdraw

    with engine("ingest").begin() as conn:
        withdraw(conn, rel_paths)
        conn.execute(text("DELETE FROM lick.ingest_failure WHERE file_path = ANY(:paths)"), {"paths": rel_paths})
    with engine("owner").connect() as conn:
        conn.execution_options(isolation_level="AUTOCOMMIT").execute(text("VACUUM (ANALYZE) lick.observation"))


def rows_in_db() -> int:
    from sqlalchemy import text

    with engine("owner").connect() as conn:
        return conn.execute(text("SELECT count(*) FROM lick.observation")).scalar()


if __name__ == "__main__":
    main()
