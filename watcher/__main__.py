"""``python -m watcher``: run the watcher until SIGTERM or SIGINT (Ctrl-C)."""
from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
import time
from pathlib import Path

from archive.config import REPO_ROOT, get_settings
from watcher import backlog, inotify
from watcher.client import IngestApiError, IngestClient
from watcher.notifier import MAX_RETRY_DELAY_S, Notifier
from watcher.polling import Poller
from watcher.resync import resync

log = logging.getLogger("watcher")


def _pause(stop: threading.Event, seconds: float) -> None:
    """Sleep until ``stop`` or ``seconds``, in the main thread.

    Not ``stop.wait()``: the signal handler runs in the main thread and calls ``stop.set()``,
    which takes the Event's lock; had the main thread been holding that lock inside ``wait()``
    when the signal came, the handler would wait for it forever.
    """
    end = time.monotonic() + seconds
    while not stop.is_set() and time.monotonic() < end:
        time.sleep(min(0.2, max(0.0, end - time.monotonic())))


def main(argv: list[str] | None = None) -> int:
    settings = get_settings()
    parser = argparse.ArgumentParser(prog="python -m watcher", description=__doc__.splitlines()[0])
    parser.add_argument("--mode", choices=("inotify", "polling"), default="inotify",
                        help="inotify for local disks, polling for NFS (default inotify)")
    parser.add_argument("--root", type=Path, default=settings.archive_root, help="archive root")
    parser.add_argument("--interval", type=float, default=30.0, help="polling interval, seconds")
    parser.add_argument("--settle", type=float, default=2.0,
                        help="polling: seconds a file must stay unchanged before it counts (default 2)")
    parser.add_argument("--api", default=settings.ingest_url, help="ingest API base URL")
    parser.add_argument("--backlog", type=Path, default=REPO_ROOT / "var" / "watcher-backlog.json",
                        help="where paths not yet posted are kept from a stop to the next start "
                             "(default var/watcher-backlog.json)")
    parser.add_argument("--max-retry-delay", type=float, default=MAX_RETRY_DELAY_S,
                        help="while the ingest API is down, the longest wait between two attempts, which "
                             f"is also the longest wait after it is back (default {MAX_RETRY_DELAY_S:g} s)")
    parser.add_argument("--flush-timeout", type=float, default=5.0,
                        help="at a stop, seconds to try posting the backlog before keeping it (default 5)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")

    # SIGINT too, explicitly: a shell starts its background jobs with SIGINT ignored, so Ctrl-C on
    # scripts/run.sh would otherwise not reach the watcher at all.
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())

    if not args.root.is_dir():
        print(f"watcher: error: archive root {args.root} is not a directory; set LICK_ARCHIVE_ROOT",
              file=sys.stderr)
        return 1
    root = args.root.resolve()
    client = IngestClient(args.api, settings.ingest_token)
    # While the API is down the backlog is on disk too (rewritten as it changes, removed once
    # posted): a watcher killed outright during an outage loses nothing either.
    notifier = Notifier(client, max_backoff=args.max_retry_delay,
                        keep=lambda entries: backlog.save(args.backlog, entries))
    kept = backlog.load(args.backlog)
    for path, event in kept:
        notifier.add(event, path)
    if kept:
        log.info("posting %d path(s) kept by the last stop in %s", len(kept), args.backlog)
    notifier.start()
    watching = None
    try:
        # Resync first, retrying while the API is down, so nothing that landed meanwhile is lost.
        # inotify starts watching before the resync so no file slips between the two.
        if args.mode == "inotify":
            watching = threading.Thread(target=inotify.run, args=(root, notifier, stop), daemon=True)
            watching.start()
        delay = 1.0
        baseline = None
        while not stop.is_set():
            try:
                baseline = resync(root, client, notifier, stop)
                break
            except IngestApiError as exc:
                log.warning("resync: ingest API unavailable (%s); retrying in %.0f s", exc, delay)
                _pause(stop, delay)
                delay = min(delay * 2, args.max_retry_delay)
        if args.mode == "polling" and baseline is not None and not stop.is_set():
            watching = threading.Thread(target=Poller(root, notifier, args.interval, baseline, args.settle).run,
                                        args=(stop,), daemon=True)
            watching.start()
        if not stop.is_set():
            log.info("watcher running in %s mode on %s", args.mode, root)
        while not stop.is_set():
            time.sleep(0.2)
    finally:
        stop.set()
        if watching is not None:
            watching.join(timeout=2)  # so that nothing is added after the backlog is taken
        unposted = notifier.stop(args.flush_timeout)
        backlog.save(args.backlog, unposted)
        if unposted:
            log.info("watcher stopped; %d path(s) not posted, kept in %s for the next start",
                     len(unposted), args.backlog)
        else:
            log.info("watcher stopped; nothing left to post")
    return 0


if __name__ == "__main__":
    sys.exit(main())
