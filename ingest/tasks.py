"""Celery tasks of the ingest side."""
from __future__ import annotations

from pathlib import Path

from sqlalchemy.exc import InterfaceError, OperationalError

from archive.config import get_settings
from archive.worker import app
from ingest.pipeline import ingest_batch


@app.task(bind=True, autoretry_for=(OperationalError, InterfaceError), retry_backoff=True, retry_backoff_max=60,
          max_retries=10)
def ingest_paths(self, paths: list[str]) -> dict:
    """Ingest (or withdraw) the given archive-relative or absolute paths as one batch.

    Transient database errors (connection lost, server restarting) are retried with backoff.
    """
    root = get_settings().archive_root
    absolute = [p if p.is_absolute() else root / p for p in map(Path, paths)]
    report = ingest_batch(absolute, root=root)
    return {"summary": report.summary(), "failed": report.failed}
