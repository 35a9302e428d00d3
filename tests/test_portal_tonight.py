"""Tonight (/tonight) in a real browser: an observer with a program scheduled tonight sees the
night's frames, and a frame ingested while the page is open appears in it without a reload; the
access rule decides who sees what."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from archive.db import engine
from ingest.nights import night_of, night_start
from ingest.pipeline import ingest_batch
from ingest.schedule import Slot, import_schedule
from tests.browser import log_in, screenshot
from tests.ingest.samples import load_samples, write_fits

pytestmark = pytest.mark.django_db(transaction=True)  # the observers are Django users

OBSERVER, OTHER, PASSWORD = "tonya", "tobias", "Observes-Tonight-42"
PROGRAM = "TONIGHT-T1"


@pytest.fixture(scope="module")
def base(live_archive) -> str:
    return live_archive


def _with_card(cards: bytes, key: str, value: str) -> bytes:
    """The header with the string card ``key`` set to ``value`` (every card of that name)."""
    out = bytearray(cards)
    for i in range(0, len(cards), 80):
        if cards[i:i + 8] == key.ljust(8).encode():
            out[i:i + 80] = f"{key:<8}= '{value}'".ljust(80).encode()
    return bytes(out)


def write_frame(root: Path, number: int, start: datetime, target: str) -> Path:
    """A Kast red frame begun at ``start`` (UTC), where the archive keeps that night's files."""
    sample = next(s for s in load_samples() if s.key == "kast_red_1")
    end = start + timedelta(seconds=600)
    cards = sample.cards
    for key, moment in (("DATE", end), ("DATE-OBS", start), ("DATE-BEG", start), ("DATE-END", end)):
        cards = _with_card(cards, key, moment.strftime("%Y-%m-%dT%H:%M:%S.00"))
    cards = _with_card(cards, "OBJECT", target)
    night = night_of(start)
    path = root / f"{night:%Y-%m}" / f"{night:%d}" / "shane" / f"r9{number:03d}.fits"
    return write_fits(path, cards, sample.data_size(), end=not sample.has_end)


def obs_id(root: Path, path: Path) -> str:
    return str(path.relative_to(root).with_suffix(""))


@pytest.fixture
def tonight(demo_archive, archive_root):
    """Tonya's program scheduled on the Shane tonight (the schedule import); tobias observes
    but not tonight. Yields the night, the moment the frames are dated back from, and the list of
    frames written; removes the frames, the schedule and the program after."""
    from django.contrib.auth.models import User

    now = datetime.now(timezone.utc)
    night = night_of(now)
    with engine("ingest").begin() as conn:
        import_schedule(conn, [Slot("Shane", night, PROGRAM, title="Tonight's test program",
                                    observers=(OBSERVER,))], replace=False)
    for name in (OBSERVER, OTHER):
        User.objects.filter(username=name).delete()
        User.objects.create_user(name, password=PASSWORD)
    written: list[Path] = []
    # The frames begin up to 30 minutes before ``now``: in the first half hour of a night (noon
    # UTC-8, 20:00 UTC) that would be last night, so they are then placed after its start.
    yield night, max(now, night_start(night) + timedelta(minutes=31)), written
    for path in written:
        path.unlink(missing_ok=True)
    with engine("owner").begin() as conn:
        conn.exec_driver_sql("DELETE FROM lick.observation WHERE obs_id = ANY(%s)",
                             ([obs_id(archive_root, p) for p in written],))
        conn.exec_driver_sql("DELETE FROM lick.program WHERE program_id = %s", (PROGRAM,))


def ingest(root: Path, written: list[Path], number: int, start: datetime, target: str) -> str:
    """Write a frame and ingest it through the real pipeline (what the watcher's notification
    makes a worker do)."""
    path = write_frame(root, number, start, target)
    written.append(path)
    report = ingest_batch([path], root=root)
    assert not report.failed, report.failed
    return obs_id(root, path)


def test_anonymous_visitors_are_asked_to_log_in(page, base):
    page.goto(base + "/tonight")
    assert page.get_by_role("link", name="Tonight").get_attribute("aria-current") == "page"
    assert page.get_by_role("link", name="Log in", exact=True).first.is_visible()
    assert page.locator("#tonight-frames").count() == 0
    assert page.request.get(base + "/tonight/frames").status == 401


def test_a_new_frame_appears_without_reloading(page, base, archive_root, tonight):
    night, now, written = tonight
    first = ingest(archive_root, written, 1, now - timedelta(minutes=30), "TONIGHT-FIRST")

    log_in(page, base, OBSERVER, PASSWORD)
    page.goto(base + "/tonight")
    assert page.locator("#night").inner_text() == night.isoformat()
    assert f"{PROGRAM} on Shane" in page.locator("main").inner_text()
    row = page.locator(f"tr[data-obs-id='{first}']")
    assert row.is_visible() and "TONIGHT-FIRST" in row.inner_text()
    preview = row.locator("img").get_attribute("src")
    assert preview == f"/datalink/preview/{first}"
    page.evaluate("window.stillTheSamePage = true")

    second = ingest(archive_root, written, 2, now - timedelta(minutes=5), "TONIGHT-SECOND")
    page.locator(f"tr[data-obs-id='{second}']").wait_for(timeout=30_000)
    assert page.evaluate("window.stillTheSamePage") is True  # put in place, not reloaded
    ids = page.locator("#tonight-frames tbody tr").evaluate_all("rows => rows.map(r => r.dataset.obsId)")
    assert ids.index(second) < ids.index(first)  # newest first
    screenshot(page, "tonight")


def test_an_observer_without_the_program_does_not_see_its_frames(page, base, archive_root, tonight):
    night, now, written = tonight
    secret = ingest(archive_root, written, 3, now - timedelta(minutes=20), "TONIGHT-PROPRIETARY")

    log_in(page, base, OTHER, PASSWORD)
    page.goto(base + "/tonight")
    assert "None of your programs is scheduled tonight" in page.locator("main").inner_text()
    assert page.locator(f"tr[data-obs-id='{secret}']").count() == 0
    answer = page.request.get(base + "/tonight/frames").json()
    assert secret not in answer["rows"]


def test_the_poll_answers_only_when_the_list_changed(page, base, archive_root, tonight):
    night, now, written = tonight
    ingest(archive_root, written, 4, now - timedelta(minutes=15), "TONIGHT-POLL")
    log_in(page, base, OBSERVER, PASSWORD)
    first = page.request.get(base + "/tonight/frames").json()
    assert first["changed"] and first["night"] == night.isoformat()
    again = page.request.get(base + "/tonight/frames", params={"since": first["version"]}).json()
    assert again["changed"] is False and "rows" not in again and again["version"] == first["version"]
