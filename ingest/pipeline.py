"""From files on disk to rows: the one ingest path that the Celery task and bulk ingest share.

For each batch of paths: skip files whose size and mtime match their row, read and map the
header of the others, decide their access, and upsert the batch in one transaction as the ingest
role. Files that vanished are withdrawn; unreadable ones are reported with their reason and
leave no row.
"""
from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from sqlalchemy import Connection

from archive.config import get_settings
from archive.coverage.refresh import request_refresh
from archive.db import engine
from ingest.access import AccessPolicy, AccessRules
from ingest.fitsread import UnreadableFile
from ingest.mapping import map_file
from ingest.overrides import Overrides
from ingest.schedule import Schedule
from ingest.store import (
    FileState, Ingestable, clear_failures, known_states, record_failures, store_decisions, upsert, withdraw)

BATCH_SIZE = 500

log = logging.getLogger(__name__)


@dataclass
class IngestReport:
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    withdrawn: int = 0
    failed: list[tuple[str, str]] = field(default_factory=list)

    @property
    def total(self) -> int:
        return self.inserted + self.updated + self.unchanged + self.withdrawn + len(self.failed)

    def add(self, other: IngestReport) -> None:
        self.inserted += other.inserted
        self.updated += other.updated
        self.unchanged += other.unchanged
        self.withdrawn += other.withdrawn
        self.failed.extend(other.failed)

    def summary(self) -> str:
        return (f"{self.inserted} ingested, {self.updated} updated, {self.unchanged} unchanged, "
                f"{self.withdrawn} withdrawn, {len(self.failed)} failed")


def file_state(path: Path) -> FileState:
    st = path.stat()
    return FileState(st.st_size, datetime.fromtimestamp(st.st_mtime, timezone.utc))


def relative_path(path: Path, root: Path) -> str:
    return path.resolve().relative_to(root.resolve()).as_posix()


def relative_paths(paths: Iterable[Path], root: Path) -> dict[Path, str]:
    """:func:`relative_path` of each path, resolving each directory once, not each file.

    A batch's files share a few night directories; resolving every file's whole path took a
    fifth of bulk ingest's writer. A file that is itself a symbolic link is resolved in full.
    """
    real_root = root.resolve()
    directories: dict[Path, Path] = {}
    relative = {}
    for path in paths:
        if path.is_symlink():
            real = path.resolve()
        else:
            directory = directories.get(path.parent)
            if directory is None:
                directory = directories[path.parent] = path.parent.resolve()
            real = directory / path.name
        relative[path] = real.relative_to(real_root).as_posix()
    return relative


def read_file(path: Path, root: Path, rel_path: str | None = None):
    """Map one file; returns (metadata, state) or (None, reason). Runs in worker processes."""
    try:
        state = file_state(path)
        return map_file(path, root, rel_path), state
    except UnreadableFile as exc:
        return None, str(exc)
    except OSError as exc:
        return None, f"cannot read the file: {exc.strerror or exc}"


def batches(items: Iterable, size: int = BATCH_SIZE) -> Iterator[list]:
    batch = []
    for item in items:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def read_files(paths: list[Path], root: Path) -> Iterator[tuple]:
    return (read_file(path, root) for path in paths)


def plan_reads(paths: list[Path], rel: dict[Path, str], stored: dict[str, FileState],
               force: bool) -> tuple[list[Path], list[str], int]:
    """(files to read, archive paths of vanished files, how many are unchanged) for a batch.

    A file is unchanged when its size and mtime match its row's (``force`` reads it anyway).
    """
    to_read, gone, unchanged = [], [], 0
    for path in paths:
        if not path.exists():
            gone.append(rel[path])
            continue
        before = stored.get(rel[path])
        if before and not force:
            now = file_state(path)
            if (now.size, now.mtime) == (before.size, before.mtime):
                unchanged += 1
                continue
        to_read.append(path)
    return to_read, gone, unchanged


# Taken in the order given (unnest keeps it), which the caller sorts: no two batches deadlock.
_LOCK_DIRECTORIES = ("SELECT pg_advisory_xact_lock(hashtextextended('lick.ingest:' || d, 0)) "
                     "FROM unnest(%s::text[]) AS d")


def lock_directories(conn: Connection, rel_paths: Iterable[str]) -> None:
    """Hold, until the transaction ends, a lock on each directory of ``rel_paths``.

    Two tasks may be handed the same file at once: after an outage of the ingest API the
    watcher posts its backlog while its resync, finding those files not yet stored, posts them
    again. Without the lock both read the file and both write its row (the second overwriting
    the first, or failing on a unique key); with it the second waits for the first's commit,
    then finds the file unchanged. Directories, not files: a batch's few locks, not hundreds.
    """
    directories = sorted({path.rpartition("/")[0] for path in rel_paths})
    if directories:
        conn.exec_driver_sql(_LOCK_DIRECTORIES, (directories,))


def ingest_batch(paths: list[Path], *, root: Path | None = None, force: bool = False,
                 dry_run: bool = False, reader: Callable = read_files, previews: bool = True) -> IngestReport:
    """Ingest one batch of absolute paths under the archive root in one transaction.

    ``reader(paths, root)`` yields :func:`read_file`'s answer for each path in order: in this
    process by default, or from a process pool for bulk ingest. Once the rows are committed,
    the previews of the files written are queued (:func:`queue_previews`), unless ``previews``
    is false.
    """
    root = root or get_settings().archive_root
    report = IngestReport()
    rel = relative_paths(paths, root)
    with engine("ingest").begin() as conn:
        lock_directories(conn, rel.values())
        stored = known_states(conn, list(rel.values()))
        to_read, gone, report.unchanged = plan_reads(paths, rel, stored, force)
        rules = AccessRules(Schedule(conn), AccessPolicy(get_settings().proprietary_years),
                            Overrides(root))
        items = []
        for path, (meta, state) in zip(to_read, reader(to_read, root)):
            if meta is None:
                report.failed.append((rel[path], state))
                continue
            meta = rules.correct(meta)
            items.append(Ingestable(meta, state, rules.decide(meta)))
            if rel[path] in stored:
                report.updated += 1
            else:
                report.inserted += 1
        if dry_run:
            conn.rollback()
            return report
        upsert(conn, items)
        report.withdrawn = withdraw(conn, [p for p in gone if p in stored])
        record_failures(conn, report.failed)
        clear_failures(conn, [item.meta.file_path for item in items] + gone)
    if previews:
        queue_previews([item.meta.obs_id for item in items])
    if items or report.withdrawn:
        request_refresh()  # debounced: one refresh per burst of batches, after they committed
    return report


#: Previews come after any ingest waiting in the same queue: on Redis, Celery takes priority 0
#: first and 9 last (kombu's priority lists), so a file that lands after a large drain is not
#: kept waiting behind every batch's previews.
PREVIEW_PRIORITY = 9


def queue_previews(obs_ids: list[str]) -> None:
    """Ask a worker for the previews of these observations (``ingest.tasks.make_previews``, by
    name). Ingest is committed by now: a broker outage only leaves the previews to be made on
    their first request."""
    if not obs_ids:
        return
    from archive.broker import app

    try:
        app.send_task("ingest.tasks.make_previews", args=[obs_ids], priority=PREVIEW_PRIORITY)
    except Exception as exc:  # noqa: BLE001 - kombu's errors vary by transport; the rows are in
        log.warning("previews of %d file(s) not queued: %s", len(obs_ids), exc)


@dataclass(frozen=True)
class StoredMeta:
    """The columns of a stored row that the access rules read."""

    file_path: str
    telescope: str
    instrument: str
    frame_type: str
    observing_night: object
    date_obs: datetime | None


def reapply_access(*, night=None, telescope: str | None = None, obs_ids: Iterable[str] | None = None,
                   root: Path | None = None) -> int:
    """Decide access again from the stored rows (after a schedule change): no file is read."""
    with engine("ingest").begin() as conn:
        decided = redecide(conn, night=night, telescope=telescope, obs_ids=obs_ids, root=root)
    if decided:
        request_refresh()  # release dates may have moved: the public coverage with them
    return decided


def redecide(conn: Connection, *, night=None, telescope: str | None = None,
             obs_ids: Iterable[str] | None = None, root: Path | None = None) -> int:
    """:func:`reapply_access` in the caller's transaction; returns how many rows were decided."""
    from sqlalchemy import select

    from archive.schema import observation

    root = root or get_settings().archive_root
    o = observation.c
    query = select(o.id, o.file_path, o.telescope, o.instrument, o.frame_type, o.observing_night, o.date_obs)
    if night is not None:
        query = query.where(o.observing_night == night)
    if telescope is not None:
        query = query.where(o.telescope == telescope)
    if obs_ids is not None:
        query = query.where(o.obs_id.in_(list(obs_ids)))
    count = 0
    rules = AccessRules(Schedule(conn), AccessPolicy(get_settings().proprietary_years), Overrides(root))
    for batch in batches(conn.execute(query).all()):
        store_decisions(conn, {r.id: rules.decide(StoredMeta(r.file_path, r.telescope, r.instrument, r.frame_type,
                                                             r.observing_night, r.date_obs)) for r in batch})
        count += len(batch)
    return count
