"""The front page and the holdings summary it reads (archive/holdings.py): right after ingest,
after a curator's change, after a withdrawal, as release dates pass; anonymous callers learn
counts, never a proprietary file's specifics; in a real browser."""
from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone

import psycopg2
import pytest

from archive.config import get_settings
from archive.db import engine
from archive.holdings import rebuild
from ingest.curation import curator_changed
from ingest.pipeline import ingest_batch
from tests.browser import screenshot
from tests.ingest.samples import load_samples, write_fits

NIGHT_DIR = "2019-07/14/nickel"  # a directory of this module's own


def _summary() -> dict[tuple, tuple[int, int]]:
    """(telescope, instrument, year) -> (public, proprietary), as the query role reads it."""
    conn = psycopg2.connect(get_settings().dsn("query"))
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT telescope, instrument, year, coalesce(public_files, 0), "
                        "coalesce(proprietary_files, 0) FROM lick.public_holdings")
            return {tuple(r[:3]): (r[3], r[4]) for r in cur.fetchall()}
    finally:
        conn.close()


def _counted() -> dict[tuple, tuple[int, int]]:
    """The same, counted from every row (the old way), as the owner."""
    with engine("owner").connect() as conn:
        rows = conn.exec_driver_sql(
            "SELECT telescope, instrument, extract(year FROM observing_night)::int, "
            "count(*) FILTER (WHERE obs_release_date <= now()), count(*) FILTER (WHERE obs_release_date > now()) "
            "FROM lick.observation GROUP BY 1, 2, 3").all()
    return {tuple(r[:3]): (r[3], r[4]) for r in rows}


def _assert_summary_is_exact() -> dict[tuple, tuple[int, int]]:
    summary = _summary()
    assert summary == _counted()
    return summary


@pytest.fixture(scope="module")
def files(archive_db, archive_root):
    sample = next(s for s in load_samples() if s.key.startswith("nickel_direct"))
    paths = [write_fits(archive_root / NIGHT_DIR / f"front{i}.fits", sample.cards, sample.data_size(),
                        end=not sample.has_end) for i in range(3)]
    yield paths
    for path in paths:
        path.unlink(missing_ok=True)
    ingest_batch(paths, root=archive_root)  # withdraw what is left


def _obs_id(path) -> str:
    return f"{NIGHT_DIR}/{path.stem}"


def _key(path) -> tuple:
    with engine("owner").connect() as conn:
        row = conn.exec_driver_sql("SELECT telescope, instrument, extract(year FROM observing_night)::int "
                                   "FROM lick.observation WHERE obs_id = %s", (_obs_id(path),)).one()
    return tuple(row)


def _at(summary, key) -> tuple[int, int]:
    return summary.get(key, (0, 0))


def test_ingest_counts_files_in_the_same_transaction(files, archive_root):
    before = _assert_summary_is_exact()
    report = ingest_batch(files, root=archive_root)
    assert not report.failed
    key = _key(files[0])
    after = _assert_summary_is_exact()
    public, proprietary = _at(after, key)
    assert public + proprietary == sum(_at(before, key)) + 3
    ingest_batch(files, root=archive_root, force=True)  # the same files again: one row each
    assert _assert_summary_is_exact() == after


def test_a_curators_release_date_moves_a_file_between_public_and_proprietary(files):
    key = _key(files[0])
    before = _at(_assert_summary_is_exact(), key)
    later = datetime.now(timezone.utc) + timedelta(days=400)
    curator_changed([_obs_id(files[0])], release_override=later)
    assert _at(_assert_summary_is_exact(), key) == (before[0] - 1, before[1] + 1)
    curator_changed([_obs_id(files[0])], release_override=datetime(2000, 1, 1, tzinfo=timezone.utc))
    assert _at(_assert_summary_is_exact(), key) == (before[0], before[1])


def test_the_public_count_follows_a_release_date_as_it_passes_without_any_write(files):
    key = _key(files[1])
    before = _at(_assert_summary_is_exact(), key)
    moment = datetime.now(timezone.utc) + timedelta(seconds=3)
    curator_changed([_obs_id(files[1])], release_override=moment)
    assert _at(_assert_summary_is_exact(), key) == (before[0] - 1, before[1] + 1)
    time.sleep(max(0.0, (moment - datetime.now(timezone.utc)).total_seconds()) + 0.5)
    assert _at(_assert_summary_is_exact(), key) == before, "released: public again, nothing written"
    # and a later removal of that row subtracts from the right side
    curator_changed([_obs_id(files[1])], release_override=datetime(2000, 1, 1, tzinfo=timezone.utc))
    assert _at(_assert_summary_is_exact(), key) == before


def test_a_withdrawn_file_leaves_the_count(files, archive_root):
    key = _key(files[2])
    before = _at(_assert_summary_is_exact(), key)
    files[2].unlink()
    report = ingest_batch([files[2]], root=archive_root)
    assert report.withdrawn == 1
    assert _at(_assert_summary_is_exact(), key) == (before[0] - 1, before[1])


def test_rebuild_recounts_to_the_same_public_figures(files):
    before = _assert_summary_is_exact()
    with engine("owner").begin() as conn:
        assert rebuild(conn) > 0
    assert _assert_summary_is_exact() == before


def test_the_query_role_reads_counts_only(query_conn):
    with query_conn.cursor() as cur:
        cur.execute("SELECT * FROM lick.public_holdings LIMIT 0")
        assert [d.name for d in cur.description] == [
            "telescope", "instrument", "year", "public_files", "public_bytes", "proprietary_files"]
        cur.execute("SELECT * FROM lick.last_night LIMIT 0")
        assert [d.name for d in cur.description] == ["night", "telescope", "instrument", "files", "public_files"]
    for table in ("lick.holdings", "lick.observation"):
        with pytest.raises(psycopg2.errors.InsufficientPrivilege):
            with query_conn.cursor() as cur:
                cur.execute(f"SELECT * FROM {table} LIMIT 1")
        query_conn.rollback()


@pytest.mark.django_db(transaction=True)
def test_anonymous_front_page_names_no_proprietary_file(client, world):
    page = client.get("/").content.decode()
    total_hidden = sum(p for _, p in _summary().values())
    assert total_hidden >= len(world.secret_ids)
    assert f'<span id="proprietary-total">{total_hidden:,}</span>' in page
    for secret in ("LEAKSECRET", "LEAKA", "alice", *world.secret_ids):
        assert secret not in page


@pytest.fixture(scope="module")
def base(live_archive) -> str:
    return live_archive


def test_front_page_in_a_browser(page, base):
    page.goto(base + "/")
    assert page.title() == "Lick Searchable Archive"
    public = int(page.locator("#public-total").inner_text().replace(",", ""))
    assert public == sum(p for p, _ in _summary().values())
    night = page.locator("#last-night").inner_text()
    with engine("owner").connect() as conn:
        latest = conn.exec_driver_sql("SELECT max(observing_night) FROM lick.observation").scalar_one()
    assert night == latest.isoformat()  # a date, printed as a date
    for tool in ("TOPCAT", "Aladin", "pyvo", "astroquery"):
        assert page.get_by_role("heading", name=tool).is_visible()
    assert f'TAPService("{base}/tap")' in page.locator("pre").all_inner_texts()[2]
    screenshot(page, "front")
