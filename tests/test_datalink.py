"""DataLink links and file downloads against the real database and files."""
from __future__ import annotations

import shutil
import subprocess
import urllib.parse
import urllib.request
import xml.etree.ElementTree as ET
from datetime import datetime, timedelta, timezone

import pytest

from archive.db import engine
from tests.ingest.samples import load_samples, write_sample
from ingest.pipeline import ingest_batch

pytestmark = pytest.mark.django_db(transaction=True)
VOT = "{http://www.ivoa.net/xml/VOTable/v1.3}"
SAMPLES = {s.key: s for s in load_samples()}


@pytest.fixture
def night(archive_root):
    """A night of Kast red frames: a science frame, its arc and flat, and a proprietary one."""
    sample = SAMPLES["kast_red_1"]
    paths = [write_sample(sample, archive_root, rel_path=f"1998-07/07/shane/r{i}.fits") for i in range(1, 4)]
    ingest_batch(paths, root=archive_root)
    with engine("owner").begin() as conn:
        conn.exec_driver_sql("UPDATE lick.observation SET frame_type = 'science' WHERE obs_id = '1998-07/07/shane/r1'")
        conn.exec_driver_sql("UPDATE lick.observation SET frame_type = 'arc' WHERE obs_id = '1998-07/07/shane/r2'")
        conn.exec_driver_sql("UPDATE lick.observation SET frame_type = 'flat', obs_release_date = %s "
                             "WHERE obs_id = '1998-07/07/shane/r3'", (datetime.now(timezone.utc) + timedelta(days=5),))
    yield {p.stem: p for p in paths}
    shutil.rmtree(archive_root / "1998-07", ignore_errors=True)
    with engine("owner").begin() as conn:
        conn.exec_driver_sql("DELETE FROM lick.observation WHERE obs_id LIKE '1998-07/%%'")


def _did(obs_id: str) -> str:
    from ingest.store import publisher_did

    return publisher_did(obs_id)


def _links(client, *ids):
    response = client.get("/datalink/links", {"ID": list(ids)})
    assert response.status_code == 200
    assert response["Content-Type"] == "application/x-votable+xml;content=datalink"
    root = ET.fromstring(b"".join(response.streaming_content))
    names = [f.get("name") for f in root.iter(f"{VOT}FIELD")]
    rows = [dict(zip(names, [td.text for td in tr])) for tr in root.iter(f"{VOT}TR")]
    infos = {i.get("name"): i.get("value") for i in root.iter(f"{VOT}INFO")}
    return rows, infos


def test_links_of_a_science_frame(client, night):
    rows, infos = _links(client, _did("1998-07/07/shane/r1"), "ivo://nowhere?x")
    assert infos["standardID"] == "ivo://ivoa.net/std/DataLink#links-1.1"
    semantics = [r["semantics"] for r in rows if r["ID"] == _did("1998-07/07/shane/r1")]
    assert semantics == ["#this", "#preview", "#detached-header", "#calibration"]
    calibration = [r for r in rows if r["semantics"] == "#calibration"]
    assert [c["access_url"].rsplit("/", 1)[1] for c in calibration] == ["r2"], "the proprietary flat stays hidden"
    missing = [r for r in rows if r["ID"] == "ivo://nowhere?x"]
    assert len(missing) == 1 and missing[0]["error_message"].startswith("NotFoundFault")


def test_a_proprietary_id_is_an_unauthorized_link_without_details(client, night):
    rows, _ = _links(client, _did("1998-07/07/shane/r3"))
    assert len(rows) == 1
    assert rows[0]["semantics"] == "#this" and rows[0]["link_authorized"] == "F"
    assert rows[0]["content_length"] is None and rows[0]["content_type"] is None
    for service in ("download", "header", "preview"):
        refused = client.get(f"/datalink/{service}/1998-07/07/shane/r3")
        assert refused.status_code == 401 and "ivoa_bearer" in refused["WWW-Authenticate"]
        assert b"SIMPLE" not in refused.content
    assert client.get("/datalink/download/1998-07/07/shane/r9").status_code == 404


def test_download_with_range_and_etag(client, night):
    whole = client.get("/datalink/download/1998-07/07/shane/r1")
    assert whole.status_code == 200 and whole["Content-Type"] == "application/fits"
    body = b"".join(whole.streaming_content)
    assert body == night["r1"].read_bytes() and int(whole["Content-Length"]) == len(body)
    assert 'filename="r1.fits"' in whole["Content-Disposition"]
    part = client.get("/datalink/download/1998-07/07/shane/r1", HTTP_RANGE="bytes=100-")
    assert part.status_code == 206 and part["Content-Range"] == f"bytes 100-{len(body) - 1}/{len(body)}"
    assert b"".join(part.streaming_content) == body[100:]
    assert client.get("/datalink/download/1998-07/07/shane/r1", HTTP_RANGE=f"bytes={len(body) + 5}-").status_code == 416
    assert client.get("/datalink/download/1998-07/07/shane/r1", HTTP_IF_NONE_MATCH=whole["ETag"]).status_code == 304
    header = client.get("/datalink/header/1998-07/07/shane/r1")
    assert header.status_code == 200 and header.content.startswith(b"SIMPLE")


def test_pyvo_follows_the_links(live_server, night):
    from pyvo.dal.adhoc import DatalinkResults

    url = f"{live_server.url}/datalink/links?ID={urllib.request.quote(_did('1998-07/07/shane/r1'))}"
    links = DatalinkResults.from_result_url(url)
    this = next(links.bysemantics("#this", include_narrower=False))
    # access_url carries LICK_PUBLIC_URL; the test server listens elsewhere
    path = urllib.parse.urlparse(this.access_url).path
    assert urllib.request.urlopen(live_server.url + path).read() == night["r1"].read_bytes()


@pytest.mark.skipif(shutil.which("stilts") is None, reason="STILTS is not installed (scripts/setup.sh installs it)")
def test_datalinklint_is_clean(live_server, night, tmp_path):
    url = f"{live_server.url}/datalink/links?ID={urllib.request.quote(_did('1998-07/07/shane/r1'))}"
    out = subprocess.run(["stilts", "datalinklint", url], capture_output=True, text=True, timeout=180)
    problems = [line for line in (out.stdout + out.stderr).splitlines() if line.startswith(("E(", "W("))]
    assert problems == [], out.stdout + out.stderr


def test_previews_are_pngs_of_the_data(client, night, tmp_path):
    import numpy as np
    from astropy.io import fits

    from vo_services.datalink.previews import make_preview

    image = tmp_path / "image.fits"
    fits.PrimaryHDU(np.random.default_rng(1).normal(100, 10, (300, 200)).astype("f4")).writeto(image)
    spectrum = tmp_path / "spectrum.fits"
    fits.PrimaryHDU(np.tile(np.linspace(0, 1, 500), (20, 1)).astype("f4")).writeto(spectrum)
    for path, kind in ((image, "image"), (spectrum, "spectrum")):
        data = make_preview(path, kind)
        assert data.startswith(b"\x89PNG\r\n\x1a\n") and b"IEND" in data[-12:]
    served = client.get("/datalink/preview/1998-07/07/shane/r1")
    # the sample's data section is all zeros: still a valid PNG, or a clear NotFoundFault
    assert served.status_code in (200, 404)
    assert served["Content-Type"] == ("image/png" if served.status_code == 200 else "application/x-votable+xml")
    assert client.get("/datalink/preview/1998-07/07/shane/r3").status_code == 401  # proprietary
