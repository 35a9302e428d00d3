"""Notifications of new, changed and deleted files: recorded, queued, and their status kept.

The watcher (or anything else that writes files) posts paths to the ingest API; each post becomes
one row here and one Celery task, so its outcome can be asked for later.
"""
from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path, PurePosixPath

from sqlalchemy import Connection, func, select, update

from archive.schema import NOTIFICATION_EVENTS, ingest_notification

MAX_PATHS = 20_000


class BadNotification(ValueError):
    """A notification the API refuses; the message says why."""


def normalise_paths(paths: object, root: Path) -> list[str]:
    """Archive-relative POSIX paths, refusing anything outside the archive root."""
    if not isinstance(paths, list) or not paths or not all(isinstance(p, str) and p for p in paths):
        raise BadNotification("'paths' must be a non-empty list of file paths")
    if len(paths) > MAX_PATHS:
        raise BadNotification(f"at most {MAX_PATHS} paths per notification")
    relative = []
    for raw in paths:
        path = PurePosixPath(raw)
        if path.is_absolute():
            try:
                path = path.relative_to(root.as_posix())
            except ValueError:
                raise BadNotification(f"'{raw}' is not under the archive root") from None
        if ".." in path.parts or not path.parts:
            raise BadNotification(f"'{raw}' is not a path inside the archive")
        if "\x00" in raw:  # no file name holds one, and PostgreSQL text cannot
            raise BadNotification(f"{raw!r} holds a NUL character")
        relative.append(path.as_posix())
    return relative


def create(conn: Connection, event: str, paths: Sequence[str]) -> int:
    if event not in NOTIFICATION_EVENTS:
        raise BadNotification(f"'event' must be one of {', '.join(NOTIFICATION_EVENTS)}")
    return conn.execute(ingest_notification.insert().values(event=event, paths=list(paths))
                        .returning(ingest_notification.c.id)).scalar_one()


def mark(conn: Connection, notification_id: int, status: str, summary: str | None = None,
         failures: list | None = None) -> None:
    values: dict = {"status": status}
    if status in ("done", "failed"):
        values.update(summary=summary, failures=failures or [], finished_at=func.now())
    conn.execute(update(ingest_notification).where(ingest_notification.c.id == notification_id)
                 .values(**values))


def get(conn: Connection, notification_id: int) -> dict | None:
    row = conn.execute(select(ingest_notification).where(ingest_notification.c.id == notification_id)).first()
    if row is None:
        return None
    return {
        "id": row.id, "event": row.event, "status": row.status, "paths": len(row.paths),
        "summary": row.summary, "failures": row.failures or [],
        "created_at": row.created_at.isoformat(),
        "finished_at": row.finished_at.isoformat() if row.finished_at else None,
    }


def paths_of(conn: Connection, notification_id: int) -> list[str]:
    return conn.execute(select(ingest_notification.c.paths)
                        .where(ingest_notification.c.id == notification_id)).scalar_one()


def stale(conn: Connection, queued_for_s: float, running_for_s: float) -> list[int]:
    """Notifications whose task was lost (broker restarted, worker killed): to be queued again.

    Running them twice is harmless: ingest is idempotent.
    """
    n = ingest_notification.c
    rows = conn.execute(select(n.id).where(
        ((n.status == "queued") & (n.created_at < func.now() - timedelta(seconds=queued_for_s)))
        | ((n.status == "running") & (n.created_at < func.now() - timedelta(seconds=running_for_s)))
    ).order_by(n.id))
    return [r.id for r in rows]
