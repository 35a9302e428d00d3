"""Celery tasks of the ingest side."""
from __future__ import annotations


from sqlalchemy.exc import InterfaceError, OperationalError

from archive.config import get_settings
from archive.coverage import refresh as coverage
from archive.db import engine
from archive.broker import app
from ingest import notifications
from ingest.layout import OVERRIDE_FILE, find_files
from ingest.pipeline import IngestReport, batches, ingest_batch


def ingest_relative(paths: list[str]) -> IngestReport:
    """Ingest or withdraw archive-relative paths; an override file re-applies its directory."""
    root = get_settings().archive_root
    report = IngestReport()
    files, redo_dirs = [], []
    for rel in paths:
        path = root / rel
        (redo_dirs if OVERRIDE_FILE.match(path.name) else files).append(path)
    for batch in batches(files):
        report.add(ingest_batch(batch, root=root))
    for directory in dict.fromkeys(p.parent for p in redo_dirs):
        for batch in batches(find_files(directory)):
            report.add(ingest_batch(batch, root=root, force=True))
    return report


@app.task(bind=True, autoretry_for=(OperationalError, InterfaceError), retry_backoff=True,
          retry_backoff_max=60, max_retries=20)
def process_notification(self, notification_id: int) -> str:
    """Run one notification; transient database errors are retried with backoff."""
    with engine("ingest").begin() as conn:
        paths = notifications.paths_of(conn, notification_id)
        notifications.mark(conn, notification_id, "running")
    report = ingest_relative(paths)
    status = "failed" if report.failed and report.total == len(report.failed) else "done"
    with engine("ingest").begin() as conn:
        notifications.mark(conn, notification_id, status, report.summary(), report.failed)
    return report.summary()


@app.task
def requeue_stale_notifications(queued_for_s: float = 120.0, running_for_s: float = 3600.0) -> int:
    """Queue again the notifications whose task vanished, so no notified file is ever lost."""
    with engine("ingest").connect() as conn:
        ids = notifications.stale(conn, queued_for_s, running_for_s)
    for notification_id in ids:
        process_notification.delay(notification_id)
    return len(ids)


@app.task(autoretry_for=(OperationalError, InterfaceError), retry_backoff=True, max_retries=5)
def make_previews(obs_ids: list[str]) -> str:
    """Make (or remake, when the file changed) the PNG previews of freshly ingested files, so that
    no one waits for them on a first request. Files without a preview are skipped."""
    from archive.schema import observation
    from ingest.previews import NoPreview, cached_preview
    from sqlalchemy import select

    settings = get_settings()
    o = observation.c
    with engine("ingest").connect() as conn:
        rows = conn.execute(select(o.obs_id, o.file_path, o.dataproduct_type)
                            .where(o.obs_id.in_(list(obs_ids)))).all()
    made = skipped = 0
    for row in rows:
        try:
            cached_preview(settings.preview_dir, row.obs_id, settings.archive_root / row.file_path,
                           row.dataproduct_type)
            made += 1
        except (NoPreview, OSError):
            skipped += 1
    return f"{made} preview(s) made, {skipped} skipped"


@app.task(autoretry_for=(OperationalError, InterfaceError), retry_backoff=True, retry_backoff_max=60,
          max_retries=10)
def refresh_coverage() -> str:
    """Compute the public MOC coverage and the sky picture again (archive.coverage.refresh),
    sent once per burst of changes by :func:`archive.coverage.refresh.request_refresh`."""
    return coverage.refresh().summary()


@app.task
def sweep_coverage() -> str:
    """Beat: refresh when rows became public by their release date or a refresh is overdue."""
    return coverage.sweep()
