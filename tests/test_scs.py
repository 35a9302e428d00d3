"""Simple Cone Search against the real database, through pyvo and STILTS votlint."""
from __future__ import annotations

import shutil
import subprocess
import urllib.request
import xml.etree.ElementTree as ET
from datetime import datetime, timedelta, timezone

import pytest
import pyvo

from tests.test_schema import DELETE_MINE, _insert_observation

pytestmark = pytest.mark.django_db(transaction=True)
VOT = "{http://www.ivoa.net/xml/VOTable/v1.3}"


@pytest.fixture
def cone_rows(owner_conn):
    public = datetime(2020, 1, 1, tzinfo=timezone.utc)
    for i, (ra, dec) in enumerate([(210.0, -10.0), (210.05, -9.98), (210.3, -10.0), (10.0, -5.0)]):
        _insert_observation(owner_conn, f"2020-01/01/nickel/c{i}", public, ra=ra, dec=dec)
    _insert_observation(owner_conn, "2026-01/01/nickel/secret", datetime.now(timezone.utc) + timedelta(days=99),
                        ra=210.01, dec=-9.99)
    owner_conn.commit()
    yield
    with owner_conn.cursor() as cur:
        cur.execute(DELETE_MINE)
    owner_conn.commit()


def test_pyvo_cone_search_finds_public_rows_only(live_server, cone_rows):
    results = pyvo.dal.SCSService(f"{live_server.url}/scs?").search(pos=(210.0, -10.0), radius=0.1)
    ids = sorted(str(x) for x in results["obs_publisher_did"])
    assert ids == ["ivo://test?2020-01/01/nickel/c0", "ivo://test?2020-01/01/nickel/c1"]
    assert results.fieldname_with_ucd("POS_EQ_RA_MAIN") == "s_ra"
    assert results.fieldname_with_ucd("ID_MAIN") == "obs_publisher_did"


def test_verb_levels_and_metadata_only(client, cone_rows):
    def fields(query):
        root = ET.fromstring(b"".join(client.get("/scs?" + query).streaming_content))
        return [f.get("name") for f in root.iter(f"{VOT}FIELD")], root.findall(f".//{VOT}TR")

    names1, rows1 = fields("RA=210&DEC=-10&SR=0.5&VERB=1")
    names3, rows3 = fields("RA=210&DEC=-10&SR=0.5&VERB=3")
    assert names1 == ["obs_publisher_did", "s_ra", "s_dec"] and len(rows1) == 3
    assert len(names3) > 30 and len(rows3) == 3
    names0, rows0 = fields("ra=210&dec=-10&sr=0")
    assert names0 and not rows0


@pytest.mark.parametrize("query, message", [
    ("DEC=20&SR=0.1", "RA parameter is missing"),
    ("RA=abc&DEC=20&SR=0.1", "RA must be a number"),
    ("RA=150&DEC=91&SR=0.1", "DEC must be between"),
    ("RA=150&DEC=20&SR=45", "SR must be between"),
])
def test_bad_parameters_give_the_scs_error_votable(client, query, message):
    response = client.get("/scs?" + query)
    assert response.status_code == 400 and response["Content-Type"].startswith("text/xml")
    root = ET.fromstring(response.content)
    errors = [i for i in root.iter(f"{VOT}INFO") if i.get("name") == "Error"]
    assert len(errors) == 1 and message in errors[0].get("value")
    assert errors[0] in list(root)  # a child of VOTABLE (SCS 1.03 Erratum 1)
    status = [i for i in root.iter(f"{VOT}INFO") if i.get("name") == "QUERY_STATUS"]
    assert len(status) == 1 and status[0].get("value") == "ERROR" and message in status[0].text  # DALI §4.4.2


@pytest.mark.skipif(shutil.which("stilts") is None, reason="STILTS is not installed (scripts/setup.sh installs it)")
def test_votlint_finds_nothing_wrong(live_server, cone_rows, tmp_path):
    path = tmp_path / "cone.xml"
    path.write_bytes(urllib.request.urlopen(f"{live_server.url}/scs?RA=210&DEC=-10&SR=0.5&VERB=3").read())
    out = subprocess.run(["stilts", "votlint", f"votable={path}"], capture_output=True, text=True, timeout=120)
    problems = [line for line in (out.stdout + out.stderr).splitlines() if "ERROR" in line or "WARNING" in line]
    assert problems == [], "\n".join(problems)


def test_capabilities_declare_the_cone_search(client):
    root = ET.fromstring(client.get("/scs/capabilities").content)
    cone = [c for c in root.findall("capability") if c.get("standardID") == "ivo://ivoa.net/std/ConeSearch"]
    assert len(cone) == 1
    assert cone[0].get("{http://www.w3.org/2001/XMLSchema-instance}type") == "cs:ConeSearch"
    assert float(cone[0].findtext("maxSR")) == 10.0
    assert cone[0].find("testQuery/ra") is not None
    assert client.get("/scs/availability").status_code == 200


def test_results_carry_a_datalink_service_descriptor(client, cone_rows):
    root = ET.fromstring(b"".join(client.get("/scs?RA=210&DEC=-10&SR=0.1").streaming_content))
    service = [r for r in root.iter(f"{VOT}RESOURCE") if r.get("utype") == "adhoc:service"]
    assert len(service) == 1
    params = {p.get("name"): p for p in service[0].iter(f"{VOT}PARAM")}
    assert params["standardID"].get("value") == "ivo://ivoa.net/std/DataLink#links-1.1"
    field_ids = {f.get("ID") for f in root.iter(f"{VOT}FIELD")}
    assert params["ID"].get("ref") in field_ids


@pytest.mark.parametrize("verb", ["1", "2", "3"])
def test_prepared_and_cursor_paths_agree(client, cone_rows, verb):
    """Up to the default MAXREC a cone runs as a prepared statement, read whole; above it from a
    server-side cursor. Both find the same rows."""
    def search(maxrec):
        body = b"".join(client.get(f"/scs?RA=210&DEC=-10&SR=0.5&VERB={verb}&MAXREC={maxrec}").streaming_content)
        root = ET.fromstring(body)
        rows = sorted(tuple(td.text for td in tr) for tr in root.iter(f"{VOT}TR"))
        return rows, [i.get("value") for i in root.iter(f"{VOT}INFO") if i.get("name") == "QUERY_STATUS"]

    for _ in range(3):  # the prepared statement's first use on a connection, and its reuse
        prepared = search(20_000)
        assert prepared == search(50_000) and len(prepared[0]) == 3 and prepared[1] == ["OK"]
    rows, status = search(2)
    assert status == ["OK", "OVERFLOW"] and len(rows) == 2
