"""inotify mode: instant notice of closed-after-write, moved-in and deleted files (local disks)."""
from __future__ import annotations

import logging
import threading
from pathlib import Path

import pyinotify

from ingest.layout import is_archive_file
from watcher.notifier import Notifier

log = logging.getLogger("watcher")

MASK = (pyinotify.IN_CLOSE_WRITE | pyinotify.IN_MOVED_TO | pyinotify.IN_DELETE
        | pyinotify.IN_MOVED_FROM | pyinotify.IN_CREATE)


class _Handler(pyinotify.ProcessEvent):
    def my_init(self, root: Path, notifier: Notifier):
        self.root = root
        self.notifier = notifier

    def _relative(self, pathname: str) -> str | None:
        try:
            return Path(pathname).relative_to(self.root).as_posix()
        except ValueError:
            return None

    def _report(self, event, kind: str) -> None:
        if not event.dir and is_archive_file(event.name):
            rel = self._relative(event.pathname)
            if rel:
                self.notifier.add(kind, rel)

    def process_IN_CLOSE_WRITE(self, event):
        self._report(event, "changed")

    def process_IN_MOVED_TO(self, event):
        if event.dir:
            self._catch_up(event.pathname)
        self._report(event, "changed")

    def process_IN_DELETE(self, event):
        self._report(event, "deleted")

    def process_IN_MOVED_FROM(self, event):
        self._report(event, "deleted")

    def process_IN_CREATE(self, event):
        # auto_add watches a new directory, but files may land in it before the watch exists.
        if event.dir:
            self._catch_up(event.pathname)

    def _catch_up(self, directory: str) -> None:
        if self._relative(directory) is None:
            return
        for sub in Path(directory).rglob("*"):
            if sub.is_file() and is_archive_file(sub.name):
                self.notifier.add("changed", sub.relative_to(self.root).as_posix())


def run(root: Path, notifier: Notifier, stop: threading.Event) -> None:
    manager = pyinotify.WatchManager()
    notifier_loop = pyinotify.Notifier(manager, _Handler(root=root, notifier=notifier), timeout=500)
    manager.add_watch(str(root), MASK, rec=True, auto_add=True)
    log.info("watching %s with inotify", root)
    try:
        while not stop.is_set():
            if notifier_loop.check_events():
                notifier_loop.read_events()
                notifier_loop.process_events()
        # what the kernel queued before the stop goes into the backlog too
        if notifier_loop.check_events(timeout=0):
            notifier_loop.read_events()
            notifier_loop.process_events()
    finally:
        notifier_loop.stop()
