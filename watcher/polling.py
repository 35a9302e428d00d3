"""Polling mode: NFS-safe scans by size and mtime.

A file is reported once it stopped changing: when two scans one interval apart see the same
size and mtime. A file that disappears between scans is reported deleted.
"""
from __future__ import annotations

import logging
import threading
from pathlib import Path

from ingest.layout import instrument_dirs
from watcher.notifier import Notifier
from watcher.resync import Snapshot, disk_files

log = logging.getLogger("watcher")


class Poller:
    def __init__(self, root: Path, notifier: Notifier, interval: float, baseline: Snapshot):
        self.root = root
        self.notifier = notifier
        self.interval = interval
        self.reported = dict(baseline)  # what the database has been told
        self.settling: Snapshot = {}  # seen changed in the last scan, not yet reported

    def scan(self) -> None:
        now: Snapshot = {}
        for directory in instrument_dirs(self.root):
            now.update(disk_files(self.root, directory))
        for path, state in now.items():
            if self.reported.get(path) == state:
                self.settling.pop(path, None)
            elif self.settling.get(path) == state:  # unchanged for one whole interval
                self.notifier.add("changed", path)
                self.reported[path] = state
                del self.settling[path]
            else:
                self.settling[path] = state
        for path in self.reported.keys() - now.keys():
            self.notifier.add("deleted", path)
            del self.reported[path]
        for path in self.settling.keys() - now.keys():
            del self.settling[path]

    def run(self, stop: threading.Event) -> None:
        while not stop.wait(self.interval):
            try:
                self.scan()
            except OSError as exc:
                log.warning("scan failed: %s", exc)
