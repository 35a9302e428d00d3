"""Bulk ingest of trees or file lists: parallel header reading, batched writes, a progress line.

Re-running it is cheap and safe (files whose size and mtime match their row are skipped), which
is also what makes an interrupted run resumable.
"""
from __future__ import annotations

import multiprocessing
import os
import sys
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

from archive.config import get_settings
from archive.db import dispose_engines
from archive.errors import AdminError
from ingest.layout import find_files
from ingest.pipeline import BATCH_SIZE, IngestReport, batches, ingest_batch, read_file


def _expand(paths: Sequence[str], from_list: str | None, root: Path) -> list[Path]:
    chosen: list[Path] = []
    names = list(paths)
    if from_list:
        try:
            names += [line.strip() for line in Path(from_list).read_text().splitlines() if line.strip()]
        except OSError as exc:
            raise AdminError(f"cannot read the list {from_list}: {exc.strerror}") from None
    for name in names or [str(root)]:
        path = Path(name).resolve()
        if not path.is_relative_to(root.resolve()):
            raise AdminError(f"{name} is not under the archive root {root}; set LICK_ARCHIVE_ROOT")
        chosen.extend(find_files(path) if path.is_dir() else [path])
    return chosen


def _progress(done: int, total: int, started: float) -> None:
    elapsed = max(time.monotonic() - started, 1e-9)
    rate = done / elapsed
    eta = (total - done) / rate if rate else 0
    bar = "#" * int(30 * done / total) if total else ""
    sys.stderr.write(f"\r[{bar:<30}] {done}/{total} files, {rate:,.0f} files/s, ETA {eta:,.0f} s ")
    sys.stderr.flush()


def bulk_ingest(paths: Sequence[str] = (), *, from_list: str | None = None, force: bool = False,
                dry_run: bool = False, jobs: int = 0, progress: bool = True) -> IngestReport:
    root = get_settings().archive_root
    if not root.is_dir():
        raise AdminError(f"archive root {root} is not a directory; set LICK_ARCHIVE_ROOT")
    files = _expand(paths, from_list, root)
    report = IngestReport()
    started = time.monotonic()
    jobs = jobs or os.cpu_count() or 1
    dispose_engines()  # no pooled connection may be shared with forked readers
    with multiprocessing.get_context("fork").Pool(jobs) as pool:
        def reader(batch: list[Path], root: Path) -> Iterator[tuple]:
            return pool.imap(_read_one, [(path, root) for path in batch], chunksize=16)

        for batch in batches(files, BATCH_SIZE):
            report.add(ingest_batch(batch, root=root, force=force, dry_run=dry_run, reader=reader))
            if progress:
                _progress(report.total, len(files), started)
    if progress and files:
        sys.stderr.write("\n")
    return report


def _read_one(args: tuple[Path, Path]) -> tuple:
    return read_file(*args)
