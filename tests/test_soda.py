"""SODA 1.0 sync cutouts against a live gunicorn, the demo archive and real FITS files.

Frames of a night written for this module from a demo Nickel direct header: a public 512x512
image, the same proprietary (program LEAKA: alice's, not bob's) and a public one whose header
lost its sky WCS (the archive derives one from the pointing and the plate scale).
"""
from __future__ import annotations

import io
import shutil
import subprocess
import urllib.parse
import warnings

import numpy as np
import pytest
import requests
from astropy import units as u
from astropy.coordinates import SkyCoord
from astropy.io import fits
from astropy.nddata import Cutout2D
from astropy.wcs import WCS

from archive.db import engine
from conftest import gunicorn
from ingest.pipeline import ingest_batch
from ingest.store import publisher_did

NIGHT = "2004-04/04/nickel"
PUBLIC, SECRET, NO_WCS = f"{NIGHT}/d1", f"{NIGHT}/d2", f"{NIGHT}/d3"
SHAPE = (512, 512)
#: Cards of the sky WCS, primary and Lick's alternate 'S', that the NO_WCS frame lacks.
SKY_WCS_CARDS = [f"{key}{axis}{suffix}" for suffix in ("", "S") for axis in ("1", "2")
                 for key in ("CTYPE", "CRVAL", "CRPIX", "CUNIT")] + \
                [f"CD{i}_{j}{suffix}" for suffix in ("", "S") for i in (1, 2) for j in (1, 2)]


def _assert_provenance_kept(served: fits.Header, original: fits.Header) -> None:
    """Every card of the frame's primary header is in the cutout's, but the sizes and the primary
    WCS it replaces, and the alternate WCSs' reference pixels, which move."""
    from vo_services.soda.cutout import _ALTERNATE_CRPIX, _REPLACED

    kept = [(key, value) for key, value in original.items()
            if key not in ("COMMENT", "HISTORY", "") and not _REPLACED.match(key) and not _ALTERNATE_CRPIX.match(key)]
    assert len(kept) > 50
    for key, value in kept:
        assert served[key] == value, key
    for key in ("OBSERVER", "OBJECT", "EXPTIME", "FILTNAM"):
        assert served[key] == original[key]


def _write_frame(path, header: fits.Header, seed: int) -> None:
    data = np.random.default_rng(seed).integers(900, 30000, SHAPE).astype(np.uint16)
    path.parent.mkdir(parents=True, exist_ok=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fits.PrimaryHDU(data, header=header).writeto(path, overwrite=True)


@pytest.fixture(scope="module")
def frames(demo_archive, proprietary, archive_root, django_db_blocker):
    """obs_id -> path of the module's three frames, and of a public demo spectrum."""
    with django_db_blocker.unblock(), engine("owner").begin() as conn:
        template = conn.exec_driver_sql(
            "SELECT file_path FROM lick.observation WHERE instrument = 'Nickel Direct' "
            "AND header LIKE '%%CD1_1S%%' ORDER BY obs_id LIMIT 1").scalar_one()
        spectrum = conn.exec_driver_sql(
            "SELECT obs_id FROM lick.observation WHERE dataproduct_type = 'spectrum' "
            "AND obs_release_date < now() ORDER BY obs_id LIMIT 1").scalar_one()
    header = fits.getheader(archive_root / template)
    without_wcs = header.copy()
    for key in SKY_WCS_CARDS:
        without_wcs.remove(key, ignore_missing=True, remove_all=True)
    paths = {obs_id: archive_root / f"{obs_id}.fits" for obs_id in (PUBLIC, SECRET, NO_WCS)}
    for seed, (obs_id, path) in enumerate(paths.items()):
        _write_frame(path, without_wcs if obs_id == NO_WCS else header, seed)
    with django_db_blocker.unblock():
        report = ingest_batch(list(paths.values()), root=archive_root)
        assert not report.failed, report.failed
        with engine("owner").begin() as conn:
            conn.exec_driver_sql("DELETE FROM lick.access_grant WHERE observation_id IN "
                                 "(SELECT id FROM lick.observation WHERE obs_id LIKE %s)", (f"{NIGHT}/%",))
            conn.exec_driver_sql("UPDATE lick.observation SET obs_release_date = now() - interval '1 day' "
                                 "WHERE obs_id LIKE %s", (f"{NIGHT}/%",))
            conn.exec_driver_sql("UPDATE lick.observation SET obs_release_date = now() + interval '1 year' "
                                 "WHERE obs_id = %s", (SECRET,))
            conn.exec_driver_sql("INSERT INTO lick.access_grant (observation_id, principal, reason) "
                                 "SELECT id, 'program:LEAKA', 'test' FROM lick.observation WHERE obs_id = %s",
                                 (SECRET,))
    yield {**paths, "spectrum": spectrum}
    with django_db_blocker.unblock(), engine("owner").begin() as conn:
        conn.exec_driver_sql("DELETE FROM lick.observation WHERE obs_id LIKE %s", (f"{NIGHT}/%",))
    shutil.rmtree(archive_root / NIGHT.split("/")[0], ignore_errors=True)


@pytest.fixture(scope="module")
def server(frames, tmp_path_factory):
    with gunicorn(tmp_path_factory.mktemp("soda") / "gunicorn.log", workers=1) as base:
        yield base


def _soda(server, params, who=None, world=None, method="GET") -> requests.Response:
    headers = world.http_headers(who) if who else {}
    if method == "POST":
        return requests.post(f"{server}/soda/sync", data=params, headers=headers, timeout=60)
    return requests.get(f"{server}/soda/sync", params=params, headers=headers, timeout=60)


def _sky_of(path, x: float, y: float) -> tuple[float, float]:
    """(ra, dec) of the 0-based pixel (x, y) of the file's WCS."""
    ra, dec = WCS(fits.getheader(path)).wcs_pix2world([[x, y]], 0)[0]
    return float(ra), float(dec)


def _served(response: requests.Response) -> fits.PrimaryHDU:
    assert response.status_code == 200, response.text
    assert response.headers["Content-Type"] == "application/fits"
    return fits.open(io.BytesIO(response.content))[0]


def test_a_circle_cutout_is_what_astropy_cutout2d_cuts(server, frames):
    path = frames[PUBLIC]
    ra, dec = _sky_of(path, 300.2, 140.7)
    radius = 60 * 0.37 / 3600  # about 60 pixels
    served = _served(_soda(server, {"ID": publisher_did(PUBLIC), "CIRCLE": f"{ra} {dec} {radius}"}))
    original = fits.open(path)[0]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected = Cutout2D(original.data, SkyCoord(ra, dec, unit="deg"), (2 * radius * u.deg, 2 * radius * u.deg),
                            wcs=WCS(original.header))
        got = WCS(served.header)
    assert (served.header["NAXIS1"], served.header["NAXIS2"]) == expected.data.shape[::-1]
    assert 100 < served.header["NAXIS1"] < 140
    assert np.array_equal(served.data, expected.data)
    assert np.allclose(got.wcs.crpix, expected.wcs.wcs.crpix)
    assert np.allclose(got.wcs.crval, expected.wcs.wcs.crval)
    assert np.allclose(got.pixel_scale_matrix, expected.wcs.pixel_scale_matrix)
    corners = [[0, 0], [served.header["NAXIS1"] - 1, served.header["NAXIS2"] - 1], [17, 3]]
    assert np.allclose(got.wcs_pix2world(corners, 0), expected.wcs.wcs_pix2world(corners, 0), atol=1e-9)
    _assert_provenance_kept(served.header, original.header)
    assert served.header["CRPIX1C"] == original.header["CRPIX1C"] - expected.origin_original[0]
    assert any(PUBLIC in str(card) for card in served.header["HISTORY"])


def test_a_polygon_cutout_holds_the_polygon(server, frames):
    path = frames[PUBLIC]
    corners = [(100.0, 50.0), (180.0, 60.0), (140.0, 130.0)]
    vertices = [_sky_of(path, x, y) for x, y in corners]
    served = _served(_soda(server, {"ID": publisher_did(PUBLIC),
                                    "POLYGON": " ".join(f"{ra} {dec}" for ra, dec in vertices)}))
    assert (served.header["NAXIS1"], served.header["NAXIS2"]) == (81, 81)  # columns 100-180, rows 50-130
    assert np.array_equal(served.data, fits.getdata(path)[50:131, 100:181])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        x, y = WCS(served.header).wcs_world2pix([vertices[1]], 0)[0]
    assert np.allclose((x, y), (80.0, 10.0), atol=1e-6)


def test_pos_and_post_take_the_same_shapes(server, frames):
    ra, dec = _sky_of(frames[PUBLIC], 256, 256)
    circle = _soda(server, {"ID": publisher_did(PUBLIC), "CIRCLE": f"{ra} {dec} 0.002"})
    pos = _soda(server, {"ID": publisher_did(PUBLIC), "POS": f"CIRCLE {ra} {dec} 0.002"}, method="POST")
    assert circle.status_code == pos.status_code == 200 and circle.content == pos.content


def _frame_box(served: fits.PrimaryHDU) -> tuple[int, int, int, int]:
    """(x0, x1, y0, y1), 0-based and inclusive, of a cutout in its frame (from IRAF's LTV cards)."""
    x0, y0 = -served.header["LTV1"], -served.header["LTV2"]
    return x0, x0 + served.header["NAXIS1"] - 1, y0, y0 + served.header["NAXIS2"] - 1


def _inside_box(path, inside) -> tuple[int, int, int, int]:
    """The box of the frame's pixels whose centres ``inside(ra, dec)`` holds (degree arrays)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        wcs = WCS(fits.getheader(path))
    ys, xs = np.mgrid[0:SHAPE[0], 0:SHAPE[1]]
    ra, dec = wcs.wcs_pix2world(xs.ravel(), ys.ravel(), 0)
    mask = inside(ra, dec).reshape(SHAPE)
    rows, columns = np.nonzero(mask.any(axis=1))[0], np.nonzero(mask.any(axis=0))[0]
    return columns.min(), columns.max(), rows.min(), rows.max()


@pytest.mark.parametrize("width", [0.01, 3.0], ids=["small", "wide"])
def test_pos_range_holds_the_pixels_inside_it(server, frames, width):
    """POS RANGE (SODA 1.0 §3.3.1), as pyvo's processed(range=...) sends it: a small one is the
    box of its edges, a wide one (whose edge crosses the frame) the frame's pixels inside it."""
    from pyvo.dal.adhoc import DatalinkResults

    path = frames[PUBLIC]
    ra, dec = _sky_of(path, 250, 260)
    low_ra = ra - 0.004 if width < 1 else ra - width
    bounds = (low_ra, ra + 0.006, dec - 0.003, dec + 0.005)
    links = DatalinkResults.from_result_url(f"{server}/datalink/links?ID={urllib.parse.quote(publisher_did(PUBLIC))}")
    record = next(links.bysemantics("#cutout", include_narrower=False))
    served = fits.open(io.BytesIO(record.processed(range=list(bounds) * u.deg).read()))[0]
    expected = _inside_box(path, lambda r, d: (bounds[0] <= r) & (r <= bounds[1]) & (bounds[2] <= d) & (d <= bounds[3]))
    got = _frame_box(served)
    slack = 1 if width < 1 else 2  # a touched pixel's centre may lie outside; the wide one's grid step
    for have, want, sign in zip(got, expected, (-1, 1, -1, 1)):
        assert 0 <= (have - want) * sign <= slack, (got, expected)
    assert np.array_equal(served.data, fits.getdata(path)[got[2]:got[3] + 1, got[0]:got[1] + 1])


def test_a_disjoint_circle_is_no_content(server, frames):
    ra, dec = _sky_of(frames[PUBLIC], 256, 256)
    response = _soda(server, {"ID": publisher_did(PUBLIC), "CIRCLE": f"{(ra + 1) % 360} {dec} 0.01"})
    assert response.status_code == 204 and response.content == b""
    # near, but not touching: the circle's box lies wholly beside the frame
    ra_out, dec_out = _sky_of(frames[PUBLIC], -40, 256)
    response = _soda(server, {"ID": publisher_did(PUBLIC), "CIRCLE": f"{ra_out} {dec_out} {10 * 0.37 / 3600}"})
    assert response.status_code == 204


def test_a_large_circle_is_cut_to_the_frame_pixels_inside_it(server, frames):
    """A circle of degrees whose edge crosses the frame: TAN stretches it out of round, so the
    box is the frame's pixels inside it (to one grid step), not Cutout2D's square."""
    path = frames[PUBLIC]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        wcs = WCS(fits.getheader(path))
    ys, xs = np.mgrid[0:SHAPE[0], 0:SHAPE[1]]
    sky = SkyCoord(*wcs.wcs_pix2world(xs.ravel(), ys.ravel(), 0), unit="deg")
    centre = SkyCoord(*_sky_of(path, 256, 256), unit="deg").directional_offset_by(30 * u.deg, 4 * u.deg)
    edge = SkyCoord(*_sky_of(path, 300, 200), unit="deg")
    radius = centre.separation(edge).deg
    inside = (sky.separation(centre).deg <= radius).reshape(SHAPE)
    rows, columns = np.nonzero(inside.any(axis=1))[0], np.nonzero(inside.any(axis=0))[0]
    assert 0 < len(rows) < SHAPE[0] or 0 < len(columns) < SHAPE[1], "the edge crosses the frame"
    served = _served(_soda(server, {"ID": publisher_did(PUBLIC),
                                    "CIRCLE": f"{centre.ra.deg} {centre.dec.deg} {radius}"}))
    x0, y0 = -served.header["LTV1"], -served.header["LTV2"]
    x1, y1 = x0 + served.header["NAXIS1"] - 1, y0 + served.header["NAXIS2"] - 1
    step = 2  # the grid of a 512-pixel frame
    assert columns.min() - step <= x0 <= columns.min() and columns.max() <= x1 <= columns.max() + step
    assert rows.min() - step <= y0 <= rows.min() and rows.max() <= y1 <= rows.max() + step
    assert np.array_equal(served.data, fits.getdata(path)[y0:y1 + 1, x0:x1 + 1])
    far = centre.directional_offset_by(30 * u.deg, 2 * u.deg)
    response = _soda(server, {"ID": publisher_did(PUBLIC), "CIRCLE": f"{far.ra.deg} {far.dec.deg} 5.0"})
    assert response.status_code == 204


def test_a_frame_without_a_sky_wcs_is_cut_with_the_derived_one(server, frames):
    from ingest.instruments.sky import pointing_from_cards
    from ingest.instruments.base import Cards

    header = fits.getheader(frames[NO_WCS])
    assert "CTYPE1" not in header and "CTYPE1S" not in header
    ra, dec = pointing_from_cards(Cards(header))
    served = _served(_soda(server, {"ID": publisher_did(NO_WCS), "CIRCLE": f"{ra} {dec} {40 * 0.368 / 3600}"}))
    assert served.header["CTYPE1"] == "RA---TAN" and "derived" in str(served.header["COMMENT"])
    assert (served.header["NAXIS1"], served.header["NAXIS2"]) == (80, 80)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        x, y = WCS(served.header).wcs_world2pix([[ra, dec]], 0)[0]
    assert abs(x - 39.5) <= 0.5 and abs(y - 39.5) <= 0.5, "the pointing is the frame's centre"
    _assert_provenance_kept(served.header, header)


def _bad(server, frames, params) -> tuple[int, str]:
    response = _soda(server, params)
    assert response.headers["Content-Type"].startswith("text/plain"), response.headers
    return response.status_code, response.text


def test_every_bad_input_gets_the_soda_error(server, frames):
    did = publisher_did(PUBLIC)
    ra, dec = _sky_of(frames[PUBLIC], 256, 256)
    circle = f"{ra} {dec} 0.01"
    cases = [
        ({"CIRCLE": circle}, 400, "UsageError: ID is required"),
        ({"ID": "", "CIRCLE": circle}, 400, "UsageError: ID is required"),
        ({"ID": "ivo://elsewhere/archive?x", "CIRCLE": circle}, 404, "NotFoundFault"),
        ({"ID": publisher_did(f"{NIGHT}/d99"), "CIRCLE": circle}, 404, "NotFoundFault"),
        ({"ID": [did, publisher_did(NO_WCS)], "CIRCLE": circle}, 400, "MultiValuedParamNotSupported"),
        ({"ID": did, "CIRCLE": [circle, circle]}, 400, "MultiValuedParamNotSupported"),
        ({"ID": did, "CIRCLE": circle, "POLYGON": f"{ra} {dec} {ra} {dec + 0.01} {ra + 0.01} {dec}"}, 400,
         "MultiValuedParamNotSupported"),
        ({"ID": did, "CIRCLE": f"{ra} {dec}"}, 400, "UsageError: CIRCLE must be three numbers"),
        ({"ID": did, "CIRCLE": f"{ra} {dec} big"}, 400, "UsageError"),
        ({"ID": did, "CIRCLE": f"{ra} {dec} nan"}, 400, "UsageError"),
        ({"ID": did, "CIRCLE": f"{ra} {dec} 0"}, 400, "UsageError: CIRCLE: the radius must be positive"),
        ({"ID": did, "CIRCLE": f"{ra} {dec} -1"}, 400, "UsageError: CIRCLE: the radius must be positive"),
        ({"ID": did, "CIRCLE": f"{ra} {dec} 3600"}, 400, "UsageError: CIRCLE: a radius of 3600"),
        ({"ID": did, "CIRCLE": f"400 {dec} 0.1"}, 400, "UsageError"),
        ({"ID": did, "CIRCLE": f"{ra} 95 0.1"}, 400, "UsageError"),
        ({"ID": did, "POLYGON": f"{ra} {dec} {ra} {dec + 0.01}"}, 400, "UsageError: POLYGON needs at least 3 vertices"),
        ({"ID": did, "POLYGON": f"{ra} {dec} {ra} {dec + 0.01} {ra}"}, 400, "UsageError: POLYGON must be pairs"),
        ({"ID": did, "POLYGON": f"{ra} {dec} {ra} {dec} {ra} {dec}"}, 400, "UsageError"),
        ({"ID": did, "POLYGON": f"{ra} {dec} {(ra + 170) % 360} {-dec} {ra} {min(dec + 1, 90)}"}, 400, "UsageError"),
        ({"ID": did, "POS": f"RANGE {ra + 0.01} {ra} {dec} {dec + 0.01}"}, 400, "UsageError: POS RANGE: an interval"),
        ({"ID": did, "POS": f"RANGE {ra} {ra + 0.01} {dec}"}, 400, "UsageError: POS RANGE must be four numbers"),
        ({"ID": did, "POS": f"RANGE {ra} {ra + 0.01} {dec} 91"}, 400, "UsageError: POS RANGE: 91 is outside"),
        ({"ID": did, "POS": f"RANGE {ra} {ra + 0.01} {dec} NaN"}, 400, "UsageError: POS RANGE must be numbers"),
        ({"ID": did, "POS": "BOX 1 2 3 4"}, 400, "UsageError: POS must start with"),
        ({"ID": did, "POS": ""}, 400, "UsageError"),
        ({"ID": did, "BAND": "5e-7 6e-7"}, 400, "UsageError: BAND"),
        ({"ID": did, "CIRCLE": circle, "RESPONSEFORMAT": "votable"}, 400, "UsageError: RESPONSEFORMAT"),
        ({"ID": publisher_did(frames["spectrum"]), "CIRCLE": circle}, 400, "UsageError"),
    ]
    for params, status, start in cases:
        got_status, text = _bad(server, frames, params)
        assert (got_status, text[:len(start)]) == (status, start), params
    _, text = _bad(server, frames, {"ID": publisher_did(frames["spectrum"]), "CIRCLE": circle})
    assert "spectrum, not an image" in text


def test_the_shared_guards_answer_in_soda_text_too(server, frames):
    """What the middleware and the method check refuse before the view runs (a NUL character,
    PUT) is a SODA error here as well, not a VOTable."""
    put = requests.put(f"{server}/soda/sync", data={"ID": publisher_did(PUBLIC)}, timeout=30)
    nul = requests.get(f"{server}/soda/sync", params={"ID": publisher_did(PUBLIC) + "\x00", "CIRCLE": "1 2 3"},
                       timeout=30)
    for response, status in ((put, 405), (nul, 400)):
        assert response.status_code == status and response.headers["Content-Type"].startswith("text/plain")
        assert response.text.startswith("UsageError: "), response.text
    assert "GET" in put.headers["Allow"]


def test_a_proprietary_frame_is_refused_as_its_download_is(server, frames, proprietary):
    ra, dec = _sky_of(frames[SECRET], 256, 256)
    params = {"ID": publisher_did(SECRET), "CIRCLE": f"{ra} {dec} 0.005"}
    for who, status, fault in ((None, 401, "AuthenticationError"), ("bob", 403, "AuthorizationError")):
        download = requests.get(f"{server}/datalink/download/{SECRET}", headers=proprietary.http_headers(who)
                                if who else {}, timeout=30)
        cutout = _soda(server, params, who, proprietary)
        assert cutout.status_code == download.status_code == status, who
        assert cutout.text.startswith(fault) and b"SIMPLE" not in cutout.content
        if status == 401:
            assert cutout.headers["WWW-Authenticate"] == download.headers["WWW-Authenticate"]
    missing = publisher_did(f"{NIGHT}/d99")
    assert _soda(server, {"ID": missing, "CIRCLE": params["CIRCLE"]}).status_code == \
        requests.get(f"{server}/datalink/download/{NIGHT}/d99", timeout=30).status_code == 404
    served = _served(_soda(server, params, "alice", proprietary))
    assert served.header["OBJECT"] == fits.getheader(frames[SECRET])["OBJECT"]
    staff = _served(_soda(server, params, "carol", proprietary))
    assert np.array_equal(staff.data, served.data)


def test_links_offer_the_cutout_of_images_only(server, frames):
    from pyvo.dal.adhoc import DatalinkResults

    url = f"{server}/datalink/links?" + urllib.parse.urlencode(
        [("ID", publisher_did(PUBLIC)), ("ID", publisher_did(frames["spectrum"])), ("ID", publisher_did(SECRET))])
    links = DatalinkResults.from_result_url(url)
    cutouts = list(links.bysemantics("#cutout", include_narrower=False))
    assert [c.id for c in cutouts] == [publisher_did(PUBLIC)], "no cutout of a spectrum, nor of a hidden frame"
    service = links.get_adhocservice_by_id(cutouts[0].service_def)
    params = {p.name: p for p in service.params}
    assert params["standardID"].value == "ivo://ivoa.net/std/SODA#sync-1.0"
    assert params["accessURL"].value == f"{server}/soda/sync"
    inputs = {p.name: p for group in service.groups if group.name == "inputParams" for p in group.entries}
    assert inputs["ID"].value == publisher_did(PUBLIC) and set(inputs) == {"ID", "CIRCLE", "POLYGON", "POS"}


def test_pyvo_cuts_from_a_datalink_record_and_from_an_obscore_row(server, frames):
    from pyvo.dal import TAPService
    from pyvo.dal.adhoc import DatalinkResults

    ra, dec = _sky_of(frames[PUBLIC], 200, 300)
    circle = [ra, dec, 0.004] * u.deg
    links = DatalinkResults.from_result_url(f"{server}/datalink/links?ID={urllib.parse.quote(publisher_did(PUBLIC))}")
    record = next(links.bysemantics("#cutout", include_narrower=False))
    via_links = fits.open(io.BytesIO(record.processed(circle=circle).read()))[0]
    rows = TAPService(f"{server}/tap").run_sync(
        f"SELECT * FROM ivoa.obscore WHERE obs_publisher_did = '{publisher_did(PUBLIC)}'")
    assert len(rows) == 1
    via_obscore = fits.open(io.BytesIO(rows[0].processed(circle=circle).read()))[0]
    direct = _served(_soda(server, {"ID": publisher_did(PUBLIC), "CIRCLE": f"{ra} {dec} 0.004"}))
    for served in (via_links, via_obscore):
        assert served.data.shape == direct.data.shape and np.array_equal(served.data, direct.data)
        assert served.header["CRPIX1"] == direct.header["CRPIX1"]


def test_capabilities_and_availability(server):
    import xml.etree.ElementTree as ET

    root = ET.fromstring(requests.get(f"{server}/soda/capabilities", timeout=30).content)
    capabilities = {c.get("standardID"): c for c in root.iter("capability")}
    assert set(capabilities) == {"ivo://ivoa.net/std/SODA#sync-1.0", "ivo://ivoa.net/std/VOSI#capabilities",
                                 "ivo://ivoa.net/std/VOSI#availability"}
    sync = capabilities["ivo://ivoa.net/std/SODA#sync-1.0"]
    assert sync.find("interface/accessURL").text == f"{server}/soda/sync"
    assert any(m.get("standardID") is None for m in sync.iter("securityMethod")), "anonymous use is declared"
    assert b"<available>true</available>" in requests.get(f"{server}/soda/availability", timeout=30).content


@pytest.mark.skipif(shutil.which("stilts") is None, reason="STILTS is not installed (scripts/setup.sh installs it)")
def test_datalinklint_is_clean_with_the_cutout_descriptor(server, frames):
    url = f"{server}/datalink/links?" + urllib.parse.urlencode(
        [("ID", publisher_did(PUBLIC)), ("ID", publisher_did(NO_WCS))])
    assert "soda/sync" in requests.get(url, timeout=30).text
    out = subprocess.run(["stilts", "datalinklint", url], capture_output=True, text=True, timeout=180)
    problems = [line for line in (out.stdout + out.stderr).splitlines() if line.startswith(("E(", "W("))]
    assert problems == [], out.stdout + out.stderr
