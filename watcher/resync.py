"""Compare disk with the database and report every difference: the watcher's start-up catch-up."""
from __future__ import annotations

import logging
import threading
from pathlib import Path

from ingest.layout import instrument_dirs, is_archive_file, is_fits
from watcher.client import IngestClient
from watcher.notifier import Notifier

log = logging.getLogger("watcher")

Snapshot = dict[str, tuple[int, float]]  # archive-relative path -> (size, mtime)


def disk_files(root: Path, directory: str) -> Snapshot:
    found: Snapshot = {}
    try:
        entries = list((root / directory).iterdir())
    except OSError:
        return found
    for entry in entries:
        if is_archive_file(entry.name):
            try:
                st = entry.stat()
            except OSError:
                continue  # deleted while we looked
            found[f"{directory}/{entry.name}"] = (st.st_size, st.st_mtime)
    return found


def resync(root: Path, client: IngestClient, notifier: Notifier,
           stop: threading.Event | None = None) -> Snapshot:
    """Report files that are new or changed on disk, or gone from it; return the disk snapshot.

    A stop cuts it short between directories (a large archive takes a while): the next start
    resyncs anyway.
    """
    snapshot: Snapshot = {}
    new = changed = deleted = 0
    # the database's directories too: a night removed as a whole is on disk no more
    for directory in sorted(set(instrument_dirs(root)) | set(client.stored_dirs())):
        if stop is not None and stop.is_set():
            log.info("resync: stopped before the end; %d new, %d changed, %d deleted file(s) reported",
                     new, changed, deleted)
            return snapshot
        on_disk = disk_files(root, directory)
        snapshot.update(on_disk)
        stored = client.stored_files(directory)
        for path, (size, mtime) in on_disk.items():
            if not is_fits(path):
                continue  # override files are re-read whenever their directory's files are
            before = stored.get(path)
            if before is None:
                new += 1
            elif before[0] != size or abs(before[1] - mtime) > 1e-3:
                changed += 1
            else:
                continue
            notifier.add("changed", path)
        for path in stored.keys() - on_disk.keys():
            notifier.add("deleted", path)
            deleted += 1
    log.info("resync: %d new, %d changed, %d deleted file(s) reported", new, changed, deleted)
    return snapshot
