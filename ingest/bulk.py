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
from archive.db import dispose_engines, engine
from archive.errors import AdminError
from ingest.layout import find_files
from ingest.pipeline import (
    BATCH_SIZE, IngestReport, batches, ingest_batch, plan_reads, read_file, relative_paths)
from ingest.store import known_states


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
                dry_run: bool = False, jobs: int = 0, progress: bool = True,
                batch_size: int = BATCH_SIZE) -> IngestReport:
    root = get_settings().archive_root
    if not root.is_dir():
        raise AdminError(f"archive root {root} is not a directory; set LICK_ARCHIVE_ROOT")
    files = _expand(paths, from_list, root)
    report = IngestReport()
    started = time.monotonic()
    jobs = jobs or os.cpu_count() or 1
    dispose_engines()  # no pooled connection may be shared with forked readers
    with multiprocessing.get_context("fork").Pool(jobs) as pool:
        all_batches = list(batches(files, batch_size))
        read_ahead = ReadAhead(pool, root, force)
        for number, batch in enumerate(all_batches):
            following = all_batches[number + 1] if number + 1 < len(all_batches) else None
            report.add(ingest_batch(batch, root=root, force=force, dry_run=dry_run,
                                    reader=read_ahead.reader(following)))
            if progress:
                _progress(report.total, len(files), started)
    if progress and files:
        sys.stderr.write("\n")
    return report


class ReadAhead:
    """Reads the next batch's headers in the pool while the main process writes the current one.

    Without it the readers stood idle during each batch's upsert and commit, and the writer during
    each batch's reading. The next batch's files to read are planned on a connection of their own
    (the same check :func:`ingest_batch` makes); if that batch's own check then asks for other
    files (a file changed in between), they are read anew and the early reading is dropped. At
    most two batches are in flight, so memory stays bounded whatever the number of files.
    """

    def __init__(self, pool, root: Path, force: bool):
        self.pool, self.root, self.force = pool, root, force
        self._ahead: tuple[list[Path], Iterator[tuple]] | None = None

    def _start(self, to_read: list[Path], rel: dict[Path, str] | None = None) -> Iterator[tuple]:
        rel = rel or relative_paths(to_read, self.root)
        return self.pool.imap(_read_one, [(path, self.root, rel[path]) for path in to_read], chunksize=16)

    def reader(self, following: list[Path] | None):
        """The reader for one batch; once its reading is under way, the next batch's starts."""
        def read(to_read: list[Path], root: Path) -> Iterator[tuple]:
            ahead, self._ahead = self._ahead, None
            results = ahead[1] if ahead is not None and ahead[0] == to_read else self._start(to_read)
            if following:
                planned, rel = self._plan(following)
                self._ahead = (planned, self._start(planned, rel))
            return results
        return read

    def _plan(self, paths: list[Path]) -> tuple[list[Path], dict[Path, str]]:
        rel = relative_paths(paths, self.root)
        with engine("ingest").connect() as conn:
            stored = known_states(conn, list(rel.values()))
        return plan_reads(paths, rel, stored, self.force)[0], rel


def _read_one(args: tuple[Path, Path, str]) -> tuple:
    return read_file(*args)
