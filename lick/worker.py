"""The Celery worker and beat of the archive: ``celery -A lick.worker worker`` (or ``beat``).

A composition root: it sets Django up once for the process (the job tasks use its ORM), names
the task modules a worker loads and the sweeps beat runs. The application object itself, which
web processes use to send tasks by name, is :mod:`archive.broker`.
"""
import os

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "vo_services.settings")
django.setup()

from archive.broker import app  # noqa: E402
from vo_services.jobs.manager import LOST_AFTER_S  # noqa: E402

RESEND_EVERY_S = min(60.0, max(1.0, LOST_AFTER_S / 2))

app.conf.update(
    include=["ingest.tasks", "vo_services.tap.tasks", "vo_services.datalink.tasks"],
    beat_schedule={
        "requeue-stale-ingest-notifications": {
            "task": "ingest.tasks.requeue_stale_notifications", "schedule": 60.0},
        "recover-stuck-jobs": {"task": "vo_services.tap.tasks.recover_stuck_jobs", "schedule": 30.0},
        # Often enough that a lost message waits about LICK_JOB_LOST_AFTER, at most a minute more.
        "requeue-lost-jobs": {"task": "vo_services.tap.tasks.requeue_lost_jobs", "schedule": RESEND_EVERY_S},
        "destroy-expired-jobs": {"task": "vo_services.tap.tasks.destroy_expired_jobs", "schedule": 300.0},
        "tidy-bundles": {"task": "vo_services.datalink.tasks.tidy_bundles", "schedule": 60.0},
        "sweep-coverage": {"task": "ingest.tasks.sweep_coverage", "schedule": 60.0},
    },
)

__all__ = ["app"]
