"""Celery tasks of download bundles: the builder, and the beat task that tidies up after it."""
from __future__ import annotations

import os

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "vo_services.settings")
django.setup()

from archive.worker import app  # noqa: E402
from vo_services.datalink import bundle_jobs  # noqa: E402
from vo_services.tap.tasks import STUCK_AFTER_S  # noqa: E402  (one notion of a dead worker for all jobs)

LOST_AFTER_S = 120.0  # a QUEUED bundle no worker took for this long has lost its broker message


@app.task(acks_late=True, reject_on_worker_lost=True)
def build_bundle(bundle_id: str) -> str:
    return bundle_jobs.build(bundle_id)


@app.task
def tidy_bundles() -> dict[str, int]:
    """Expired bundles lose their files; dead builds become ERROR; lost messages are sent again."""
    return {"expired": bundle_jobs.expire(), "stuck": bundle_jobs.fail_stuck(STUCK_AFTER_S),
            "requeued": bundle_jobs.requeue_lost(LOST_AFTER_S)}
