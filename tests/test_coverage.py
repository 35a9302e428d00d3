"""The MOC coverage of the public archive: pgsphere's MOCs against an independent implementation
(mocpy), the serialisations as MOC readers read them, the endpoints on the real server, the access
rule (a proprietary pointing is not in the public MOC), and the refresh after ingest through the
real Celery worker."""
from __future__ import annotations

import io
import json
import time
from pathlib import Path

import astropy.units as u
import mocpy
import numpy as np
import psycopg2
import pytest
import requests
from astropy.coordinates import Latitude, Longitude
from astropy.io import fits

from archive.config import get_settings
from archive.coverage import refresh as coverage
from archive.coverage.moc import Moc, MocSyntaxError
from archive.coverage.skymap import ang2pix_nest, render
from archive.db import engine

# Polygons of several sizes and places: across RA 0, around the pole, arcminutes to degrees.
POLYGONS = [
    [(10, 10), (12, 10), (12, 13)],
    [(359.5, -1), (0.7, -1), (0.7, 0.5), (359.5, 0.5)],
    [(200, 60), (201, 60), (201, 60.5), (200, 60.5)],
    [(45, 88), (135, 88), (225, 88), (315, 88)],
    [(120.0, 20.0), (120.2, 20.0), (120.2, 20.1), (120.0, 20.1)],
    [(300, -30), (310, -30), (305, -20)],
]
#: Places no demo row is near (checked by each test that uses one).
EMPTY_CORNERS = [(40.0, -80.0), (100.0, -78.0), (250.0, -82.0), (330.0, -76.0)]


def spoly(points) -> str:
    return "{" + ",".join(f"({ra}d,{dec}d)" for ra, dec in points) + "}"


def small_square(ra: float, dec: float, half: float = 0.05):
    return [(ra - half, dec - half), (ra + half, dec - half), (ra + half, dec + half), (ra - half, dec + half)]


def mocpy_cells(moc: mocpy.MOC, order: int) -> set[int]:
    return set(Moc.from_ascii(moc.to_string(format="ascii"), order).cells.tolist())


def cell_of(ra: float, dec: float, order: int = coverage.MOC_ORDER) -> int:
    return int(ang2pix_nest(order, np.array([ra]), np.array([dec]))[0])


def owner():
    return psycopg2.connect(get_settings().dsn("owner"))


@pytest.fixture(scope="module")
def server(demo_archive, celery_worker, tmp_path_factory):
    """One gunicorn worker on the demo data, its coverage computed."""
    from conftest import gunicorn

    coverage.refresh()
    with gunicorn(tmp_path_factory.mktemp("coverage") / "gunicorn.log", workers=1) as base:
        yield base


def served(base: str, fmt: str = "ascii", **params) -> Moc:
    answer = requests.get(f"{base}/coverage", params={"FORMAT": fmt, **params}, timeout=30)
    assert answer.status_code == 200, answer.text
    return Moc.from_ascii(answer.text)


# --- the MOC itself -----------------------------------------------------------------------------

def test_pgsphere_and_mocpy_agree_on_polygons(owner_conn):
    """pgsphere keeps every cell a polygon may touch (inclusive), mocpy the cells it overlaps: so
    mocpy's cells are all in pgsphere's, and pgsphere's extra cells are boundary cells, within one
    cell of mocpy's MOC."""
    with owner_conn.cursor() as cur:
        cur.execute("SELECT set_smoc_output_type(0)")
        for polygon in POLYGONS:
            cur.execute("SELECT smoc(8, %s::spoly)::text", (spoly(polygon),))
            ours = set(Moc.from_ascii(cur.fetchone()[0], 8).cells.tolist())
            theirs = mocpy.MOC.from_polygon(Longitude([p[0] for p in polygon] * u.deg),
                                            Latitude([p[1] for p in polygon] * u.deg), max_depth=8)
            assert mocpy_cells(theirs, 8) <= ours, polygon
            assert ours <= mocpy_cells(theirs.add_neighbours(), 8), polygon
            assert len(ours) <= 4 * len(mocpy_cells(theirs, 8))


def test_the_healpix_index_of_the_sky_picture_is_mocpys():
    rng = np.random.default_rng(7)
    ra, dec = rng.uniform(0, 360, 5000), np.degrees(np.arcsin(rng.uniform(-1, 1, 5000)))
    for order in (0, 3, 6, 8):
        cells = ang2pix_nest(order, ra, dec)
        theirs = mocpy.MOC.from_lonlat(lon=Longitude(ra * u.deg), lat=Latitude(dec * u.deg), max_norder=order)
        assert set(cells.tolist()) == mocpy_cells(theirs, order)
        # and each position lies in the very cell it was given
        one = mocpy.MOC.from_healpix_cells(cells[:50], np.full(50, order), order)
        assert one.contains_lonlat(Longitude(ra[:50] * u.deg), Latitude(dec[:50] * u.deg)).all()


def test_canonical_form_degrade_and_syntax():
    whole_cell = Moc.from_ascii("3/10 4/44-47 5/1")
    assert whole_cell.to_ascii() == "3/10-11 5/1"  # four siblings are written as their parent
    assert Moc.from_ascii("1/0 6/").to_ascii() == "1/0 6/"  # the depth survives
    assert Moc.from_ascii("8/").to_ascii() == "8/" and Moc.from_ascii("8/").to_json() == {"8": []}
    assert whole_cell.degrade(2).to_ascii() == "2/0 2"
    assert Moc.from_ascii("0/0-11").sky_fraction == 1.0
    for bad in ("10", "3/x", "3/5-2", "0/12", "30/1", "1/0 <script>"):
        with pytest.raises(MocSyntaxError):
            Moc.from_ascii(bad)


def test_ascii_round_trip_through_mocpy(server):
    ours = served(server)
    assert len(ours.cells) > 10
    theirs = mocpy.MOC.from_str(ours.to_ascii())
    assert Moc.from_ascii(theirs.to_string(format="ascii"), ours.order) == ours
    assert " ".join(theirs.to_string(format="ascii").split()) == ours.to_ascii()
    # pgsphere reads our text as the same MOC
    with owner() as conn, conn.cursor() as cur:
        cur.execute("SELECT set_smoc_output_type(0)")
        cur.execute("SELECT %s::smoc::text", (ours.to_ascii(),))
        assert Moc.from_ascii(cur.fetchone()[0], ours.order) == ours


def test_fits_is_a_moc_2_0_file(server, tmp_path):
    answer = requests.get(f"{server}/coverage", params={"FORMAT": "fits"}, timeout=30)
    assert answer.status_code == 200 and answer.headers["Content-Type"] == "application/fits"
    with fits.open(io.BytesIO(answer.content)) as hdus:
        header, table = hdus[1].header, hdus[1].data
        assert hdus[1].header["XTENSION"] == "BINTABLE"
        assert (header["MOCVERS"], header["MOCDIM"], header["ORDERING"], header["COORDSYS"]) == \
            ("2.0", "SPACE", "NUNIQ", "C")
        assert header["MOCORD_S"] == coverage.MOC_ORDER and header["TFORM1"] == "1J"
        uniq = np.asarray(table["UNIQ"], dtype=np.int64)
        assert (np.diff(uniq) > 0).all()
    path = tmp_path / "moc.fits"
    path.write_bytes(answer.content)
    theirs = mocpy.MOC.from_fits(str(path))
    assert Moc.from_ascii(theirs.to_string(format="ascii"), coverage.MOC_ORDER) == served(server)


def test_json_parses_as_mocpy_reads_it(server):
    answer = requests.get(f"{server}/coverage", params={"format": "JSON"}, timeout=30)
    assert answer.status_code == 200 and answer.headers["Content-Type"] == "application/json"
    document = json.loads(answer.text)
    assert all(key.isdigit() and isinstance(cells, list) for key, cells in document.items())
    theirs = mocpy.MOC.from_json(document)
    assert Moc.from_ascii(theirs.to_string(format="ascii"), coverage.MOC_ORDER) == served(server)


def test_each_collection_has_its_moc_and_the_archive_is_their_union(server):
    with owner() as conn, conn.cursor() as cur:
        collections = coverage.stored_collections(cur)
    assert len(collections) >= 2
    union = set()
    for stored in collections:
        moc = served(server, collection=stored.collection)
        assert moc == stored.moc and len(moc.cells)
        union |= set(moc.cells.tolist())
    assert union == set(served(server).cells.tolist())


def test_the_stored_moc_is_pgsphere_union_of_the_public_footprints(server, owner_conn):
    """Straight from lick.observation, with the access rule written out: the same cells."""
    with owner_conn.cursor() as cur:
        cur.execute("SELECT set_smoc_output_type(0)")
        cur.execute("SELECT sum(CASE WHEN s_region IS NOT NULL THEN smoc(8, s_region) ELSE smoc(8, pos) END)::text "
                    "FROM lick.observation WHERE obs_release_date <= now() AND (s_region IS NOT NULL OR pos IS NOT NULL)")
        expected = Moc.from_ascii(cur.fetchone()[0], 8)
    assert served(server) == expected


# --- the endpoints ------------------------------------------------------------------------------

@pytest.mark.parametrize("params, status, words", [
    ({"collection": "Lick/No Such Thing"}, 404, "no public collection"),
    ({"collection": "' OR 1=1 --"}, 404, "no public collection"),
    ({"FORMAT": "votable"}, 400, "unknown FORMAT"),
    ({"FORMAT": "fits", "format": "json"}, 400, "only once"),
])
def test_bad_requests_get_plain_text_errors(server, params, status, words):
    answer = requests.get(f"{server}/coverage", params=params, timeout=30)
    assert answer.status_code == status and answer.headers["Content-Type"].startswith("text/plain")
    assert words in answer.text and "Traceback" not in answer.text


def test_only_get(server):
    for path in ("/coverage", "/coverage/sky.png"):
        answer = requests.post(f"{server}{path}", data={"FORMAT": "ascii"}, timeout=30)
        assert answer.status_code == 405 and answer.headers["Allow"] == "GET, HEAD"


def test_sky_picture_is_a_cacheable_png(server):
    answer = requests.get(f"{server}/coverage/sky.png", timeout=30)
    assert answer.status_code == 200 and answer.headers["Content-Type"] == "image/png"
    assert answer.content.startswith(b"\x89PNG\r\n\x1a\n") and b"IEND" in answer.content[-12:]
    assert "public" in answer.headers["Cache-Control"] and "max-age=" in answer.headers["Cache-Control"]
    etag, modified = answer.headers["ETag"], answer.headers["Last-Modified"]
    assert requests.get(f"{server}/coverage/sky.png", headers={"If-None-Match": etag}, timeout=30).status_code == 304
    assert requests.get(f"{server}/coverage/sky.png", headers={"If-Modified-Since": modified},
                        timeout=30).status_code == 304
    again = requests.get(f"{server}/coverage/sky.png", headers={"If-None-Match": '"other"'}, timeout=30)
    assert again.status_code == 200 and again.content == answer.content
    # the picture is the stored MOC drawn: drawing it again gives the same bytes
    assert render(served(server)) == answer.content


def _pixels(png: bytes) -> np.ndarray:
    import zlib

    from archive.coverage import skymap

    raw = zlib.decompress(png[png.index(b"IDAT") + 4:png.rindex(b"IEND") - 8])
    rows = np.frombuffer(raw, dtype=np.uint8).reshape(skymap.HEIGHT, 1 + skymap.WIDTH * 4)
    assert not rows[:, 0].any()  # filter type 0 on every row
    return rows[:, 1:].reshape(skymap.HEIGHT, skymap.WIDTH, 4)


def test_sky_picture_shows_the_coverage():
    """A pixel is coloured where the MOC covers the sky and only there; no MOC, no colour."""
    from archive.coverage import skymap

    ra, dec = 150.0, 30.0
    covered = np.all(_pixels(render(Moc.of_cells(8, [cell_of(ra, dec)]))) == skymap.COVERED, axis=2)
    inside, ras, decs = skymap.mollweide_grid()
    assert covered.sum() >= 1 and (covered <= inside).all()
    assert np.all(np.abs(decs[covered] - dec) < 2) and np.all(np.abs(ras[covered] - ra) < 3)
    assert not np.all(_pixels(render(Moc.empty(8))) == skymap.COVERED, axis=2).any()


# --- access: the public MOC is the public rows' ----------------------------------------------------

def test_a_proprietary_pointing_is_not_in_the_public_moc(server, proprietary):
    """A proprietary frame moved to an empty corner: no MOC and no picture shows it; once its
    release date has passed (the same row, nothing else changed), the refresh shows it."""
    coverage.refresh()  # with the world's public file in it, not when the worker gets to it
    ra, dec = next(c for c in EMPTY_CORNERS if cell_of(*c) not in set(served(server).cells.tolist()))
    cell = cell_of(ra, dec)
    secret = proprietary.secret_ids[0]
    with owner() as conn, conn.cursor() as cur:
        cur.execute("SELECT s_region::text, pos::text, obs_release_date FROM lick.observation WHERE obs_id = %s",
                    (secret,))
        region, pos, released = cur.fetchone()
        cur.execute("UPDATE lick.observation SET s_region = %s::spoly, pos = spoint(radians(%s), radians(%s)) "
                    "WHERE obs_id = %s", (spoly(small_square(ra, dec)), ra, dec, secret))
    picture = requests.get(f"{server}/coverage/sky.png", timeout=30).headers["ETag"]
    try:
        coverage.refresh()
        assert cell not in set(served(server).cells.tolist())
        with owner() as conn, conn.cursor() as cur:
            for stored in coverage.stored_collections(cur):
                assert cell not in set(stored.moc.cells.tolist()), stored.collection
        assert requests.get(f"{server}/coverage/sky.png", timeout=30).headers["ETag"] == picture
        with owner() as conn, conn.cursor() as cur:
            cur.execute("UPDATE lick.observation SET obs_release_date = now() - interval '1 day' WHERE obs_id = %s",
                        (secret,))
        coverage.refresh()
        assert cell in set(served(server).cells.tolist())
        assert requests.get(f"{server}/coverage/sky.png", timeout=30).headers["ETag"] != picture
    finally:
        with owner() as conn, conn.cursor() as cur:
            cur.execute("UPDATE lick.observation SET s_region = %s::spoly, pos = %s::spoint, obs_release_date = %s "
                        "WHERE obs_id = %s", (region, pos, released, secret))
        coverage.refresh()
    assert cell not in set(served(server).cells.tolist())


def test_a_collection_with_only_proprietary_rows_is_unknown(server, proprietary):
    """A collection none of whose rows is public answers 404, exactly as one that does not exist,
    and is in no registry record; released, it is there."""
    secret = proprietary.secret_ids[2]
    with owner() as conn, conn.cursor() as cur:
        cur.execute("SELECT instrument, obs_release_date FROM lick.observation WHERE obs_id = %s", (secret,))
        instrument, released = cur.fetchone()
        cur.execute("UPDATE lick.observation SET instrument = 'Secret Cam' WHERE obs_id = %s", (secret,))
    try:
        coverage.refresh()
        hidden = requests.get(f"{server}/coverage", params={"collection": "Lick/Secret Cam"}, timeout=30)
        missing = requests.get(f"{server}/coverage", params={"collection": "Lick/Secret Cam2"}, timeout=30)
        assert hidden.status_code == missing.status_code == 404
        assert hidden.text.replace("Cam", "Cam2") == missing.text
        with owner() as conn, conn.cursor() as cur:
            cur.execute("UPDATE lick.observation SET obs_release_date = now() - interval '1 day' WHERE obs_id = %s",
                        (secret,))
        coverage.refresh()
        assert len(served(server, collection="Lick/Secret Cam").cells) >= 1
    finally:
        with owner() as conn, conn.cursor() as cur:
            cur.execute("UPDATE lick.observation SET instrument = %s, obs_release_date = %s WHERE obs_id = %s",
                        (instrument, released, secret))
        coverage.refresh()


# --- refresh --------------------------------------------------------------------------------------

def _wait_for(condition, timeout_s: float = 90.0) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.5)
    return False


def test_ingest_refreshes_the_moc_through_the_worker(server, archive_root):
    """A new public file at an empty place: the ingest requests a refresh, the real Celery
    worker runs it, and /coverage and the picture change; withdrawing it changes them back."""
    from ingest.pipeline import ingest_batch
    from tests.ingest.samples import load_samples, write_fits

    before = set(served(server).cells.tolist())
    ra, dec = next(c for c in EMPTY_CORNERS if cell_of(*c) not in before)
    picture = requests.get(f"{server}/coverage/sky.png", timeout=30).headers["ETag"]
    sample = next(s for s in load_samples() if s.key == "kast_red_1")
    cards = bytearray(sample.cards)
    hours = ra / 15
    pointing = {b"RA      ": f"'{int(hours):02d}:{int(hours * 60 % 60):02d}:00.00'",
                b"DEC     ": f"'{int(dec):03d}:00:00.0'", b"CRVAL1  ": f"{ra:.4f}", b"CRVAL2  ": f"{dec:.4f}"}
    for i in range(0, len(cards), 80):
        if bytes(cards[i:i + 8]) in pointing:
            cards[i:i + 80] = (cards[i:i + 8].decode() + "= " + pointing[bytes(cards[i:i + 8])]).ljust(80).encode()
    path = write_fits(archive_root / "2019-05/02/shane/moc_new.fits", bytes(cards), sample.data_size(),
                      end=not sample.has_end)
    try:
        report = ingest_batch([path], root=archive_root)
        assert report.inserted == 1, report.summary()
        with owner() as conn, conn.cursor() as cur:
            cur.execute("SELECT s_ra, s_dec, obs_release_date <= now() FROM lick.observation WHERE file_path = %s",
                        ("2019-05/02/shane/moc_new.fits",))
            s_ra, s_dec, public = cur.fetchone()
        assert public and abs(s_dec - dec) < 0.1, (s_ra, s_dec)
        cell = cell_of(s_ra, s_dec)
        assert _wait_for(lambda: cell in set(served(server).cells.tolist())), "the worker did not refresh"
        assert requests.get(f"{server}/coverage/sky.png", timeout=30).headers["ETag"] != picture
    finally:
        path.unlink(missing_ok=True)
        ingest_batch([path], root=archive_root)  # withdraws the row
    assert _wait_for(lambda: set(served(server).cells.tolist()) == before)


def test_refresh_requests_are_debounced(archive_db):
    """However many changes come in before the refresh runs, one task is sent."""
    with engine("ingest").begin() as conn:
        conn.exec_driver_sql("UPDATE lick.coverage_refresh SET dirty_since = NULL")
    sent = [coverage.request_refresh() for _ in range(25)]
    assert sent[0] is True and not any(sent[1:])
    coverage.refresh()  # claims the flag: the next change sends again
    assert coverage.request_refresh() is True
    coverage.refresh()


def test_an_older_snapshot_never_replaces_a_newer_one(archive_db):
    """Two refreshes at once: the slower one, computed from an older snapshot, stores nothing."""
    old_found, old_snapshot = coverage.compute()
    coverage.refresh()
    with owner() as conn, conn.cursor() as cur:
        before = coverage.stored(cur)
        changed = [c if c.collection != coverage.ARCHIVE else
                   type(c)(c.collection, c.instrument, Moc.empty(8), 0, None, None, None, None, "x" * 64)
                   for c in old_found]
    assert coverage.store(changed, old_snapshot, b"") is False
    with owner() as conn, conn.cursor() as cur:
        assert coverage.stored(cur).digest == before.digest


def test_the_sweep_sees_rows_released_by_the_clock(server, proprietary):
    coverage.refresh()
    assert coverage.sweep() == "coverage current"
    secret = proprietary.secret_ids[1]
    with owner() as conn, conn.cursor() as cur:
        cur.execute("SELECT obs_release_date FROM lick.observation WHERE obs_id = %s", (secret,))
        released = cur.fetchone()[0]
        cur.execute("UPDATE lick.observation SET obs_release_date = now() WHERE obs_id = %s",
                    (secret,))
    try:
        assert coverage.sweep() == "rows were released (or never computed): refresh sent"
        coverage.refresh()
        assert coverage.sweep() == "coverage current"
    finally:
        with owner() as conn, conn.cursor() as cur:
            cur.execute("UPDATE lick.observation SET obs_release_date = %s WHERE obs_id = %s", (released, secret))
        coverage.refresh()


def test_before_the_first_refresh_the_endpoints_say_so(tmp_path, archive_db):
    """No stored coverage yet (a new archive): 503 with Retry-After, never a 500."""
    from conftest import gunicorn

    with engine("ingest").begin() as conn:
        rows = conn.exec_driver_sql("SELECT * FROM lick.coverage").fetchall()
        conn.exec_driver_sql("DELETE FROM lick.coverage")
        # A refresh the worker may still run (requested by earlier tests) stores nothing now.
        conn.exec_driver_sql("UPDATE lick.coverage_refresh SET refreshed_at = 'infinity'")
    try:
        with gunicorn(tmp_path / "empty.log", workers=1) as base:
            for path in ("/coverage", "/coverage/sky.png"):
                answer = requests.get(f"{base}{path}", timeout=30)
                assert answer.status_code == 503 and answer.headers["Retry-After"]
    finally:
        with engine("ingest").begin() as conn:
            conn.exec_driver_sql("UPDATE lick.coverage_refresh SET refreshed_at = NULL")
        coverage.refresh()
    assert rows  # there was a coverage before, and refresh() brought it back


def test_lick_admin_coverage_refreshes_at_once(archive_db):
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-m", "lick.cli", "coverage"], capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "order-8 cells" in done.stdout
