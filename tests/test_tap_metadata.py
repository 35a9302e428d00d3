"""TAP's metadata endpoints (VOSI, examples) through Django's test client, on the real database."""
from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from archive.published import PUBLISHED_TABLES

VS = "{http://www.ivoa.net/xml/VODataService/v1.1}"
XSI = "{http://www.w3.org/2001/XMLSchema-instance}"

pytestmark = pytest.mark.django_db(transaction=True)


def test_tables_list_every_published_column_like_tap_schema(client, query_conn):
    response = client.get("/tap/tables")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/xml")
    root = ET.fromstring(response.content)
    assert root.tag == "{http://www.ivoa.net/xml/VOSITables/v1.0}tableset"
    listed = {t.findtext("name"): t for s in root.findall("schema") for t in s.findall("table")}
    assert set(listed) == {t.qualified_name for t in PUBLISHED_TABLES}
    with query_conn.cursor() as cur:
        cur.execute("SELECT table_name, column_name, datatype, arraysize, unit, ucd "
                    "FROM tap_schema.columns ORDER BY table_name, column_index")
        tap_schema = cur.fetchall()
    vosi = []
    for name, table in sorted(listed.items()):
        for column in table.findall("column"):
            datatype = column.find("dataType")
            assert datatype.get(f"{XSI}type") == "vs:VOTableType"
            vosi.append((name, column.findtext("name"), datatype.text, datatype.get("arraysize"),
                         column.findtext("unit"), column.findtext("ucd")))
    assert sorted(vosi) == sorted(tap_schema)


def test_tables_detail_min_and_one_table(client):
    root = ET.fromstring(client.get("/tap/tables?detail=min").content)
    assert not root.findall(".//column") and root.findall(".//table")
    one = client.get("/tap/tables/ivoa.ObsCore")
    assert one.status_code == 200
    table = ET.fromstring(one.content)
    assert table.findtext("name") == "ivoa.obscore" and len(table.findall("column")) >= 30
    assert client.get("/tap/tables/nope.nothing").status_code == 404


def test_availability_probes_the_database_and_redis(client):
    root = ET.fromstring(client.get("/tap/availability").content)
    assert root.tag == "{http://www.ivoa.net/xml/VOSIAvailability/v1.0}availability"
    assert root.findtext("{http://www.ivoa.net/xml/VOSIAvailability/v1.0}available") == "true"


def test_vosi_resources_refuse_post(client):
    assert client.post("/tap/tables").status_code == 405
    assert client.post("/tap/availability").status_code == 405


def test_examples_are_well_formed_xhtml_with_rdfa(client):
    response = client.get("/tap/examples")
    assert response.status_code == 200
    root = ET.fromstring(response.content)  # DALI §2.3: well-formed XML
    body = root.find("{http://www.w3.org/1999/xhtml}body")
    assert body.get("vocab") == "http://www.ivoa.net/rdf/examples#"
    examples = [e for e in root.iter() if e.get("typeof") == "example"]
    assert len(examples) >= 5
    for example in examples:
        assert example.get("resource") == "#" + example.get("id")
        queries = [e for e in example.iter() if e.get("property") == "query"]
        assert len(queries) == 1 and queries[0].text.strip().upper().startswith("SELECT")


def test_base_url_is_a_human_readable_page(client):
    for url in ("/tap", "/tap/"):
        response = client.get(url)
        assert response.status_code == 200 and b"ADQL" in response.content
