"""The composition roots: the programs that assemble the layers (archive < ingest < vo_services)
into running processes. They import every layer; no layer imports them.

- :mod:`lick.worker` — the Celery worker and beat (``celery -A lick.worker worker``);
- :mod:`lick.cli` — the admin commands (``lick-admin``).

The third root, the web application, is ``vo_services.wsgi`` (gunicorn's entry point, where
Django expects it).
"""
