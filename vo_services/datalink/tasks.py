"""Celery tasks of download bundles: the builder, and the beat task that tidies up after it.

Thin: the bodies are in :mod:`vo_services.datalink.bundle_jobs` and the job core; the worker
loads this module by name (:mod:`lick.worker`) and the web sends ``build_bundle`` by name.
"""
from __future__ import annotations

from archive.broker import app
from vo_services.datalink import bundle_jobs


@app.task(name=bundle_jobs.KIND.task, acks_late=True, reject_on_worker_lost=True)
def build_bundle(bundle_id: str) -> str:
    return bundle_jobs.build(bundle_id)


@app.task
def tidy_bundles() -> dict[str, int]:
    """Expired bundles lose their files; dead builds become ERROR; lost messages are sent again."""
    return {"expired": bundle_jobs.expire(), "stuck": bundle_jobs.fail_stuck(),
            "requeued": bundle_jobs.requeue_lost()}
