"""The watcher's backlog on disk: paths it saw but could not post yet.

While the ingest API is down the notifier (:mod:`watcher.notifier`) keeps this file current
(within half a second of each change) and removes it once everything is posted; a stop
(SIGTERM from systemd, Ctrl-C on ``scripts/run.sh``) often comes while the API is down too, so
the backlog cannot always be posted on the way out: the stop writes what is left. The next start
posts the file's paths. The start-up resync would find new and changed FITS files again, but not
an override file that changed (resync only compares FITS files with their rows), and a resync of
a large archive takes a while; the file makes the restart exact, even after a SIGKILL.

A watcher killed after reading the file reads it again: the file goes only once its paths are
confirmed posted, and posting a path twice only makes the ingest look at an unchanged file once more.
"""
from __future__ import annotations

import json
import logging
import os
from pathlib import Path

log = logging.getLogger("watcher")

Entry = tuple[str, str]  # (archive-relative path, event)


def load(path: Path) -> list[Entry]:
    """The entries kept by the last stop, oldest first; none if there is no (readable) file."""
    try:
        kept = json.loads(path.read_text())["paths"]
        return [(str(p), str(e)) for p, e in kept]
    except FileNotFoundError:
        return []
    except (OSError, ValueError, KeyError, TypeError) as exc:
        log.warning("backlog file %s is unreadable (%s); ignored, the resync finds the files", path, exc)
        return []


def save(path: Path, entries: list[Entry]) -> None:
    """Keep ``entries`` for the next start (atomically: a stop cut short leaves the old file);
    with none, remove the file."""
    if not entries:
        path.unlink(missing_ok=True)
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.{os.getpid()}.partial")
    partial.write_text(json.dumps({"paths": [list(e) for e in entries]}))
    os.replace(partial, path)
