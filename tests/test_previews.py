"""Previews are made by a Celery task after ingest (ingest.tasks.make_previews), not on the first
request: the PNG is on disk before anyone asks, and DataLink serves that very file."""
from __future__ import annotations

import time

import pytest

from archive.config import get_settings
from ingest.pipeline import ingest_batch
from ingest.previews import preview_path
from tests.ingest.samples import load_samples, write_fits

NIGHT_DIR = "2018-05/20/nickel"


@pytest.fixture
def ingested(archive_db, archive_root, celery_worker):
    sample = next(s for s in load_samples() if s.key.startswith("nickel_direct"))
    path = write_fits(archive_root / NIGHT_DIR / "prev1.fits", sample.cards, sample.data_size(),
                      end=not sample.has_end)
    obs_id = f"{NIGHT_DIR}/prev1"
    stored = preview_path(get_settings().preview_dir, obs_id)
    stored.unlink(missing_ok=True)
    report = ingest_batch([path], root=archive_root)
    assert report.inserted + report.updated == 1
    yield obs_id, stored
    path.unlink()
    ingest_batch([path], root=archive_root)
    stored.unlink(missing_ok=True)


def _wait_for(path, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while not path.exists():
        assert time.monotonic() < deadline, f"no preview at {path}: the task did not run"
        time.sleep(0.2)


@pytest.mark.django_db(transaction=True)
def test_the_preview_exists_before_any_request_and_is_what_datalink_serves(client, ingested):
    obs_id, stored = ingested
    _wait_for(stored)
    made = stored.read_bytes()
    assert made.startswith(b"\x89PNG\r\n\x1a\n")
    made_at = stored.stat().st_mtime_ns
    answer = client.get(f"/datalink/preview/{obs_id}")
    assert answer.status_code == 200 and answer.content == made
    assert stored.stat().st_mtime_ns == made_at, "served as stored, not made again"


@pytest.mark.django_db(transaction=True)
def test_a_missing_preview_is_still_made_on_request(client, ingested):
    obs_id, stored = ingested
    _wait_for(stored)
    stored.unlink()
    answer = client.get(f"/datalink/preview/{obs_id}")
    assert answer.status_code == 200 and answer.content.startswith(b"\x89PNG")
    assert stored.exists()
