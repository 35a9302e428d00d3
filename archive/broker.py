"""The Celery application object: how tasks are sent and delivered, and nothing of what they are.

Web processes send tasks by name through it; task modules register with it. Which task modules
a worker loads, and what Celery beat runs, is assembled by the composition root
:mod:`lick.worker`. Tasks are acknowledged only after they ran and are re-queued when a worker
dies mid-task, so a killed worker loses no work; Redis is only the broker, every durable state
lives in PostgreSQL.
"""
from celery import Celery

from archive.config import get_settings

app = Celery("lick", broker=get_settings().redis_url)
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
)
