"""TAP sync queries end to end: Django views, the translator, the database, the encoders, pyvo."""
from __future__ import annotations

import io
import xml.etree.ElementTree as ET
from datetime import datetime, timedelta, timezone

import pytest
import pyvo
from astropy.io.votable import parse_single_table

from tests.test_schema import DELETE_MINE, _insert_observation

pytestmark = pytest.mark.django_db(transaction=True)
VOT = "{http://www.ivoa.net/xml/VOTable/v1.3}"


@pytest.fixture
def rows(owner_conn):
    public = datetime(2020, 1, 1, tzinfo=timezone.utc)
    for i in range(30):
        _insert_observation(owner_conn, f"2020-01/01/nickel/t{i:02d}", public, ra=150 + i * 0.01, dec=20.0)
    _insert_observation(owner_conn, "2026-01/01/nickel/hidden", datetime.now(timezone.utc) + timedelta(days=9),
                        ra=150.001, dec=20.0)
    owner_conn.commit()
    yield
    with owner_conn.cursor() as cur:
        cur.execute(DELETE_MINE)
    owner_conn.commit()


def _sync(client, method="get", **params):
    response = getattr(client, method)("/tap/sync", {"LANG": "ADQL", **params})
    body = b"".join(response.streaming_content) if response.streaming else response.content
    return response, body


def test_cone_query_returns_public_rows_with_metadata(client, rows):
    response, body = _sync(client, QUERY="SELECT obs_id, s_ra, t_min FROM ivoa.obscore WHERE "
                                         "1 = CONTAINS(POINT('ICRS', s_ra, s_dec), CIRCLE('ICRS', 150, 20, 0.05)) "
                                         "AND obs_id LIKE '20%/01/nickel/%'")
    assert response.status_code == 200 and response["Content-Type"] == "application/x-votable+xml"
    table = parse_single_table(io.BytesIO(body))
    assert sorted(table.array["obs_id"])[:2] == ["2020-01/01/nickel/t00", "2020-01/01/nickel/t01"]
    assert "2026-01/01/nickel/hidden" not in list(table.array["obs_id"])
    assert table.get_field_by_id_or_name("s_ra").unit == "deg"
    assert table.get_field_by_id_or_name("s_ra").ucd == "pos.eq.ra"


def test_maxrec_overflow_and_top(client, rows):
    _, body = _sync(client, QUERY="SELECT obs_id FROM ivoa.obscore", MAXREC="5")
    root = ET.fromstring(body)
    assert len(root.findall(f".//{VOT}TR")) == 0  # BINARY2 by default: count from astropy instead
    table = parse_single_table(io.BytesIO(body))
    assert len(table.array) == 5
    infos = [i.get("value") for i in root.iter(f"{VOT}INFO") if i.get("name") == "QUERY_STATUS"]
    assert infos == ["OK", "OVERFLOW"]
    _, body = _sync(client, QUERY="SELECT TOP 3 obs_id FROM ivoa.obscore", MAXREC="5")
    infos = [i.get("value") for i in ET.fromstring(body).iter(f"{VOT}INFO") if i.get("name") == "QUERY_STATUS"]
    assert infos == ["OK"], "TOP below MAXREC is not an overflow (TAP 1.1 §2.7.4)"


@pytest.mark.parametrize("fmt, content_type, start", [
    ("csv", "text/csv;header=present", b"obs_id"),
    ("text/csv", "text/csv", b"obs_id"),
    ("tsv", "text/tab-separated-values", b"obs_id"),
    ("votable/td", "application/x-votable+xml;serialization=TABLEDATA", b"<?xml"),
    ("fits", "application/fits", b"SIMPLE"),
    ("json", "application/json", b"{"),
])
def test_output_formats(client, rows, fmt, content_type, start):
    response, body = _sync(client, method="post", QUERY="SELECT TOP 2 obs_id FROM ivoa.obscore", RESPONSEFORMAT=fmt)
    assert response.status_code == 200
    assert response["Content-Type"].split(";charset")[0] == content_type
    assert body.startswith(start)


@pytest.mark.parametrize("params, status, message", [
    ({"QUERY": "SELECT FROMM ivoa.obscore"}, 400, "line 1"),
    ({"QUERY": "SELECT nope FROM ivoa.obscore"}, 400, "nope"),
    ({"QUERY": "SELECT * FROM pg_catalog.pg_tables"}, 400, "pg_catalog"),
    ({"QUERY": "SELECT 1; DROP TABLE lick.observation"}, 400, ""),
    ({"QUERY": "SELECT TOP 1 * FROM ivoa.obscore", "LANG": "OOBLECK"}, 400, "OOBLECK"),
    ({"QUERY": "SELECT TOP 1 * FROM ivoa.obscore", "RESPONSEFORMAT": "image/gif"}, 400, "RESPONSEFORMAT"),
    ({"QUERY": "SELECT TOP 1 * FROM ivoa.obscore", "MAXREC": "many"}, 400, "MAXREC"),
    ({"QUERY": ""}, 400, "QUERY"),
    ({"QUERY": "SELECT 1/0 AS x FROM ivoa.obscore"}, 400, "division by zero"),
])
def test_errors_are_votable_documents(client, rows, params, status, message):
    response, body = _sync(client, **params)
    assert response.status_code == status
    assert response["Content-Type"].startswith("application/x-votable+xml")
    info = [i for i in ET.fromstring(body).iter(f"{VOT}INFO") if i.get("name") == "QUERY_STATUS"]
    assert len(info) == 1 and info[0].get("value") == "ERROR" and message in (info[0].text or "")


def test_parameters_are_case_insensitive_and_spurious_ones_ignored(client, rows):
    response = client.get("/tap/sync", {"query": "SELECT TOP 1 obs_id FROM ivoa.obscore", "lang": "ADQL-2.1",
                                        "responseformat": "csv", "DUMMY": "ignore-me", "REQUEST": "doQuery"})
    body = b"".join(response.streaming_content)
    assert response.status_code == 200 and body.count(b"\n") == 2


def test_pyvo_search_with_maxrec(live_server, rows):
    service = pyvo.dal.TAPService(f"{live_server.url}/tap")
    result = service.search("SELECT obs_id, s_ra, s_dec FROM ivoa.obscore ORDER BY obs_id", maxrec=10)
    assert len(result) == 10 and result[0]["obs_id"] == "2020-01/01/nickel/t00"
    tables = {t.name for t in service.tables}
    assert {"ivoa.obscore", "lick.observations", "tap_schema.columns"} <= tables


def test_tap_schema_and_count_as_topcat_asks(client, rows):
    response, body = _sync(client, QUERY="SELECT COUNT(*) AS nrow FROM TAP_SCHEMA.columns", RESPONSEFORMAT="csv")
    assert response.status_code == 200 and int(body.split()[1]) > 60


def test_the_hidden_row_leaves_no_trace_in_aggregates(client, rows):
    _, body = _sync(client, QUERY="SELECT COUNT(*) AS n, MAX(obs_id) AS latest FROM ivoa.obscore "
                                  "WHERE obs_id LIKE '2020-01/01/nickel/t%' OR obs_id = '2026-01/01/nickel/hidden'",
                    RESPONSEFORMAT="csv")
    n, latest = body.decode().splitlines()[1].split(",")
    assert n == "30" and latest == "2020-01/01/nickel/t29"


def _votable_bytes(table) -> bytes:
    import io as _io

    from astropy.io.votable import from_table

    out = _io.BytesIO()
    from_table(table).to_xml(out)
    return out.getvalue()


def test_inline_upload_joins_the_archive(client, rows):
    from astropy.table import Table
    from django.core.files.uploadedfile import SimpleUploadedFile

    mine = Table({"target": ["a", "b"], "ra": [150.0, 10.0], "dec": [20.0, -5.0], "n": [1, 2]})
    response = client.post("/tap/sync", {
        "LANG": "ADQL", "RESPONSEFORMAT": "csv", "UPLOAD": "mine,param:part1",
        "QUERY": "SELECT m.target, o.obs_id FROM TAP_UPLOAD.mine AS m JOIN ivoa.obscore AS o "
                 "ON 1 = CONTAINS(POINT('ICRS', o.s_ra, o.s_dec), CIRCLE('ICRS', m.ra, m.dec, 0.015)) "
                 "WHERE o.obs_id LIKE '20%/01/nickel/%' ORDER BY o.obs_id",
        "part1": SimpleUploadedFile("mine.xml", _votable_bytes(mine), "application/x-votable+xml"),
    })
    body = b"".join(response.streaming_content).decode()
    assert response.status_code == 200, body
    lines = body.splitlines()
    assert lines[0] == "target,obs_id" and lines[1:] == ["a,2020-01/01/nickel/t00", "a,2020-01/01/nickel/t01"]
    assert "hidden" not in body, "an upload join sees only visible rows"


@pytest.mark.parametrize("upload, message", [
    ("mine,param:nothere", "no such multipart part"),
    ("mine,ftp://example.org/x", "or an http(s) URL"),
    ("1bad,param:part1", "name like"),
])
def test_bad_uploads_are_refused_with_a_reason(client, rows, upload, message):
    response = client.post("/tap/sync", {"LANG": "ADQL", "UPLOAD": upload,
                                         "QUERY": "SELECT * FROM TAP_UPLOAD.mine"})
    assert response.status_code == 400 and message in response.content.decode()


def test_pyvo_uploads_an_astropy_table(live_server, rows):
    from astropy.table import Table

    service = pyvo.dal.TAPService(f"{live_server.url}/tap")
    mine = Table({"ra": [150.0], "dec": [20.0]})
    result = service.search("SELECT COUNT(*) AS n FROM TAP_UPLOAD.t AS t JOIN ivoa.obscore AS o "
                            "ON DISTANCE(POINT(t.ra, t.dec), POINT(o.s_ra, o.s_dec)) < 0.05 "
                            "WHERE o.obs_id LIKE '20%/01/nickel/%'", uploads={"t": mine})
    assert result["n"][0] == 6  # t00..t05: 0.01 deg steps in RA are 0.0094 deg on the sky at Dec 20
