"""Polling mode: NFS-safe scans by size and mtime.

Every ``interval`` seconds the tree is scanned; a new or changed file then counts once it has
kept the same size and mtime for ``settle`` seconds (it is re-checked on its own meanwhile, so a
file lands in the database within about ``interval + settle`` seconds). A file that disappears is
reported deleted.
"""
from __future__ import annotations

import logging
import os
import threading
import time
from pathlib import Path

from ingest.layout import instrument_dirs
from watcher.notifier import Notifier
from watcher.resync import Snapshot, disk_files

log = logging.getLogger("watcher")


class Poller:
    def __init__(self, root: Path, notifier: Notifier, interval: float, baseline: Snapshot,
                 settle: float = 2.0):
        self.root = root
        self.notifier = notifier
        self.interval = interval
        self.settle = settle
        self.reported = dict(baseline)  # what the database has been told
        self.settling: dict[str, tuple[tuple[int, float], float]] = {}  # path -> (state, since)

    def scan(self) -> None:
        now: Snapshot = {}
        for directory in instrument_dirs(self.root):
            now.update(disk_files(self.root, directory))
        for path, state in now.items():
            if self.reported.get(path) == state:
                self.settling.pop(path, None)
            else:
                self._observe(path, state)
        for path in self.reported.keys() - now.keys():
            self.notifier.add("deleted", path)
            del self.reported[path]
            self.settling.pop(path, None)

    def recheck(self) -> None:
        """Look again at the files still settling, one stat each."""
        for path in list(self.settling):
            try:
                st = os.stat(self.root / path)
            except OSError:
                del self.settling[path]
                continue
            self._observe(path, (st.st_size, st.st_mtime))

    def _observe(self, path: str, state: tuple[int, float]) -> None:
        seen = self.settling.get(path)
        clock = time.monotonic()
        if seen is None or seen[0] != state:
            self.settling[path] = (state, clock)
        elif clock - seen[1] >= self.settle:  # unchanged for the settle time: complete
            self.notifier.add("changed", path)
            self.reported[path] = state
            del self.settling[path]

    def run(self, stop: threading.Event) -> None:
        next_scan = time.monotonic()
        while not stop.is_set():
            try:
                if time.monotonic() >= next_scan:
                    self.scan()
                    next_scan = time.monotonic() + self.interval
                self.recheck()
            except OSError as exc:
                log.warning("scan failed: %s", exc)
            stop.wait(min(self.settle / 2, self.interval))
