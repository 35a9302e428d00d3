"""Batches paths and posts them to the ingest API, keeping the backlog while the API is down."""
from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable

from watcher.backlog import Entry
from watcher.client import IngestApiError, IngestClient

log = logging.getLogger("watcher")

MAX_RETRY_DELAY_S = 5.0
"""The longest wait between two attempts while the API is down. Short, because the wait after the
API comes back is at most this long whatever the outage's length (the delay doubles from 1 s up to
it); an attempt at an API that is down costs a refused connection, nothing more."""


class Notifier:
    """Collects (event, path) pairs; a background thread posts them in batches.

    A path's latest event wins (a file written then deleted is reported as deleted). On an API
    error the batch goes back to the front of the backlog and the next attempt waits longer,
    up to ``max_backoff`` seconds. :meth:`stop` makes one last attempt and hands back what is
    still unposted, for the caller to keep (:mod:`watcher.backlog`).

    ``keep(entries)``, if given, is called with everything unposted after a failed attempt and,
    while the API stays down, within ``linger`` of each change; with nothing once all is posted
    (in this thread only, never after :meth:`stop`). The backlog is thus on disk for as long as
    the API is down, and even a watcher killed outright (SIGKILL, a power cut) loses nothing,
    not even what the resync would not find again (an override file that changed).
    """

    def __init__(self, client: IngestClient, batch_size: int = 1000, linger: float = 0.5,
                 max_backoff: float = MAX_RETRY_DELAY_S, keep: Callable[[list[Entry]], None] | None = None):
        self.client = client
        self.batch_size = batch_size
        self.linger = linger
        self.max_backoff = max_backoff
        self._keep = keep
        self._keep_lock = threading.Lock()  # one writer of the backlog file at a time; stop() ends them
        self._kept_version = 0  # the _version last handed to keep
        self._version = 0  # counts changes of the backlog
        self._pending: OrderedDict[str, str] = OrderedDict()
        self._in_flight: dict[str, list[str]] = {}  # taken from _pending, not yet confirmed posted
        self._lock = threading.Condition()
        self._stopping = False
        self._thread = threading.Thread(target=self._run, name="notifier", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def add(self, event: str, path: str) -> None:
        with self._lock:
            self._pending.pop(path, None)
            self._pending[path] = event
            self._version += 1
            self._lock.notify()

    @property
    def backlog(self) -> int:
        with self._lock:
            return len(self._pending)

    def stop(self, flush_timeout: float = 5.0) -> list[Entry]:
        """Post what is pending at once (even in the middle of a back-off), for at most
        ``flush_timeout`` seconds, and return the (path, event) pairs not confirmed posted.

        One attempt only: a stop usually comes with the whole site going down, and waiting out
        the back-off for an API that is stopping too would only delay the stop.
        """
        self.client.timeout = min(self.client.timeout, flush_timeout)
        with self._lock:
            self._stopping = True
            self._lock.notify_all()
        self._thread.join(timeout=flush_timeout)
        with self._keep_lock:
            self._keep = None  # the caller keeps what is returned; a late post must not undo it
        with self._lock:
            return self._unposted()

    def _unposted(self) -> list[Entry]:
        """Everything not confirmed posted, oldest first; the caller holds ``_lock``."""
        # a post still under way may yet succeed: kept anyway, posting twice is harmless
        unposted = OrderedDict((p, e) for e, paths in self._in_flight.items() for p in paths)
        for path, event in self._pending.items():
            unposted.pop(path, None)
            unposted[path] = event
        return list(unposted.items())

    def _persist(self) -> None:
        """Hand the backlog to ``keep`` if it changed since the last time (in this thread only)."""
        with self._keep_lock:
            if self._keep is None:
                return
            with self._lock:
                if self._version == self._kept_version:
                    return
                entries, version = self._unposted(), self._version
            try:
                self._keep(entries)
                self._kept_version = version
            except OSError as exc:
                log.warning("could not write the backlog (%d path(s)) to disk: %s", len(entries), exc)

    def _take(self) -> dict[str, list[str]]:
        batch: dict[str, list[str]] = {}
        for _ in range(min(self.batch_size, len(self._pending))):
            path, event = self._pending.popitem(last=False)
            batch.setdefault(event, []).append(path)
        self._in_flight = batch
        return batch

    def _put_back(self, batch: dict[str, list[str]]) -> None:
        with self._lock:
            self._in_flight = {}
            newer = OrderedDict(self._pending)
            self._pending.clear()
            for event, paths in batch.items():
                for path in paths:
                    self._pending[path] = event
            for path, event in newer.items():  # anything newer keeps precedence
                self._pending.pop(path, None)
                self._pending[path] = event

    def _run(self) -> None:
        backoff = 0.0  # 0: the API answered last time
        retry_at = 0.0
        while True:
            with self._lock:
                ready = self._stopping or (self._pending and time.monotonic() >= retry_at)
                if not ready:
                    if backoff:
                        # Down: wake within `linger` of a change, to keep the disk copy current. A
                        # new path does not cut the wait short: files landing every second would
                        # otherwise mean an attempt every second.
                        self._lock.wait(max(0.0, min(self.linger, retry_at - time.monotonic())))
                    else:
                        self._lock.wait()
            if not ready:
                if backoff:
                    self._persist()
                continue
            with self._lock:
                if not self._pending:
                    return  # stopping with nothing left
                gather_until = time.monotonic() + self.linger  # let a burst gather into one batch
                while not self._stopping and (left := gather_until - time.monotonic()) > 0:
                    self._lock.wait(left)
                batch = self._take()
            try:
                for event, paths in list(batch.items()):
                    answer = self.client.notify(event, paths)
                    log.info("posted %d %s path(s) as notification %s", len(paths), event, answer.get("id"))
                    with self._lock:
                        del batch[event]
                        self._version += 1
                if backoff:
                    log.info("ingest API available again; %d path(s) left to post", self.backlog)
                backoff = retry_at = 0.0
                with self._lock:
                    self._in_flight = {}
                    drained = not self._pending
                if drained:
                    self._persist()  # all posted: the backlog file goes
            except IngestApiError as exc:
                self._put_back(batch)
                with self._lock:
                    left = len(self._pending)
                    if self._stopping:
                        log.warning("ingest API unavailable (%s) at stop; %d path(s) not posted", exc, left)
                        return
                backoff = min(self.max_backoff, max(1.0, backoff * 2))
                retry_at = time.monotonic() + backoff
                log.warning("ingest API unavailable (%s); %d path(s) kept, retrying in %.0f s", exc, left, backoff)
                self._persist()
