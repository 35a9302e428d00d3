"""The Celery application shared by ingest and the VO services' background jobs.

Start a worker with ``celery -A archive.worker worker``. Tasks are acknowledged only after they
ran and are re-queued when a worker dies mid-task, so a killed worker loses no work; Redis is
only the broker, every durable state lives in PostgreSQL.
"""
from celery import Celery

from archive.config import get_settings

app = Celery("lick", broker=get_settings().redis_url, include=["ingest.tasks"])
app.conf.update(
    task_acks_late=True,
    task_reject_on_worker_lost=True,
    worker_prefetch_multiplier=1,
    task_ignore_result=True,
    broker_connection_retry_on_startup=True,
    broker_transport_options={"visibility_timeout": 3600},
    timezone="UTC",
)
