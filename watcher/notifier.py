"""Batches paths and posts them to the ingest API, keeping the backlog while the API is down."""
from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict

from watcher.client import IngestApiError, IngestClient

log = logging.getLogger("watcher")


class Notifier:
    """Collects (event, path) pairs; a background thread posts them in batches.

    A path's latest event wins (a file written then deleted is reported as deleted). On an API
    error the batch goes back to the front of the backlog and the next attempt waits longer,
    up to ``max_backoff`` seconds.
    """

    def __init__(self, client: IngestClient, batch_size: int = 1000, linger: float = 0.5,
                 max_backoff: float = 60.0):
        self.client = client
        self.batch_size = batch_size
        self.linger = linger
        self.max_backoff = max_backoff
        self._pending: OrderedDict[str, str] = OrderedDict()
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

    def stop(self, flush_timeout: float = 10.0) -> None:
        deadline = time.monotonic() + flush_timeout
        while self.backlog and time.monotonic() < deadline:
            time.sleep(0.05)
        with self._lock:
            self._stopping = True
            self._lock.notify()
        self._thread.join(timeout=5)

    def _take(self) -> dict[str, list[str]]:
        batch: dict[str, list[str]] = {}
        for _ in range(min(self.batch_size, len(self._pending))):
            path, event = self._pending.popitem(last=False)
            batch.setdefault(event, []).append(path)
        return batch

    def _put_back(self, batch: dict[str, list[str]]) -> None:
        with self._lock:
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
                if self._stopping:
                    return
            time.sleep(self.linger)  # let a burst of events gather into one batch
            with self._lock:
                batch = self._take()
            try:
                for event, paths in batch.items():
                    answer = self.client.notify(event, paths)
                    log.info("posted %d %s path(s) as notification %s", len(paths), event, answer.get("id"))
                    batch = {e: p for e, p in batch.items() if e != event}
                backoff = 0.0
            except IngestApiError as exc:
                self._put_back(batch)
                backoff = min(self.max_backoff, max(1.0, backoff * 2))
                log.warning("ingest API unavailable (%s); %d path(s) kept, retrying in %.0f s",
                            exc, self.backlog, backoff)
                with self._lock:
                    self._lock.wait(timeout=backoff)
