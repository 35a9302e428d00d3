"""Batches paths and posts them to the ingest API, keeping the backlog while the API is down."""
from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict

from watcher.backlog import Entry
from watcher.client import IngestApiError, IngestClient

log = logging.getLogger("watcher")


class Notifier:
    """Collects (event, path) pairs; a background thread posts them in batches.

    A path's latest event wins (a file written then deleted is reported as deleted). On an API
    error the batch goes back to the front of the backlog and the next attempt waits longer,
    up to ``max_backoff`` seconds. :meth:`stop` makes one last attempt and hands back what is
    still unposted, for the caller to keep (:mod:`watcher.backlog`).
    """

    def __init__(self, client: IngestClient, batch_size: int = 1000, linger: float = 0.5,
                 max_backoff: float = 60.0):
        self.client = client
        self.batch_size = batch_size
        self.linger = linger
        self.max_backoff = max_backoff
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
        with self._lock:
            # a post still under way may yet succeed: kept anyway, posting twice is harmless
            unposted = OrderedDict((p, e) for e, paths in self._in_flight.items() for p in paths)
            for path, event in self._pending.items():
                unposted.pop(path, None)
                unposted[path] = event
            return list(unposted.items())

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
        backoff = 0.0
        while True:
            with self._lock:
                while not self._pending and not self._stopping:
                    self._lock.wait()
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
                backoff = 0.0
                with self._lock:
                    self._in_flight = {}
            except IngestApiError as exc:
                self._put_back(batch)
                with self._lock:
                    if self._stopping:
                        log.warning("ingest API unavailable (%s) at stop; %d path(s) not posted",
                                    exc, len(self._pending))
                        return
                    backoff = min(self.max_backoff, max(1.0, backoff * 2))
                    log.warning("ingest API unavailable (%s); %d path(s) kept, retrying in %.0f s",
                                exc, len(self._pending), backoff)
                    self._lock.wait(timeout=backoff)
