"""The leak suite: proprietary data reach nobody without the right, on any path.

Three callers (anonymous; bob, who observes for another program; alice, who observes for the
owning program) run the same adversarial requests. For the two outsiders not one byte that
identifies a proprietary file may come back (its target name, its obs_id, its header or data),
and aggregates must come out as if the files did not exist; alice's answers show the same
requests do reach the files, so that each check could fail. See tests/proprietary_world.py.
"""
from __future__ import annotations

import csv
import io
import urllib.parse
import xml.etree.ElementTree as ET
from datetime import datetime, timezone
from functools import partial

import pytest
import requests

from tests import proprietary_world

pytestmark = pytest.mark.django_db
OUTSIDERS = (None, "bob")
MARKERS = ("leaksecret", "shane/leak1", "shane/leak2", "shane/leak3")
IN_WORLD = "t_exptime = 4242.5"  # only the test world's four rows have this exposure time
IN_WORLD_L = "exptime = 4242.5"  # the same in lick.observations
CONE = "1 = CONTAINS(POINT('ICRS', s_ra, s_dec), CIRCLE('ICRS', 321.5, -45, 0.05))"
VOT = "{http://www.ivoa.net/xml/VOTable/v1.3}"


def leaked(body: bytes) -> list[str]:
    text = body.decode("utf-8", "replace").lower()
    return [m for m in MARKERS if m in text]


def tap(client, world, who, query: str, **extra) -> tuple[int, bytes]:
    response = client.post("/tap/sync", {"LANG": "ADQL", "QUERY": query, "FORMAT": "csv", **extra},
                           **world.headers(who))
    body = b"".join(response.streaming_content) if response.streaming else response.content
    return response.status_code, body


def scalar(body: bytes) -> str:
    rows = list(csv.reader(io.StringIO(body.decode())))
    assert len(rows) == 2, body[:500]
    return rows[1][0]


# Each query returns rows that name the proprietary files when the rule is broken (and for alice).
ROW_QUERIES = {
    "plain": "SELECT * FROM ivoa.obscore WHERE target_name LIKE 'LEAK%'",
    "other view": "SELECT * FROM lick.observations WHERE target_name LIKE 'LEAK%'",
    "by obs_id": "SELECT obs_id FROM ivoa.obscore WHERE obs_id LIKE '2003-03/03/shane/leak%'",
    "by did": "SELECT obs_publisher_did, access_url FROM ivoa.obscore WHERE obs_publisher_did LIKE '%shane/leak_'",
    "join": "SELECT o.obs_id, l.target_name FROM ivoa.obscore AS o JOIN lick.observations AS l "
            "ON o.obs_id = l.obs_id WHERE l.target_name LIKE 'LEAK%'",
    "self join": "SELECT a.target_name, b.obs_id FROM ivoa.obscore AS a, ivoa.obscore AS b "
                 f"WHERE a.obs_id = b.obs_id AND a.{IN_WORLD}",
    "left join": "SELECT p.target_name, s.target_name FROM ivoa.obscore AS p LEFT OUTER JOIN "
                 "lick.observations AS s ON s.exptime = p.t_exptime WHERE p.target_name = 'LEAKPUBLIC'",
    "IN subquery": "SELECT target_name FROM ivoa.obscore WHERE obs_id IN "
                   "(SELECT obs_id FROM lick.observations WHERE target_name LIKE 'LEAKSECRET%')",
    "EXISTS": "SELECT o.target_name FROM ivoa.obscore AS o WHERE EXISTS "
              f"(SELECT 1 FROM lick.observations AS l WHERE l.obs_id = o.obs_id AND l.{IN_WORLD_L})",
    "scalar subquery": "SELECT (SELECT MAX(target_name) FROM lick.observations WHERE "
                       f"{IN_WORLD_L}) AS t FROM ivoa.obscore WHERE target_name = 'LEAKPUBLIC'",
    "derived table": f"SELECT * FROM (SELECT target_name, t_exptime FROM ivoa.obscore) AS s WHERE s.{IN_WORLD}",
    "UNION": "SELECT target_name FROM ivoa.obscore WHERE target_name = 'LEAKPUBLIC' UNION "
             "SELECT target_name FROM lick.observations WHERE target_name LIKE 'LEAKSECRET%'",
    "UNION ALL": f"SELECT obs_id FROM ivoa.obscore WHERE {IN_WORLD} UNION ALL "
                 f"SELECT obs_id FROM lick.observations WHERE {IN_WORLD_L}",
    "INTERSECT": "SELECT target_name FROM ivoa.obscore INTERSECT "
                 "SELECT target_name FROM lick.observations WHERE target_name LIKE 'LEAK%'",
    "EXCEPT": f"SELECT target_name FROM ivoa.obscore WHERE {IN_WORLD} EXCEPT "
              "SELECT target_name FROM ivoa.obscore WHERE target_name = 'NOTHING'",
    "WITH": f"WITH s AS (SELECT * FROM ivoa.obscore WHERE {IN_WORLD}) SELECT target_name, obs_id FROM s",
    "cone": f"SELECT target_name FROM ivoa.obscore WHERE {CONE}",
    "reversed cone": "SELECT target_name FROM ivoa.obscore WHERE "
                     "CONTAINS(POINT('ICRS', s_ra, s_dec), CIRCLE('ICRS', 321.5, -45, 0.05)) = 1",
    "DISTANCE": "SELECT target_name FROM ivoa.obscore WHERE "
                "DISTANCE(POINT('ICRS', s_ra, s_dec), POINT('ICRS', 321.5, -45)) < 0.05",
    "INTERSECTS": "SELECT target_name FROM ivoa.obscore WHERE "
                  "1 = INTERSECTS(CIRCLE('ICRS', s_ra, s_dec, 0.01), CIRCLE('ICRS', 321.5, -45, 0.05))",
    "GROUP BY": f"SELECT target_name, COUNT(*) FROM ivoa.obscore WHERE {IN_WORLD} GROUP BY target_name",
    "HAVING": "SELECT target_name FROM ivoa.obscore GROUP BY target_name HAVING MAX(t_exptime) = 4242.5",
    "ORDER BY": f"SELECT TOP 2 target_name FROM ivoa.obscore WHERE {IN_WORLD} ORDER BY s_ra",
    "OFFSET 1": f"SELECT target_name FROM ivoa.obscore WHERE {IN_WORLD} ORDER BY s_ra OFFSET 1",
    "OFFSET 3": f"SELECT target_name FROM ivoa.obscore WHERE {IN_WORLD} ORDER BY s_ra DESC OFFSET 1",
    "whole table": "SELECT obs_id, target_name FROM ivoa.obscore",
    "LOWER/ILIKE": "SELECT LOWER(target_name) FROM ivoa.obscore WHERE target_name ILIKE 'leak%'",
    "UPPER": f"SELECT UPPER(obs_id) FROM ivoa.obscore WHERE {IN_WORLD}",
    "COALESCE": f"SELECT COALESCE(target_name, obs_id) FROM lick.observations WHERE {IN_WORLD_L}",
    "CAST to text": "SELECT CAST(t_exptime AS CHAR(12)), target_name FROM ivoa.obscore WHERE target_name LIKE 'LEAK%'",
}

# Aggregates over the test world: outsiders must get the value of the public file alone.
SCALAR_QUERIES = {
    "COUNT": (f"SELECT COUNT(*) FROM ivoa.obscore WHERE {IN_WORLD}", "1", "4"),
    "COUNT DISTINCT": ("SELECT COUNT(DISTINCT target_name) FROM ivoa.obscore WHERE target_name LIKE 'LEAK%'",
                       "1", "4"),
    "MIN": (f"SELECT MIN(s_ra) FROM ivoa.obscore WHERE {IN_WORLD}", "321.503", "321.5"),
    "MAX name": (f"SELECT MAX(target_name) FROM lick.observations WHERE {IN_WORLD_L}", "LEAKPUBLIC", "LEAKSECRET-3"),
    "SUM": (f"SELECT SUM(t_exptime) FROM ivoa.obscore WHERE {IN_WORLD}", "4242.5", "16970.0"),
    "cone COUNT": (f"SELECT COUNT(*) FROM ivoa.obscore WHERE {CONE}", "1", "4"),
    "join COUNT": ("SELECT COUNT(*) FROM ivoa.obscore AS o JOIN lick.observations AS l ON o.obs_id = l.obs_id "
                   f"WHERE l.{IN_WORLD_L}", "1", "4"),
    "subquery COUNT": (f"SELECT COUNT(*) FROM (SELECT obs_id FROM lick.observations WHERE {IN_WORLD_L}) AS s",
                       "1", "4"),
}

# Expressions that fail on a proprietary value: outsiders never reach one, so no error names it.
ERROR_QUERIES = {
    "CAST fails": "SELECT CAST(target_name AS INTEGER) FROM ivoa.obscore WHERE target_name LIKE 'LEAKSECRET%'",
    # 1 / 0 exactly on the first proprietary file (s_ra 321.500), never on the public one (321.503)
    "error in WHERE": f"SELECT obs_id FROM ivoa.obscore WHERE {IN_WORLD} AND 1 / (FLOOR(s_ra * 1000) - 321500) > -10",
    "error in ORDER BY": f"SELECT obs_id FROM ivoa.obscore WHERE {IN_WORLD} ORDER BY 1 / (FLOOR(s_ra * 1000) - 321500)",
    "division by zero": "SELECT 1 / (t_exptime - 4242.5) FROM ivoa.obscore WHERE target_name LIKE 'LEAKSECRET%'",
    "error in join": "SELECT o.obs_id FROM ivoa.obscore AS o JOIN lick.observations AS l ON l.obs_id = o.obs_id "
                     "WHERE l.exptime = 4242.5 AND 1 / (FLOOR(l.s_ra * 1000) - 321500) > -10",
}


@pytest.mark.parametrize("name", ROW_QUERIES)
def test_rows(client, world, name):
    query = ROW_QUERIES[name]
    for who in OUTSIDERS:
        status, body = tap(client, world, who, query)
        assert status == 200, body[:500]
        assert leaked(body) == [], f"{name} as {who or 'anonymous'}"
    status, body = tap(client, world, "alice", query)
    assert status == 200 and leaked(body), f"{name}: the owner must see the files, or this check proves nothing"


@pytest.mark.parametrize("name", SCALAR_QUERIES)
def test_aggregates(client, world, name):
    query, outsider, member = SCALAR_QUERIES[name]
    for who in OUTSIDERS:
        status, body = tap(client, world, who, query)
        assert status == 200 and scalar(body) == outsider, f"{name} as {who or 'anonymous'}: {body[:300]}"
    assert scalar(tap(client, world, "alice", query)[1]) == member


@pytest.mark.parametrize("name", ERROR_QUERIES)
def test_errors_name_no_hidden_value(client, world, name):
    query = ERROR_QUERIES[name]
    outcomes = []
    for who in (*OUTSIDERS, "alice"):
        status, body = tap(client, world, who, query)
        outcomes.append((status, leaked(body)))
        if who != "alice":
            assert leaked(body) == [], f"{name} as {who or 'anonymous'}: {body[:400]}"
    assert outcomes[2] != outcomes[0], f"{name}: alice's outcome should differ (the control)"


def test_counting_the_whole_table(client, world):
    counts = {who: int(scalar(tap(client, world, who, "SELECT COUNT(*) FROM ivoa.obscore")[1]))
              for who in (None, "bob", "alice", "carol")}
    assert counts[None] == counts["bob"] and counts["alice"] == counts[None] + 3
    assert counts["carol"] >= counts["alice"]  # staff see everything


def test_paging_with_offset(client, world):
    pages = {}
    for who in (None, "bob", "alice"):
        seen = []
        for offset in range(0, 6):
            body = tap(client, world, who, f"SELECT TOP 1 target_name FROM ivoa.obscore WHERE {IN_WORLD} "
                                           f"ORDER BY s_ra OFFSET {offset}")[1]
            seen += list(csv.reader(io.StringIO(body.decode())))[1:]
        pages[who] = [r[0] for r in seen]
    assert pages[None] == pages["bob"] == ["LEAKPUBLIC"]
    assert pages["alice"] == ["LEAKSECRET-1", "LEAKSECRET-2", "LEAKSECRET-3", "LEAKPUBLIC"]


def _upload_table(obs_ids: list[str]) -> bytes:
    rows = "".join(f"<TR><TD>{i}</TD></TR>" for i in obs_ids)
    return (f'<?xml version="1.0"?><VOTABLE version="1.4" xmlns="http://www.ivoa.net/xml/VOTable/v1.3">'
            f'<RESOURCE><TABLE><FIELD name="wanted" datatype="char" arraysize="*"/>'
            f"<DATA><TABLEDATA>{rows}</TABLEDATA></DATA></TABLE></RESOURCE></VOTABLE>").encode()


def test_tap_upload_join(client, world):
    from django.core.files.uploadedfile import SimpleUploadedFile

    query = ("SELECT o.target_name, o.t_exptime FROM TAP_UPLOAD.guess AS u "
             "JOIN ivoa.obscore AS o ON o.obs_id = u.wanted")
    results = {}
    for who in (*OUTSIDERS, "alice"):
        upload = SimpleUploadedFile("t.vot", _upload_table([*world.secret_ids, world.public_id]),
                                    "application/x-votable+xml")
        response = client.post("/tap/sync", {"LANG": "ADQL", "QUERY": query, "FORMAT": "csv",
                                             "UPLOAD": "guess,param:t", "t": upload}, **world.headers(who))
        body = b"".join(response.streaming_content) if response.streaming else response.content
        assert response.status_code == 200, body[:500]
        results[who] = leaked(body)
    assert results[None] == results["bob"] == [] and results["alice"]


def test_tap_schema_and_tables_hold_no_rows(client, world):
    for url in ("/tap/tables", "/tap/tables/ivoa.obscore"):
        assert leaked(client.get(url).content) == []
    assert leaked(tap(client, world, None, "SELECT * FROM TAP_SCHEMA.columns")[1]) == []


def test_cone_search(client, world):
    for who in (*OUTSIDERS, "alice"):
        response = client.get("/scs", {"RA": 321.5, "DEC": -45, "SR": 0.05}, **world.headers(who))
        body = b"".join(response.streaming_content) if response.streaming else response.content
        assert response.status_code == 200
        assert bool(leaked(body)) == (who == "alice"), who
        assert b"LEAKPUBLIC" in body


SIA_QUERIES = {
    "EXPTIME": {"EXPTIME": "4242.5"},
    "TARGET": {"TARGET": ["LEAKSECRET-1", "LEAKSECRET-2", "LEAKPUBLIC"]},
    "footprint": {"POS": "CIRCLE 321.5 -45 0.05", "EXPTIME": "4242.5 4242.5"},
    "footprints OR": {"POS": ["RANGE 321 322 -45.5 -44.5", "POLYGON 321 -46 322 -46 321.5 -44"]},
    "MAXREC 1": {"EXPTIME": "-Inf +Inf", "TARGET": ["LEAKSECRET-3", "LEAKPUBLIC"], "MAXREC": "1"},
}


@pytest.fixture
def footprints(world):
    """The world's frames (spectra, without footprints) get a small one for a while around their
    position, so that SIA's POS finds them."""
    from archive.db import engine
    from archive.pgsphere import spoly_literal

    ids = [*world.secret_ids, world.public_id]
    with engine("owner").begin() as conn:
        for obs_id, ra, dec in conn.exec_driver_sql(
                "SELECT obs_id, s_ra, s_dec FROM lick.observation WHERE obs_id = ANY(%s)", (ids,)).fetchall():
            box = [(ra - 0.01, dec - 0.01), (ra + 0.01, dec - 0.01), (ra + 0.01, dec + 0.01), (ra - 0.01, dec + 0.01)]
            conn.exec_driver_sql("UPDATE lick.observation SET s_region = CAST(%s AS spoly) WHERE obs_id = %s",
                                 (spoly_literal(box), obs_id))
    yield
    with engine("owner").begin() as conn:
        conn.exec_driver_sql("UPDATE lick.observation SET s_region = NULL WHERE obs_id = ANY(%s)", (ids,))


@pytest.mark.parametrize("name", SIA_QUERIES)
def test_sia(client, world, footprints, name):
    """SIA 2.0 reads through the same view: outsiders get the public file, alice hers too."""
    for method in ("get", "post"):
        for who in (*OUTSIDERS, "alice"):
            # TABLEDATA: the markers are searched for in the text (BINARY2 would hide them)
            response = getattr(client, method)("/sia/query", {**SIA_QUERIES[name], "RESPONSEFORMAT": "votable/td"},
                                               **world.headers(who))
            body = b"".join(response.streaming_content) if response.streaming else response.content
            assert response.status_code == 200, body[:500]
            if name == "MAXREC 1" and who == "alice":
                # one row of her file and the public one, in no promised order: either may come
                assert len(ET.fromstring(body).findall(f".//{VOT}TR")) == 1, (who, method)
                continue
            assert bool(leaked(body)) == (who == "alice"), (who, method)
            assert b"LEAKPUBLIC" in body or name == "MAXREC 1"


def test_sia_by_proprietary_id(client, world):
    from ingest.store import publisher_did

    dids = [publisher_did(obs_id).upper() for obs_id in world.secret_ids]
    for who in (*OUTSIDERS, "alice"):
        response = client.get("/sia/query", {"ID": dids, "RESPONSEFORMAT": "votable/td"}, **world.headers(who))
        root = ET.fromstring(b"".join(response.streaming_content))
        assert len(root.findall(f".//{VOT}TR")) == (3 if who == "alice" else 0), who


def test_the_coverage_is_the_public_one_whoever_asks(client, world):
    """The MOC and the sky picture are the anonymous caller's, for alice too: no caller reaches a
    coverage shaped by proprietary rows (tests/test_coverage.py moves one to an empty corner of
    the sky and checks that no MOC shows it until it is released)."""
    from archive.coverage.refresh import refresh

    refresh()
    for path in ("/coverage?FORMAT=ascii", "/coverage?FORMAT=json&collection=Lick/Kast Red", "/coverage/sky.png"):
        answers = {who: client.get(path, **world.headers(who)) for who in (*OUTSIDERS, "alice")}
        assert {r.status_code for r in answers.values()} == {200}, path
        assert len({r.content for r in answers.values()}) == 1, path
        assert not leaked(answers["alice"].content)


def _links(client, world, who, did):
    response = client.get("/datalink/links", {"ID": did}, **world.headers(who))
    root = ET.fromstring(b"".join(response.streaming_content))
    names = [f.get("name") for f in root.iter(f"{VOT}FIELD")]
    return [dict(zip(names, [td.text for td in tr])) for tr in root.iter(f"{VOT}TR")]


def test_datalink_of_a_proprietary_id(client, world):
    from ingest.store import publisher_did

    did = publisher_did(world.secret_ids[0])
    for who in OUTSIDERS:
        rows = _links(client, world, who, did)
        assert [(r["semantics"], r["link_authorized"]) for r in rows] == [("#this", "F")]
        assert rows[0]["content_length"] is None and "leaksecret" not in str(rows).lower()
    mine = _links(client, world, "alice", did)
    assert {r["semantics"] for r in mine} >= {"#this", "#preview", "#detached-header"}
    assert all(r["link_authorized"] == "T" for r in mine)


@pytest.mark.parametrize("service", ["download", "header", "preview"])
def test_guessed_file_urls(client, world, service):
    obs_id = world.secret_ids[0]
    for who, status in ((None, 401), ("bob", 403)):
        response = client.get(f"/datalink/{service}/{obs_id}", **world.headers(who))
        body = b"".join(response.streaming_content) if response.streaming else response.content
        assert response.status_code == status
        assert proprietary_world.MARKER not in body and b"SIMPLE  =" not in body and b"PNG" not in body[:8]
    # with a range request too: not even the first bytes
    ranged = client.get(f"/datalink/download/{obs_id}", HTTP_RANGE="bytes=0-99", **world.headers("bob"))
    assert ranged.status_code == 403
    mine = client.get(f"/datalink/{service}/{obs_id}", **world.headers("alice"))
    assert mine.status_code == 200
    body = b"".join(mine.streaming_content) if mine.streaming else mine.content
    assert body.startswith({"download": b"SIMPLE  =", "header": b"SIMPLE  =", "preview": b"\x89PNG\r\n\x1a\n"}[service])


def test_soda_cutout_of_a_proprietary_id(client, world):
    """SODA answers an outsider as the download does, before it looks at the frame: not even
    whether it is an image. The owner reaches the frame (a spectrum here: not cut)."""
    from ingest.store import publisher_did

    params = {"ID": publisher_did(world.secret_ids[0]), "CIRCLE": "321.5 -45 0.01"}
    for who, status, fault in ((None, 401, b"AuthenticationError:"), ("bob", 403, b"AuthorizationError:")):
        response = client.get("/soda/sync", params, **world.headers(who))
        assert response.status_code == status and response.content.startswith(fault)
        assert proprietary_world.MARKER not in response.content and b"spectrum" not in response.content
    mine = client.get("/soda/sync", params, **world.headers("alice"))
    assert mine.status_code == 400 and b"spectrum, not an image" in mine.content


def test_async_jobs_and_their_results(live_archive, world):
    """An async query as each caller; then everyone tries alice's job and its result URL."""
    query = f"SELECT target_name, obs_id FROM ivoa.obscore WHERE {IN_WORLD}"
    results = {}
    for who in (*OUTSIDERS, "alice"):
        headers = world.http_headers(who)
        created = requests.post(f"{live_archive}/tap/async", data={
            "LANG": "ADQL", "QUERY": query, "FORMAT": "csv", "PHASE": "RUN"}, headers=headers, timeout=30)
        job_url = created.url
        phase = requests.get(f"{job_url}/phase", params={"WAIT": 30}, headers=headers, timeout=60)
        for _ in range(30):
            phase = requests.get(f"{job_url}/phase", headers=headers, timeout=30).text
            if phase in ("COMPLETED", "ERROR"):
                break
            requests.get(job_url, params={"WAIT": 2}, headers=headers, timeout=30)
        assert phase == "COMPLETED", (who, phase)
        body = requests.get(f"{job_url}/results/result", headers=headers, timeout=30).content
        results[who] = (job_url, leaked(body))
    assert results[None][1] == results["bob"][1] == [] and results["alice"][1]
    alice_job = results["alice"][0]
    for who, status in ((None, 401), ("bob", 403)):
        for suffix in ("", "/results/result", "/parameters", "/phase", "/error"):
            response = requests.get(alice_job + suffix, headers=world.http_headers(who), timeout=30)
            assert response.status_code == status, (who, suffix)
            assert leaked(response.content) == []
        listing = requests.get(f"{live_archive}/tap/async", headers=world.http_headers(who), timeout=30)
        assert urllib.parse.urlparse(alice_job).path.rsplit("/", 1)[1] not in listing.text
        deleted = requests.post(alice_job, data={"ACTION": "DELETE"}, headers=world.http_headers(who), timeout=30,
                                allow_redirects=False)
        assert deleted.status_code == status
    assert requests.get(alice_job, headers=world.http_headers("alice"), timeout=30).status_code == 200


def test_callers_at_once_on_the_threaded_server(live_archive, world):
    """The server's threads serve the three callers at once, each on a kept connection, and
    the cone search and TAP alike: an identity never carries over to another thread's
    request (the principals live on the request, the database settings on its transaction)."""
    from concurrent.futures import ThreadPoolExecutor

    query = f"SELECT target_name, obs_id FROM ivoa.obscore WHERE {IN_WORLD}"

    def caller(who: str | None) -> dict[tuple[bool, bool], bytes]:
        seen = {}  # (TAP leaked, cone leaked) -> the first TAP answer so (the failure shows it)
        with requests.Session() as session:
            session.headers.update(world.http_headers(who))
            for _ in range(15):
                tap_sync = session.post(f"{live_archive}/tap/sync", data={"LANG": "ADQL", "QUERY": query,
                                                                         "FORMAT": "csv"}, timeout=30)
                cone = session.get(f"{live_archive}/scs", params={"RA": 321.5, "DEC": -45, "SR": 0.05},
                                   timeout=30)
                # A busy server may refuse a sync query with 503 (vo_services/sync_slots.py: twelve
                # callers at once on a loaded machine): no answer, so nothing to judge; a refusal must
                # not pass for "alice saw nothing of hers".
                assert tap_sync.status_code in (200, 503) and cone.status_code == 200, (
                    who, tap_sync.status_code, tap_sync.content[:500], cone.status_code)
                if tap_sync.status_code == 200:
                    seen.setdefault((bool(leaked(tap_sync.content)), bool(leaked(cone.content))),
                                    tap_sync.content[:2000])
        return seen

    callers = [None, "bob", "alice"] * 4
    with ThreadPoolExecutor(len(callers)) as pool:
        seen = list(pool.map(caller, callers))
    for who, saw in zip(callers, seen):
        assert set(saw) == ({(True, True)} if who == "alice" else {(False, False)}), (who, saw)


def test_the_rule_counts_the_current_moment(client, world):
    """The visibility predicate is evaluated per query: a date in the past shows the row to all."""
    from archive.db import engine

    obs_id = world.secret_ids[1]
    with engine("owner").begin() as conn:
        conn.exec_driver_sql("UPDATE lick.observation SET obs_release_date = %s WHERE obs_id = %s",
                             (datetime.now(timezone.utc), obs_id))
    try:
        assert "shane/leak2" in leaked(tap(client, world, None, f"SELECT obs_id FROM ivoa.obscore WHERE {IN_WORLD}")[1])
    finally:
        with engine("owner").begin() as conn:
            conn.exec_driver_sql("UPDATE lick.observation SET obs_release_date = now() + interval '1 year' "
                                 "WHERE obs_id = %s", (obs_id,))


@pytest.mark.django_db(transaction=True)  # the worker must see the bundle's row
def test_a_bundle_with_one_proprietary_file(client, world, celery_worker):
    import io
    import time
    import zipfile

    from vo_services.datalink import bundle_jobs

    contents = {}
    for who in (*OUTSIDERS, "alice"):
        created = client.post("/datalink/bundles", {"ID": [world.secret_ids[0], world.public_id], "FORMAT": "zip"},
                              **world.headers(who))
        assert created.status_code == 303, created.content
        status_path = created["Location"][created["Location"].index("/datalink/"):]
        deadline = time.monotonic() + 90
        while (status := client.get(status_path, HTTP_ACCEPT="application/json", **world.headers(who)).json()
               )["phase"] not in ("COMPLETED", "ERROR"):
            assert time.monotonic() < deadline, status
            time.sleep(0.2)
        assert status["phase"] == "COMPLETED", status
        assert status["refused"] == ([] if who == "alice" else [world.secret_ids[0]])
        result = client.get(status["result"]["url"][status["result"]["url"].index("/datalink/"):],
                            **world.headers(who))
        with zipfile.ZipFile(io.BytesIO(b"".join(result.streaming_content))) as archive:
            contents[who] = b"".join(archive.read(name) for name in archive.namelist())
        bundle_jobs.remove_files(status_path.rstrip("/").rsplit("/", 1)[1])
    assert proprietary_world.MARKER not in contents[None] and proprietary_world.MARKER not in contents["bob"]
    assert b"LEAKPUBLIC" in contents[None] and proprietary_world.MARKER in contents["alice"]


# -- TAP_UPLOAD: hostile names, types and sizes, in every upload position (issue #13) -------------------

JOIN = "SELECT o.target_name, o.obs_id FROM TAP_UPLOAD.t AS u JOIN ivoa.obscore AS o ON o.obs_id = u.wanted"


def _wanted(world, *extra_fields, extra_cells=()) -> bytes:
    """An upload naming every file of the world (secret and public) in ``wanted``, plus ``extra_fields``."""
    from tests.upload_tables import text_field, votable

    rows = [[i, *extra_cells] for i in (*world.secret_ids, world.public_id)]
    return votable([text_field("wanted"), *extra_fields], rows)


def _over_the_row_limit(world) -> bytes:
    from vo_services.tap import limits

    head, tail = _wanted(world).split(b"<TABLEDATA>")
    return head + b"<TABLEDATA>" + b"<TR><TD>x</TD></TR>" * (limits.UPLOAD_ROWS_HARD + 1) + tail


def _geometry(xtype: str, arraysize: str, cell: str):
    return lambda world: _wanted(world, {"name": "g", "datatype": "double", "arraysize": arraysize, "xtype": xtype},
                                 extra_cells=[cell])


def _named(name: str):
    from tests.upload_tables import text_field

    return lambda world: _wanted(world, text_field(name), extra_cells=["v"])


# case -> (the upload, the query, refused?). An accepted upload that names files joins them:
# alice's run sees her files (the control), the outsiders' runs see none.
UPLOAD_CASES = {
    "legitimate join (the control)": (_wanted, JOIN, False),
    "exploit of issue 13": (lambda world: __import__("tests.upload_tables").upload_tables.EXPLOIT,
                            "SELECT a, b FROM TAP_UPLOAD.t", True),
    "backslash in a name": (_named("a\\b"), JOIN, True),
    "unicode quote in a name": (_named("a\u201db"), JOIN, True),
    "reserved word as a name": (_named("select"), JOIN, False),  # a delimited identifier (TAP 1.1 §2.7.6)
    "point out of range": (_geometry("point", "2", "10 100"), JOIN, True),
    "circle with a NaN radius": (_geometry("circle", "3", "10 20 NaN"), JOIN, True),
    "polygon with an odd count": (_geometry("polygon", "*", "1 2 3 4 5"), JOIN, True),
    "two-dimensional char array": (lambda world: _wanted(world, {"name": "c", "datatype": "char",
                                                                 "arraysize": "2x*"}, extra_cells=["abcd"]),
                                   JOIN, True),
    "NaN double": (lambda world: _wanted(world, {"name": "x", "datatype": "double"}, extra_cells=["NaN"]),
                   JOIN, False),
    "zero rows": (lambda world: __import__("tests.upload_tables").upload_tables.votable(
        [{"name": "wanted", "datatype": "char", "arraysize": "*"}]), JOIN, False),
    "rows over the limit": (_over_the_row_limit, JOIN, True),
}


def _sync_inline(client, world, who, table: bytes, query: str) -> tuple[bool, bool, list[str]]:
    """(refused as a UsageFault, answered, leaked markers) of a /tap/sync upload."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    response = client.post("/tap/sync", {"LANG": "ADQL", "QUERY": query, "FORMAT": "csv", "UPLOAD": "t,param:t",
                                         "t": SimpleUploadedFile("t.vot", table, "application/x-votable+xml")},
                           **world.headers(who))
    body = b"".join(response.streaming_content) if response.streaming else response.content
    return response.status_code == 400 and b"UsageFault" in body, response.status_code == 200, leaked(body)


def _async_inline(base, world, who, table: bytes, query: str) -> tuple[bool, bool, list[str]]:
    from tests.upload_tables import async_upload

    phase, document = async_upload(base, table, query, headers=world.http_headers(who))
    return phase == "ERROR" and b"UsageFault" in document, phase == "COMPLETED", leaked(document)


@pytest.mark.parametrize("position", ["sync inline", "async inline"])
@pytest.mark.parametrize("case", UPLOAD_CASES)
def test_uploads(request, client, world, case, position):
    make, query, refused = UPLOAD_CASES[case]
    table = make(world)
    if position == "sync inline":
        run = partial(_sync_inline, client)
    else:
        run = partial(_async_inline, request.getfixturevalue("live_archive"))
    outcomes = {who: run(world, who, table, query) for who in (*OUTSIDERS, "alice")}
    for who, (was_refused, answered, markers) in outcomes.items():
        assert markers == [] or who == "alice", f"{case}, {position}, as {who or 'anonymous'}: {markers}"
        assert (was_refused, answered) == (refused, not refused), f"{case}, {position}, as {who}"
    joins_files = not refused and case != "zero rows"
    assert bool(outcomes["alice"][2]) == joins_files, f"{case}, {position}: the owner's control"
