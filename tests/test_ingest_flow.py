"""The ingest path end to end on the real database, Redis and a real Celery worker."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.test import override_settings

from archive.config import get_settings
from archive.db import engine
from ingest.pipeline import ingest_batch
from tests.ingest.samples import load_samples, write_sample

SAMPLES = load_samples()


def _visible(query_conn, obs_id_prefix: str) -> list[str]:
    with query_conn.cursor() as cur:
        cur.execute("SELECT obs_id FROM ivoa.obscore WHERE obs_id LIKE %s ORDER BY obs_id",
                    (obs_id_prefix + "%",))
        rows = [r[0] for r in cur.fetchall()]
    query_conn.rollback()
    return rows


def _rows(prefix: str) -> dict[str, tuple]:
    with engine("owner").connect() as conn:
        return {r[0]: r[1:] for r in conn.exec_driver_sql(
            "SELECT file_path, file_size, ingest_flags, obs_release_date FROM lick.observation "
            "WHERE file_path LIKE %s", (prefix + "%",))}


@pytest.fixture
def tree(archive_root):
    """A fresh sub-tree of the session archive root, removed (files and rows) afterwards."""
    top = archive_root / "1999-01"
    yield top
    shutil.rmtree(top, ignore_errors=True)
    with engine("owner").begin() as conn:
        conn.exec_driver_sql("DELETE FROM lick.observation WHERE file_path LIKE '1999-01/%%'")
        conn.exec_driver_sql("DELETE FROM lick.ingest_failure WHERE file_path LIKE '1999-01/%%'")


def _place(archive_root: Path, count: int, night: str = "02") -> list[Path]:
    """``count`` copies of real samples, under 1999-01/<night>/<their instrument dir>/."""
    paths = []
    for i in range(count):
        sample = SAMPLES[i % len(SAMPLES)]
        directory = sample.rel_path.split("/")[2]
        paths.append(write_sample(sample, archive_root, rel_path=f"1999-01/{night}/{directory}/f{i:04d}.fits"))
    return paths


def test_batch_ingest_is_idempotent_and_follows_the_files(archive_root, tree, query_conn):
    paths = _place(archive_root, 12)
    report = ingest_batch(paths, root=archive_root)
    assert (report.inserted, report.updated, report.failed) == (12, 0, [])
    assert len(_rows("1999-01/")) == 12
    assert len(_visible(query_conn, "1999-01/")) == 12, "nobody scheduled in 1999: public"

    again = ingest_batch(paths, root=archive_root)
    assert (again.inserted, again.updated, again.unchanged) == (0, 0, 12)

    with paths[0].open("ab") as f:  # the file changed: its row follows
        f.write(b" " * 2880)
    changed = ingest_batch(paths, root=archive_root)
    assert (changed.updated, changed.unchanged) == (1, 11)
    assert _rows("1999-01/")[paths[0].relative_to(archive_root).as_posix()][0] == paths[0].stat().st_size

    paths[1].unlink()
    gone = ingest_batch(paths, root=archive_root)
    assert gone.withdrawn == 1 and len(_rows("1999-01/")) == 11


@pytest.mark.parametrize("content, reason", [
    (b"", "empty"),
    (b"this is not a FITS file at all" * 100, "FITS"),
    (b"SIMPLE  =                    T" + b" " * 50, "trunc"),
])
def test_unreadable_files_leave_no_row_and_a_reason(archive_root, tree, content, reason):
    path = archive_root / "1999-01/03/shane/bad.fits"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)
    report = ingest_batch([path], root=archive_root)
    assert report.inserted == 0 and len(report.failed) == 1
    assert reason.lower() in report.failed[0][1].lower()
    assert not _rows("1999-01/03/")
    with engine("owner").connect() as conn:
        stored = conn.exec_driver_sql("SELECT reason, attempts FROM lick.ingest_failure "
                                      "WHERE file_path = '1999-01/03/shane/bad.fits'").one()
    assert stored.reason == report.failed[0][1]


@pytest.mark.django_db(transaction=True)
def test_notification_through_the_api_and_a_real_worker(client, archive_root, tree, celery_worker, query_conn):
    paths = _place(archive_root, 5, night="04")
    token = get_settings().ingest_token
    with override_settings(ROOT_URLCONF="ingest.urls"):
        refused = client.post("/notifications", {"paths": ["x"]}, content_type="application/json")
        assert refused.status_code == 401 and "error" in refused.json()
        auth = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
        bad = client.post("/notifications", {"paths": ["../../etc/passwd"]}, content_type="application/json", **auth)
        assert bad.status_code == 400 and "inside the archive" in bad.json()["error"]
        nul = client.post("/notifications", {"paths": ["2020-01/01/a\x00.fits"]}, content_type="application/json", **auth)
        assert nul.status_code == 400 and "NUL" in nul.json()["error"]  # was a 500 from PostgreSQL
        posted = client.post("/notifications", {"event": "changed", "paths": [
            p.relative_to(archive_root).as_posix() for p in paths]}, content_type="application/json", **auth)
        assert posted.status_code == 202
        status_url = f"/notifications/{posted.json()['id']}"
        deadline = time.monotonic() + 60
        while (status := client.get(status_url, **auth).json())["status"] not in ("done", "failed"):
            assert time.monotonic() < deadline, status
            time.sleep(0.2)
    assert status["status"] == "done" and status["failures"] == []
    assert len(_visible(query_conn, "1999-01/04/")) == 5


def _wait_for_rows(prefix: str, count: int, timeout: float = 60) -> int:
    deadline = time.monotonic() + timeout
    while len(_rows(prefix)) != count and time.monotonic() < deadline:
        time.sleep(0.25)
    return len(_rows(prefix))


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("mode", ["inotify", "polling"])
def test_watcher_sees_files_and_catches_up_after_a_restart(live_server, archive_root, tree, celery_worker,
                                                            mode, tmp_path):
    with override_settings(ROOT_URLCONF="ingest.urls"):
        log = (tmp_path / "watcher.log").open("w")
        command = [sys.executable, "-m", "watcher", "--mode", mode, "--root", str(archive_root),
                   "--interval", "1", "--api", live_server.url, "--backlog", str(tmp_path / "backlog.json")]
        watcher = subprocess.Popen(command, env=dict(os.environ), stdout=log, stderr=subprocess.STDOUT)
        try:
            time.sleep(2)
            _place(archive_root, 3, night="05")
            assert _wait_for_rows("1999-01/05/", 3) == 3
        finally:
            watcher.terminate()
            watcher.wait(timeout=20)
        # While the watcher is down, 100 files land and a whole night is removed; on restart its
        # resync reports them all.
        _place(archive_root, 100, night="06")
        shutil.rmtree(archive_root / "1999-01" / "05")
        watcher = subprocess.Popen(command, env=dict(os.environ), stdout=log, stderr=subprocess.STDOUT)
        try:
            assert _wait_for_rows("1999-01/06/", 100, timeout=120) == 100
            assert _wait_for_rows("1999-01/05/", 0, timeout=60) == 0
        finally:
            watcher.terminate()
            watcher.wait(timeout=20)


def _notify(client, archive_root: Path, paths: list[Path]):
    """POST ``paths`` to the ingest API as the watcher does (its token, archive-relative paths)."""
    with override_settings(ROOT_URLCONF="ingest.urls"):
        return client.post("/notifications", {"paths": [p.relative_to(archive_root).as_posix() for p in paths]},
                           content_type="application/json",
                           HTTP_AUTHORIZATION=f"Bearer {get_settings().ingest_token}")


@pytest.mark.django_db(transaction=True)
def test_files_notified_while_the_worker_is_down_are_ingested_when_it_returns(
        client, archive_root, tree, celery_worker):
    celery_worker.stop()
    try:
        assert _notify(client, archive_root, _place(archive_root, 20, night="07")).status_code == 202
        time.sleep(2)
        assert len(_rows("1999-01/07/")) == 0, "no worker: nothing ingested yet"
    finally:
        celery_worker.start()
    assert _wait_for_rows("1999-01/07/", 20) == 20


@pytest.mark.django_db(transaction=True)
def test_a_new_notification_is_taken_before_queued_previews(client, archive_root, tree, celery_worker):
    """Previews wait behind ingest (priority 9 on Redis, where 0 goes first): after a big drain,
    a file that lands must not wait for every batch's previews (seen by the ingest-outage drill:
    16-26 s before a new file's row)."""
    from ingest.pipeline import queue_previews

    celery_worker.stop()
    try:
        for batch in range(3):  # as a drain leaves them: previews queued before the next notification
            queue_previews([f"no-such-observation-{batch}"])
        assert _notify(client, archive_root, _place(archive_root, 2, night="08")).status_code == 202
    finally:
        celery_worker.start()
    assert _wait_for_rows("1999-01/08/", 2) == 2
    deadline = time.monotonic() + 30
    while celery_worker.log.read_text().count("make_previews[") < 3 and time.monotonic() < deadline:
        time.sleep(0.2)
    received = [line.split("Task ", 1)[1].split("[", 1)[0] for line in celery_worker.log.read_text().splitlines()
                if " received" in line and "Task " in line]
    assert received.index("ingest.tasks.process_notification") < received.index("ingest.tasks.make_previews"), \
        received
