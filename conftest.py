"""Test fixtures, shared by tests/ and conformance_tests/: one throw-away archive database per test session, on the real PostgreSQL.

The database is cloned from ``lick_template`` (which holds pg_sphere, see scripts/setup.sh),
migrated with the real migrations, and dropped at the end. Settings point every component
(SQLAlchemy engines, Django) at it before anything reads them.
"""
from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

_SESSION = uuid.uuid4().hex[:8]
os.environ["LICK_DB_NAME"] = f"lick_test_{_SESSION}"
os.environ["LICK_CELERY_QUEUE"] = f"lick_test_{_SESSION}"
os.environ["LICK_JOB_STUCK_AFTER"] = "4"  # notice killed workers within seconds in the tests
os.environ["LICK_COVERAGE_DEBOUNCE"] = "1"  # the coverage refresh follows an ingest within a second
os.environ.setdefault("LICK_RATE_LIMIT", "0")  # every test comes from 127.0.0.1; tests/test_limits.py sets its own
os.environ["LICK_ARCHIVE_ROOT"] = _ARCHIVE_ROOT = tempfile.mkdtemp(prefix=f"lick_archive_{_SESSION}_")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "vo_services.settings")

import django  # noqa: E402  (after the environment is set)

django.setup()  # so that test modules may import models

from archive.config import get_settings  # noqa: E402
from archive.testdb import create_test_database, drop_test_database  # noqa: E402


@pytest.fixture(scope="session")
def archive_db(django_db_blocker):
    """The migrated test database's name; created once per session, dropped afterwards."""
    name = get_settings().db_name
    with django_db_blocker.unblock():
        create_test_database(name)
    try:
        yield name
    finally:
        with django_db_blocker.unblock():
            drop_test_database(name)


@pytest.fixture(scope="session")
def archive_root():
    """The session's archive root (an empty temporary tree that every component is pointed at)."""
    root = Path(_ARCHIVE_ROOT)
    yield root
    shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="session")
def django_db_setup(archive_db, django_db_blocker):
    """pytest-django uses our migrated database as it is, instead of creating its own."""
    yield


@pytest.fixture
def owner_conn(archive_db):
    """A psycopg2 connection as the owner role, rolled back after the test."""
    import psycopg2

    conn = psycopg2.connect(get_settings().dsn("owner"))
    try:
        yield conn
    finally:
        conn.rollback()
        conn.close()


@pytest.fixture
def query_conn(archive_db):
    """A psycopg2 connection as the query role (what users' ADQL runs as)."""
    import psycopg2

    conn = psycopg2.connect(get_settings().dsn("query"))
    try:
        yield conn
    finally:
        conn.rollback()
        conn.close()


class CeleryWorker:
    """A real Celery worker process on the real Redis, consuming this session's own queue."""

    def __init__(self, log):
        self.log = log
        self.process = None

    def start(self) -> None:
        import subprocess
        import sys
        import time

        queue = get_settings().celery_queue
        self.log.write_text("")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "lick.worker", "worker", "--pool", "prefork",
             "--concurrency", "2", "--queues", queue, "--loglevel", "INFO",
             "--without-gossip", "--without-mingle", "--without-heartbeat"],
            env=dict(os.environ), stdout=self.log.open("a"), stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 30
        while "ready" not in self.log.read_text():
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.process.kill()
                pytest.fail(f"the Celery worker did not start:\n{self.log.read_text()[-3000:]}")
            time.sleep(0.2)

    def stop(self) -> None:
        import subprocess

        if self.process is None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
        self.process = None


@pytest.fixture(scope="session")
def celery_worker(archive_db, tmp_path_factory):
    import redis

    try:
        redis.Redis.from_url(get_settings().redis_url).ping()
    except redis.RedisError as exc:
        pytest.fail(f"Redis at {get_settings().redis_url} is not reachable ({exc}); run scripts/setup.sh")
    worker = CeleryWorker(tmp_path_factory.mktemp("celery") / "worker.log")
    worker.start()
    yield worker
    worker.stop()


@pytest.fixture(scope="session")
def demo_archive(archive_db, archive_root):
    """A small demo tree (real FITS files) ingested through the real pipeline, once per session."""
    from archive.demo import generate_demo
    from ingest.bulk import bulk_ingest
    from ingest.schedule import import_schedule, read_schedule
    from archive.db import engine

    summary = generate_demo(archive_root / "demo", seed=11, files=300)
    with engine("ingest").begin() as conn:
        import_schedule(conn, read_schedule(summary.schedule_csv))
    report = bulk_ingest([str(archive_root / "demo")], progress=False)
    assert not report.failed, report.failed[:5]
    from archive.coverage.refresh import refresh

    refresh()  # the sky coverage now, not when a worker gets to the refresh the ingest requested
    return summary


@contextmanager
def gunicorn(log: Path, workers: int = 3, **env: str) -> Iterator[str]:
    """The VO services under a real gunicorn, configured as in production, on a free port, with
    ``env`` added to the environment; yields the base URL it listens on.

    Each worker may keep a dozen database connections (Django's per thread, the result path's
    pools), and every server of a session draws on the same PostgreSQL's connection slots: a
    server that only checks its own answers runs with fewer workers."""
    import socket
    import subprocess
    import sys
    import time
    import urllib.error
    import urllib.request

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    base = f"http://127.0.0.1:{port}"
    process = subprocess.Popen(
        [str(Path(sys.executable).parent / "gunicorn"), "vo_services.wsgi", "-c", "python:vo_services.gunicorn_config",
         "--bind", f"127.0.0.1:{port}", "--workers", str(workers), "--access-logfile", "-"],
        env={**os.environ, "LICK_PUBLIC_URL": base, **env}, stdout=log.open("w"), stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(f"{base}/tap/availability", timeout=5)
                break
            except urllib.error.HTTPError:
                break  # it answers (the ingest API, LICK_URLCONF=ingest.urls, has no /tap)
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"gunicorn did not start:\n{log.read_text()[-3000:]}")
                time.sleep(0.3)
        yield base
    finally:
        process.terminate()
        process.wait(timeout=30)


@pytest.fixture(scope="session")
def live_archive(demo_archive, celery_worker, tmp_path_factory):
    """The real server under gunicorn on a free port, with a Celery worker, on the demo data."""
    log = tmp_path_factory.mktemp("gunicorn") / "gunicorn.log"
    with gunicorn(log) as base:
        _LIVE_LOG.append(log)
        yield base


_LIVE_LOG: list[Path] = []


@pytest.fixture(scope="session")
def live_archive_log(live_archive) -> Path:
    """The log (access and error) of the server behind ``live_archive``."""
    return _LIVE_LOG[-1]
