"""``python -m watcher``: run the watcher until SIGTERM or Ctrl-C."""
from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
import time
from pathlib import Path

from archive.config import get_settings
from watcher import inotify
from watcher.client import IngestApiError, IngestClient
from watcher.notifier import Notifier
from watcher.polling import Poller
from watcher.resync import resync

log = logging.getLogger("watcher")


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
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")

    if not args.root.is_dir():
        print(f"watcher: error: archive root {args.root} is not a directory; set LICK_ARCHIVE_ROOT",
              file=sys.stderr)
        return 1
    root = args.root.resolve()
    client = IngestClient(args.api, settings.ingest_token)
    notifier = Notifier(client)
    notifier.start()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())

    # Resync first, retrying while the API is down, so nothing that landed meanwhile is lost.
    # inotify starts watching before the resync so no file slips between the two.
    watching = None
    if args.mode == "inotify":
        watching = threading.Thread(target=inotify.run, args=(root, notifier, stop), daemon=True)
        watching.start()
    delay = 1.0
    while not stop.is_set():
        try:
            baseline = resync(root, client, notifier)
            break
        except IngestApiError as exc:
            log.warning("resync: ingest API unavailable (%s); retrying in %.0f s", exc, delay)
            stop.wait(delay)
            delay = min(delay * 2, 60.0)
    else:
        return 0
    if args.mode == "polling":
        watching = threading.Thread(target=Poller(root, notifier, args.interval, baseline, args.settle).run,
                                    args=(stop,), daemon=True)
        watching.start()
    log.info("watcher running in %s mode on %s", args.mode, root)
    try:
        while not stop.is_set():
            time.sleep(0.5)
    except KeyboardInterrupt:
        stop.set()
    notifier.stop()
    log.info("watcher stopped; %d path(s) not yet posted", notifier.backlog)
    return 0


if __name__ == "__main__":
    sys.exit(main())
