"""The Celery application shared by ingest and the VO services' background jobs.

Start a worker with ``celery -A archive.worker worker``. Tasks are acknowledged only after they
ran and are re-queued when a worker dies mid-task, so a killed worker loses no work; Redis is
only the broker, every durable state lives in PostgreSQL.
"""
from celery import Celery

from archive.config import get_settings

app = Celery("lick", broker=get_settings().redis_url,
             include=["ingest.tasks", "vo_services.tap.tasks", "vo_services.datalink.tasks"])
app.conf.update(
    task_default_queue=get_settings().celery_queue,
    task_acks_late=True,
    task_reject_on_worker_lost=True,
    worker_prefetch_multiplier=1,
    task_ignore_result=True,
    broker_connection_retry_on_startup=True,
    # A web request that queues a task must not hang while the broker is down.
    task_publish_retry_policy={"max_retries": 2, "interval_start": 0, "interval_step": 0.5},
    broker_transport_options={"visibility_timeout": 3600},
    timezone="UTC",
    beat_schedule={
        "requeue-stale-ingest-notifications": {
            "task": "ingest.tasks.requeue_stale_notifications", "schedule": 60.0},
        "recover-stuck-jobs": {"task": "vo_services.tap.tasks.recover_stuck_jobs", "schedule": 30.0},
        "requeue-lost-jobs": {"task": "vo_services.tap.tasks.requeue_lost_jobs", "schedule": 60.0},
        "destroy-expired-jobs": {"task": "vo_services.tap.tasks.destroy_expired_jobs", "schedule": 300.0},
        "tidy-bundles": {"task": "vo_services.datalink.tasks.tidy_bundles", "schedule": 60.0},
    },
)
