"""The ingest API down while files land (issue 20): nothing lost, nothing ingested twice.

The real watcher process, the ingest API under gunicorn (stopped and started again on the same
address) and the session's Celery worker, through :func:`bench.drill_ingest_outage.run_drill`
(its docstring tells the story: a trickle and a burst of files, an override file, the watcher
stopped and killed during the outage). The outage lasts ``LICK_TEST_OUTAGE_S`` seconds (30 by
default, for CI); ``bench/drill_ingest_outage.py --minutes 10`` runs the full drill and prints
its figures (how fast the backlog drains is a figure there, not an assertion here).
"""
from __future__ import annotations

import os
import re
import shutil
import time

import pytest
from django.test import override_settings

from archive.config import get_settings
from archive.db import engine
from bench.drill_ingest_outage import PREFIX, land, run_drill
from watcher.notifier import MAX_RETRY_DELAY_S

OUTAGE_S = float(os.environ.get("LICK_TEST_OUTAGE_S", "30"))


@pytest.fixture
def drill_tree(archive_root):
    yield archive_root
    shutil.rmtree(archive_root / PREFIX, ignore_errors=True)
    with engine("owner").begin() as conn:
        for table in ("observation", "ingest_failure"):
            conn.exec_driver_sql(f"DELETE FROM lick.{table} WHERE file_path LIKE %s", (PREFIX + "/%",))


@pytest.mark.slow
def test_files_landing_while_the_ingest_api_is_down_are_all_ingested_once_it_is_back(
        archive_db, drill_tree, celery_worker, tmp_path):
    report = run_drill(drill_tree, tmp_path, OUTAGE_S, every_s=2.0, burst=60)
    told = "\n".join(report.lines() + [
        f"--- {name}\n{log.read_text(errors='replace')[-4000:]}" for name, log in (
            ("watcher log", tmp_path / "watcher.log"), ("ingest API log", tmp_path / "ingest-api.log"),
            ("Celery worker log", celery_worker.log)) if log.exists()])
    assert report.files_landed >= 60 + OUTAGE_S / 2 - 1 and report.override_written, told
    assert report.rows_during_outage == 0, told  # the API was really down
    assert report.backlog_peak_on_disk >= 60, told  # the backlog was on disk during the outage
    # both restarts happened, and the SIGKILL lost nothing: the override (landed after the
    # SIGTERM's save) reached the database only through the backlog kept on disk meanwhile
    assert "SIGTERM (exit 0)" in report.watcher_restarts and "SIGKILL" in report.watcher_restarts, told
    assert report.override_applied, told
    assert report.missing == [] and report.rows == report.files_landed + 3, told
    assert report.duplicate_rows == 0 and report.ingested_more_than_once == 0 and report.rewritten == 0, told
    assert report.partial_rows == [] and report.failures == [], told
    assert report.unfinished_notifications == [] and not report.backlog_file_left, told
    # recovery does not wait out a back-off grown with the outage
    assert 0 < report.longest_retry_delay_s <= MAX_RETRY_DELAY_S, told
    assert report.drain_s is not None and report.after_recovery_s is not None, told
    assert report.ok(), told


@pytest.mark.django_db(transaction=True)
def test_files_notified_twice_at_once_are_read_and_written_once(client, drill_tree, celery_worker):
    """What the watcher does as the API comes back: its backlog and its resync (which finds the
    same files not yet stored) post the same files, and two worker processes take the two
    notifications at once. The second waits for the first's lock on the directory, then finds
    every file unchanged (ingest.pipeline.lock_directories)."""
    paths = [land(drill_tree, "05", f"twice{i:03d}", i) for i in range(120)]
    celery_worker.stop()  # so that both tasks wait in the queue and start together
    try:
        with override_settings(ROOT_URLCONF="ingest.urls"):
            ids = [client.post("/notifications", {"event": "changed", "paths": paths}, content_type="application/json",
                               HTTP_AUTHORIZATION=f"Bearer {get_settings().ingest_token}").json()["id"]
                   for _ in range(2)]
    finally:
        celery_worker.start()
    deadline = time.monotonic() + 120
    with engine("owner").connect() as conn:
        while (rows := conn.exec_driver_sql(
                "SELECT status, summary FROM lick.ingest_notification WHERE id = ANY (%s)", (ids,)).all()) \
                and not all(status in ("done", "failed") for status, _ in rows):
            assert time.monotonic() < deadline, rows
            time.sleep(0.2)
            conn.rollback()
    counts = {word: sum(int(re.search(rf"(\d+) {word}", summary).group(1)) for _, summary in rows)
              for word in ("ingested", "updated", "unchanged", "failed")}
    assert counts == {"ingested": 120, "updated": 0, "unchanged": 120, "failed": 0}, rows
