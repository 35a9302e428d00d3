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


R1 = "1998-07/07/shane/r1"
BLUE_OFFSETS = {"b1": 60, "b2": 700, "b3": 120}  # seconds after r1 starts its 600 s exposure
B1, B2, B3 = (f"1998-07/07/shane/{b}" for b in BLUE_OFFSETS)


@pytest.fixture
def night(archive_root):
    """A night of Kast frames, from the red arm a science frame, its arc and a proprietary flat
    (both from the afternoon), and from the blue arm: b1 exposed during the red science frame, b2
    just after it, and b3 during it but proprietary, granted to user:ada."""
    red, blue = SAMPLES["kast_red_1"], SAMPLES["kast_blue_1"]
    paths = [write_sample(red, archive_root, rel_path=f"1998-07/07/shane/r{i}.fits") for i in range(1, 4)]
    paths += [write_sample(blue, archive_root, rel_path=f"1998-07/07/shane/{b}.fits") for b in BLUE_OFFSETS]
    ingest_batch(paths, root=archive_root)
    in_five_days = datetime.now(timezone.utc) + timedelta(days=5)
    with engine("owner").begin() as conn:
        conn.exec_driver_sql("UPDATE lick.observation SET frame_type = 'science' WHERE obs_id = '1998-07/07/shane/r1'")
        conn.exec_driver_sql("UPDATE lick.observation SET frame_type = 'arc', t_min = t_min - 0.3 "
                             "WHERE obs_id = '1998-07/07/shane/r2'")
        conn.exec_driver_sql("UPDATE lick.observation SET frame_type = 'flat', t_min = t_min - 0.3, obs_release_date = %s "
                             "WHERE obs_id = '1998-07/07/shane/r3'", (in_five_days,))
        for name, seconds in BLUE_OFFSETS.items():
            conn.exec_driver_sql("UPDATE lick.observation b SET frame_type = 'science', t_min = r.t_min + %s / 86400.0 "
                                 "FROM lick.observation r WHERE r.obs_id = %s AND b.obs_id = %s",
                                 (seconds, R1, f"1998-07/07/shane/{name}"))
        conn.exec_driver_sql("UPDATE lick.observation SET obs_release_date = %s WHERE obs_id = %s", (in_five_days, B3))
        conn.exec_driver_sql("INSERT INTO lick.access_grant (observation_id, principal, reason) "
                             "SELECT id, 'user:ada', 'test' FROM lick.observation WHERE obs_id = %s", (B3,))
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
    assert semantics == ["#this", "#preview", "#detached-header", "#calibration", "#auxiliary"]
    calibration = [r for r in rows if r["semantics"] == "#calibration"]
    assert [c["access_url"].rsplit("/", 1)[1] for c in calibration] == ["r2"], "the proprietary flat stays hidden"
    missing = [r for r in rows if r["ID"] == "ivo://nowhere?x"]
    assert len(missing) == 1 and missing[0]["error_message"].startswith("NotFoundFault")


def test_calibrations_are_the_frame_types_the_access_rules_call_calibrations(client, night):
    """A focus frame is a calibration for the access rules (everyone scheduled that night sees
    it): it is a #calibration link too."""
    from ingest.access import CALIBRATION_FRAMES

    assert "focus" in CALIBRATION_FRAMES and not {"science", "unknown"} & CALIBRATION_FRAMES
    with engine("owner").begin() as conn:
        conn.exec_driver_sql("UPDATE lick.observation SET frame_type = 'focus' WHERE obs_id = '1998-07/07/shane/r2'")
    rows, _ = _links(client, _did(R1))
    assert [r["access_url"].rsplit("/", 1)[1] for r in rows if r["semantics"] == "#calibration"] == ["r2"]


def _other_arm(rows, obs_id: str) -> list[str]:
    """The obs_ids that the #auxiliary links of ``obs_id`` lead to."""
    return [r["access_url"].split("/datalink/download/", 1)[1] for r in rows
            if r["ID"] == _did(obs_id) and r["semantics"] == "#auxiliary"]


def test_the_kast_arms_link_the_frames_they_exposed_together(client, night):
    rows, _ = _links(client, _did(R1), _did(B1), _did(B2))
    assert _other_arm(rows, R1) == [B1], "b2 started after r1 ended, b3 is proprietary"
    assert _other_arm(rows, B1) == [R1]
    assert _other_arm(rows, B2) == []
    red_to_blue = next(r for r in rows if r["ID"] == _did(R1) and r["semantics"] == "#auxiliary")
    assert "Kast Blue" in red_to_blue["description"]
    assert red_to_blue["content_type"] == "application/fits" and red_to_blue["link_authorized"] == "T"
    assert int(red_to_blue["content_length"]) == night["b1"].stat().st_size
    ids = [r["ID"] for r in rows]
    assert ids == sorted(ids, key=ids.index), "the rows of one ID stay together"


def test_a_proprietary_other_arm_is_linked_only_for_those_who_may_see_it(client, night):
    from vo_services.datalink.links import links_for

    rows, _ = _links(client, _did(R1))
    assert _other_arm(rows, R1) == [B1] and "shane/b3" not in str(rows)
    for principals, seen in (((), [B1]), (("user:bob",), [B1]), (("user:ada",), [B1, B3]), (("role:staff",), [B1, B3])):
        auxiliary = [link.access_url for link in links_for([_did(R1)], principals) if link.semantics == "#auxiliary"]
        assert [url.split("/datalink/download/", 1)[1] for url in auxiliary] == seen, principals


def test_only_kast_frames_have_an_other_arm(client, night, archive_root):
    sharcs = "1998-07/07/AO/s0001"
    ingest_batch([write_sample(SAMPLES["sharcs_1"], archive_root, rel_path=f"{sharcs}.fits")], root=archive_root)
    with engine("owner").begin() as conn:  # ingested as 'Unknown' (a 1998 night): a ShARCS frame while r1 exposed
        conn.exec_driver_sql("UPDATE lick.observation s SET instrument = 'ShaneAO/ShARCS', telescope = r.telescope, "
                             "observing_night = r.observing_night, t_min = r.t_min "
                             "FROM lick.observation r WHERE r.obs_id = %s AND s.obs_id = %s", (R1, sharcs))
    rows, _ = _links(client, _did(sharcs), _did(R1))
    own = [r for r in rows if r["ID"] == _did(sharcs)]
    assert [r["semantics"] for r in own] == ["#this", "#preview", "#detached-header", "#cutout"]
    assert "ShARCS" in own[0]["description"] and own[3]["service_def"] == "soda_1"
    assert _other_arm(rows, R1) == [B1]


def test_a_frame_timed_by_its_directory_is_no_other_arm(client, night):
    """A frame without a usable date was given noon of its night: no telling what it was exposed with."""
    from ingest.flags import IngestFlag

    assert _other_arm(_links(client, _did(R1))[0], R1) == [B1]
    with engine("owner").begin() as conn:
        conn.exec_driver_sql("UPDATE lick.observation SET ingest_flags = ingest_flags | %s WHERE obs_id = %s",
                             (int(IngestFlag.DATE_FROM_DIRECTORY), B1))
    rows, _ = _links(client, _did(R1), _did(B1))
    assert _other_arm(rows, R1) == [] and _other_arm(rows, B1) == []


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


def test_previews_are_pngs_of_the_data(client, night, tmp_path, archive_root):
    import numpy as np
    from astropy.io import fits

    from ingest.previews import make_preview

    image = tmp_path / "image.fits"
    fits.PrimaryHDU(np.random.default_rng(1).normal(100, 10, (300, 200)).astype("f4")).writeto(image)
    spectrum = tmp_path / "spectrum.fits"
    fits.PrimaryHDU(np.tile(np.linspace(0, 1, 500), (20, 1)).astype("f4")).writeto(spectrum)
    for path, kind in ((image, "image"), (spectrum, "spectrum")):
        data = make_preview(path, kind)
        assert data.startswith(b"\x89PNG\r\n\x1a\n") and b"IEND" in data[-12:]
    readable = write_sample(SAMPLES["kast_red_1"], archive_root, rel_path="1998-07/07/shane/r4.fits", end=True)
    ingest_batch([readable], root=archive_root)
    served = client.get("/datalink/preview/1998-07/07/shane/r4")
    assert served.status_code == 200 and served["Content-Type"] == "image/png"
    assert served.content == make_preview(readable, "spectrum")
    # the samples' headers lack END, so astropy cannot find r1's data: a NotFoundFault that says so
    unreadable = client.get("/datalink/preview/1998-07/07/shane/r1")
    assert unreadable.status_code == 404 and b"cannot be read" in unreadable.content
    assert client.get("/datalink/preview/1998-07/07/shane/r3").status_code == 401  # proprietary


def test_first_requests_at_once_all_get_the_whole_preview(tmp_path):
    """Workers asked for the same new preview at the same moment each make it; none may fail or
    leave a torn PNG in the cache (each writes its own temporary file)."""
    import threading

    import numpy as np
    from astropy.io import fits

    from ingest.previews import cached_preview, make_preview

    image = tmp_path / "image.fits"
    fits.PrimaryHDU(np.random.default_rng(2).normal(100, 10, (1024, 1024)).astype("f4")).writeto(image)
    expected = make_preview(image, "image")
    cache = tmp_path / "previews"
    for _ in range(5):
        shutil.rmtree(cache, ignore_errors=True)
        start = threading.Barrier(6)
        served, errors = [], []

        def ask():
            start.wait()
            try:
                served.append(cached_preview(cache, "2020-01/01/shane/r1", image, "image"))
            except Exception as exc:  # noqa: BLE001  (the failure is what the test looks for)
                errors.append(exc)

        threads = [threading.Thread(target=ask) for _ in range(6)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert errors == [] and served == [expected] * 6
        assert (cache / "2020-01/01/shane/r1.png").read_bytes() == expected
        assert [p.name for p in cache.rglob("*") if p.is_file()] == ["r1.png"]


def test_ids_over_the_cap_are_left_out_whole_with_overflow(client, night, monkeypatch):
    """DataLink 1.1 §2.1.1: the first IDs up to the cap, each with all its rows, then OVERFLOW."""
    import vo_services.datalink.views

    monkeypatch.setattr(vo_services.datalink.views, "MAX_IDS", 2)
    ids = [_did(R1), "ivo://nowhere?x", _did(B1)]
    response = client.get("/datalink/links", {"ID": ids})
    root = ET.fromstring(b"".join(response.streaming_content))
    answered = [tr[0].text for tr in root.iter(f"{VOT}TR")]
    assert set(answered) == set(ids[:2]) and answered.count(_did(R1)) == 5
    statuses = [i.get("value") for i in root.iter(f"{VOT}INFO") if i.get("name") == "QUERY_STATUS"]
    assert statuses == ["OK", "OVERFLOW"]
    monkeypatch.setattr(vo_services.datalink.views, "MAX_IDS", 3)
    rows, infos = _links(client, *ids)
    assert {r["ID"] for r in rows} == set(ids) and infos["QUERY_STATUS"] == "OK"
