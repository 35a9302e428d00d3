"""SIA 2.0 (/sia) against a real gunicorn, the demo archive and rows made for its boundaries.

Expected rows come from the database itself (the query role's view of ivoa.obscore, with SQL
written here), never from counts typed into the test; a handful of rows of our own, under the
instrument name ``SIA Test``, sit exactly on the interval bounds or hold NULLs.
"""
from __future__ import annotations

import shutil
import subprocess
import warnings
import xml.etree.ElementTree as ET
from datetime import datetime, timezone

import pytest
import pyvo
import requests
from astropy import units as u
from astropy.time import Time

from archive.pgsphere import spoly_literal
from conftest import gunicorn
from tests.test_schema import DELETE_MINE, _insert_observation

VOT = "{http://www.ivoa.net/xml/VOTable/v1.3}"
MINE = "SIA Test"
PUBLIC = datetime(2020, 1, 1, tzinfo=timezone.utc)


def _box(ra: float, dec: float, half: float) -> str:
    return spoly_literal([(ra - half, dec - half), (ra + half, dec - half), (ra + half, dec + half),
                          (ra - half, dec + half)])


# obs_id -> (ra, dec, s_region, em_min, em_max, t_min, t_max, t_exptime, s_fov, dataproduct_type, calib)
ROWS = {
    "band": (200.0, 60.0, _box(200.0, 60.0, 0.05), 4e-7, 5e-7, 59000.0, 59000.5, 100.0, 0.1, "image", 1),
    "other": (200.5, 60.0, _box(200.5, 60.0, 0.05), 6e-7, 7e-7, 59001.0, 59001.5, 300.0, 0.2, "spectrum", 2),
    "null": (200.0, 60.0, None, None, None, None, None, None, None, "image", 1),
}


@pytest.fixture(scope="module")
def sia(demo_archive, tmp_path_factory):
    """The services under gunicorn (one worker), with the test rows committed."""
    import psycopg2

    from archive.config import get_settings

    conn = psycopg2.connect(get_settings().dsn("owner"))
    for name, (ra, dec, region, em_min, em_max, t_min, t_max, exptime, fov, kind, calib) in ROWS.items():
        row = _insert_observation(conn, f"2020-01/01/sia/{name}", PUBLIC, ra=ra, dec=dec)
        with conn.cursor() as cur:
            cur.execute("UPDATE lick.observation SET instrument_name = %s, s_region = CAST(%s AS spoly), "
                        "em_min = %s, em_max = %s, t_min = %s, t_max = %s, t_exptime = %s, s_fov = %s, "
                        "dataproduct_type = %s, calib_level = %s WHERE id = %s",
                        (MINE, region, em_min, em_max, t_min, t_max, exptime, fov, kind, calib, row))
    conn.commit()
    try:
        with gunicorn(tmp_path_factory.mktemp("sia") / "gunicorn.log", workers=1) as base:
            yield base
    finally:
        with conn.cursor() as cur:
            cur.execute(DELETE_MINE)
        conn.commit()
        conn.close()


def did(name: str) -> str:
    return f"ivo://test?2020-01/01/sia/{name}"


def get(base: str, params, method: str = "get") -> requests.Response:
    return getattr(requests, method)(f"{base}/sia/query", **{"params" if method == "get" else "data": params},
                                     timeout=60)


def rows_of(response: requests.Response) -> set[str]:
    """The obs_publisher_did of each row of a TABLEDATA answer."""
    assert response.status_code == 200, response.text[:1000]
    root = ET.fromstring(response.content)
    names = [f.get("name") for f in root.iter(f"{VOT}FIELD")]
    column = names.index("obs_publisher_did")
    return {tr[column].text for tr in root.iter(f"{VOT}TR")}


def mine(base: str, **params) -> set[str]:
    """Our rows that a search finds (INSTRUMENT keeps the demo's out), as short names."""
    pairs = [("INSTRUMENT", MINE), ("RESPONSEFORMAT", "votable/td")]
    for name, values in params.items():
        pairs += [(name, v) for v in (values if isinstance(values, list) else [values])]
    return {d.rsplit("/", 1)[1] for d in rows_of(get(base, pairs))}


def expected(query_conn, condition: str, params=()) -> set[str]:
    """What the anonymous caller's ivoa.obscore holds under ``condition`` (SQL of the test)."""
    with query_conn.cursor() as cur:
        cur.execute(f"SELECT obs_publisher_did FROM ivoa.obscore WHERE {condition}", params)
        return {r[0] for r in cur.fetchall()}


def searched(service: pyvo.dal.SIA2Service, **kwargs) -> set[str]:
    return {str(x) for x in service.search(maxrec=100_000, **kwargs)["obs_publisher_did"]}


# -- pyvo against the demo archive


def test_pyvo_reads_the_capabilities_and_finds_the_query_endpoint(sia):
    service = pyvo.dal.SIA2Service(f"{sia}/sia")
    assert service.query_ep == f"{sia}/sia/query"
    assert requests.get(f"{sia}/sia/availability", timeout=30).status_code == 200


def test_pyvo_pos_circle_range_and_polygon(sia, query_conn):
    service = pyvo.dal.SIA2Service(f"{sia}/sia")
    ra, dec = expected_point(query_conn)
    circle = searched(service, pos=(ra, dec, 0.5))
    assert circle and circle == expected(
        query_conn, "s_region && scircle(spoint(radians(%s), radians(%s)), radians(0.5))", (ra, dec))
    box = (ra - 0.3, ra + 0.3, dec - 0.3, dec + 0.3)
    assert searched(service, pos=tuple(v * u.deg for v in box)) == expected(
        query_conn, "s_region && sbox(spoint(radians(%s), radians(%s)), spoint(radians(%s), radians(%s)))",
        (box[0], box[2], box[1], box[3]))
    triangle = (ra - 0.4, dec - 0.3, ra + 0.4, dec - 0.3, ra, dec + 0.4)
    assert searched(service, pos=triangle) == expected(
        query_conn, "s_region && CAST(%s AS spoly)",
        (spoly_literal(list(zip(triangle[::2], triangle[1::2]))),))


def expected_point(query_conn) -> tuple[float, float]:
    """The centre of a public demo image that has a footprint."""
    with query_conn.cursor() as cur:
        cur.execute("SELECT s_ra, s_dec FROM ivoa.obscore WHERE s_region IS NOT NULL "
                    "AND instrument_name <> %s ORDER BY obs_id LIMIT 1", (MINE,))
        return cur.fetchone()


def test_pyvo_band_and_time_overlap_the_rows_intervals(sia, query_conn):
    service = pyvo.dal.SIA2Service(f"{sia}/sia")
    band = searched(service, band=(5e-7, 6.5e-7))
    assert band and band == expected(query_conn, "em_min <= 6.5e-7 AND em_max >= 5e-7")
    with query_conn.cursor() as cur:
        cur.execute("SELECT percentile_disc(0.3) WITHIN GROUP (ORDER BY t_min), "
                    "percentile_disc(0.6) WITHIN GROUP (ORDER BY t_min) FROM ivoa.obscore")
        lo, hi = cur.fetchone()
    found = searched(service, time=(Time(lo, format="mjd"), Time(hi, format="mjd")))
    assert found == expected(query_conn, "t_min <= %s AND t_max >= %s", (hi, lo))
    assert len(found) > 2
    both = searched(service, band=(5e-7, 6.5e-7), time=(Time(lo, format="mjd"), Time(hi, format="mjd")))
    assert both == band & found


def test_pyvo_string_parameters(sia, query_conn):
    service = pyvo.dal.SIA2Service(f"{sia}/sia")
    with query_conn.cursor() as cur:
        cur.execute("SELECT obs_collection, facility_name, instrument_name, target_name, obs_publisher_did "
                    "FROM ivoa.obscore WHERE instrument_name <> %s AND target_name IS NOT NULL "
                    "ORDER BY obs_id LIMIT 1", (MINE,))
        collection, facility, instrument, target, publisher_did = cur.fetchone()
    assert searched(service, collection=collection) == expected(query_conn, "obs_collection = %s", (collection,))
    assert searched(service, facility=facility) == expected(query_conn, "facility_name = %s", (facility,))
    assert searched(service, instrument=instrument) == expected(query_conn, "instrument_name = %s", (instrument,))
    assert searched(service, target_name=target) == expected(query_conn, "target_name = %s", (target,))
    assert searched(service, publisher_did=publisher_did.upper()) == {publisher_did}  # case-insensitive
    assert searched(service, data_type="spectrum") == expected(query_conn, "dataproduct_type = 'spectrum'")
    assert searched(service, calib_level=1) == expected(query_conn, "calib_level = 1")
    assert searched(service, res_format="application/x-votable+xml;content=datalink") == expected(query_conn, "true")


# -- the rules, on our own rows


def test_intervals_are_inclusive_and_null_never_matches(sia):
    assert mine(sia, BAND="5e-7") == {"band"}  # em_max exactly
    assert mine(sia, BAND="4e-7 4e-7") == {"band"}  # em_min exactly
    assert mine(sia, BAND="5.0000001e-7 6e-7") == {"other"}
    assert mine(sia, BAND="-Inf +Inf") == {"band", "other"}
    assert mine(sia, BAND="-inf 3e-7") == set()
    assert mine(sia, TIME="59000.5 59001") == {"band", "other"}
    assert mine(sia, TIME="59000.6 59000.9") == set()
    assert mine(sia, TIME="59001.5 +Inf") == {"other"}
    assert mine(sia, EXPTIME="100") == {"band"}
    assert mine(sia, EXPTIME="100 300") == {"band", "other"}
    assert mine(sia, EXPTIME="-Inf +Inf") == {"band", "other"}
    assert mine(sia, TIMERES="300") == {"other"}  # t_resolution is the exposure time
    assert mine(sia, FOV="0.1 0.15") == {"band"}
    assert mine(sia, FOV="0 +Inf") == {"band", "other"}
    # Not recorded by the archive (NULL in every row): nothing matches.
    assert mine(sia, SPATRES="-Inf +Inf") == set()
    assert mine(sia, SPECRP="0 +Inf") == set()
    assert mine(sia, POL="I") == set()


def test_pos_matches_footprints_only(sia):
    assert mine(sia, POS="CIRCLE 200 60 0.01") == {"band"}  # the 'null' row's point is here, its region NULL
    assert mine(sia, POS="circle 200.5 60 0.01") == {"other"}
    assert mine(sia, POS="RANGE 199.9 200.1 59.9 60.1") == {"band"}
    assert mine(sia, POS="RANGE -Inf +Inf -Inf +Inf") == {"band", "other"}
    assert mine(sia, POS="POLYGON 199.99 59.99 200.01 59.99 200.0 60.01") == {"band"}
    assert mine(sia, POS="CIRCLE 10 -10 1") == set()


def test_repeated_parameters_or_different_ones_and(sia):
    assert mine(sia, POS=["CIRCLE 200 60 0.01", "CIRCLE 200.5 60 0.01"]) == {"band", "other"}
    assert mine(sia, TIME=["59000 59000.1", "59001.4"]) == {"band", "other"}
    assert mine(sia, DPTYPE=["image", "spectrum"]) == {"band", "other", "null"}
    assert mine(sia, DPTYPE="image") == {"band", "null"}
    assert mine(sia, DPTYPE="image", BAND="-Inf +Inf") == {"band"}
    assert mine(sia, CALIB="2", POS="CIRCLE 200 60 1") == {"other"}
    assert mine(sia, CALIB=["1", "2"], EXPTIME="300") == {"other"}
    assert mine(sia, ID=did("other").upper()) == {"other"}
    assert mine(sia, ID=[did("band"), did("null")], DPTYPE="image") == {"band", "null"}
    assert mine(sia, TARGET="Feige 110") == {"band", "other", "null"}
    assert mine(sia, TARGET="feige 110") == set()  # strings compare case-sensitively
    assert mine(sia, COLLECTION="Lick/Nickel Direct", FACILITY="Lick Nickel 1m") == {"band", "other", "null"}


def test_post_answers_as_get(sia):
    params = [("INSTRUMENT", MINE), ("BAND", "-Inf +Inf"), ("RESPONSEFORMAT", "votable/td")]
    assert rows_of(get(sia, params, "post")) == rows_of(get(sia, params)) == {did("band"), did("other")}


def _status(response: requests.Response) -> list[str]:
    root = ET.fromstring(response.content)
    return [i.get("value") for i in root.iter(f"{VOT}INFO") if i.get("name") == "QUERY_STATUS"]


def test_overflow_and_metadata_only(sia):
    params = {"INSTRUMENT": MINE, "RESPONSEFORMAT": "votable/td"}
    response = get(sia, {**params, "MAXREC": "2"})
    assert len(rows_of(response)) == 2 and _status(response) == ["OK", "OVERFLOW"]  # DALI §4.4.1
    response = get(sia, {**params, "MAXREC": "3"})
    assert len(rows_of(response)) == 3 and _status(response) == ["OK"]
    response = get(sia, {**params, "MAXREC": "0"})
    root = ET.fromstring(response.content)
    assert len(list(root.iter(f"{VOT}FIELD"))) > 30 and not rows_of(response)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert len(pyvo.dal.SIA2Service(f"{sia}/sia").search(instrument=MINE, maxrec=1)) == 1


def test_results_are_obscore_with_the_datalink_descriptor(sia):
    root = ET.fromstring(get(sia, {"INSTRUMENT": MINE}).content)
    fields = {f.get("name"): f for f in root.iter(f"{VOT}FIELD")}
    assert fields["s_region"].get("xtype") and fields["em_min"].get("unit") == "m"
    assert fields["obs_publisher_did"].get("utype").lower() == "obscore:curation.publisherdid"
    services = {r.get("name"): {p.get("name"): p for p in r.iter(f"{VOT}PARAM")}
                for r in root.iter(f"{VOT}RESOURCE") if r.get("utype") == "adhoc:service"}
    params = services["DataLink"]
    assert params["standardID"].get("value") == "ivo://ivoa.net/std/DataLink#links-1.1"
    assert params["ID"].get("ref") == fields["obs_publisher_did"].get("ID")
    this = services["this"]  # SIA 2.0 §3.1
    assert this["standardID"].get("value") == "ivo://ivoa.net/std/SIA#query-2.0"
    assert this["accessURL"].get("value") == f"{sia}/sia/query"
    assert {"POS", "BAND", "TIME", "MAXREC"} <= set(this)


BAD = [
    ({"POS": "CIRCLE 10 20"}, "POS CIRCLE must be three numbers"),
    ({"POS": "CIRCLE 10 95 1"}, "latitude"),
    ({"POS": "CIRCLE 10 20 120"}, "radius"),
    ({"POS": "CIRCLE ten 20 1"}, "not a number"),
    ({"POS": "BOX 10 20 1 1"}, "unknown shape"),
    ({"POS": "RANGE 20 10 0 1"}, "low to high"),
    ({"POS": "RANGE 10 20 0"}, "POS RANGE must be four numbers"),
    ({"POS": "POLYGON 10 10 11 10"}, "three or more"),
    ({"POS": "POLYGON 10 10 11 10 nan 11"}, "not a number"),
    ({"POS": "POLYGON 10 10 10 10 10 10"}, "3 distinct vertices"),  # refused before pgsphere would
    ({"POS": "CIRCLE 10 20 0"}, "radius must be positive"),  # DALI 1.1 §3.3.6
    ({"BAND": "6e-7 5e-7"}, "inverted"),
    ({"BAND": "1 2 3"}, "interval"),
    ({"BAND": "abc"}, "not a number"),
    ({"BAND": "+Inf +Inf"}, "empty"),
    ({"TIME": "59000 58000"}, "inverted"),
    ({"TIME": "2020-01-01"}, "not a number"),
    ({"EXPTIME": "NaN"}, "not a number"),
    ({"CALIB": "one"}, "CALIB must be an integer"),
    ({"POL": "Z"}, "polarization state"),
    ({"MAXREC": "-1"}, "MAXREC"),
    ({"MAXREC": "ten"}, "MAXREC"),
    ({"MAXREC": ["1", "2"]}, "only once"),
    ({"RESPONSEFORMAT": "image/png"}, "RESPONSEFORMAT"),
    ({"RESPONSEFORMAT": ["votable", "csv"]}, "only once"),
    ({"POS": "POLYGON " + " ".join(f"{10 + i * 1e-4} {10 + (i % 2) * 1e-3}" for i in range(1001))}, "at most 1000"),
    ({"TARGET": [f"t{i}" for i in range(501)]}, "at most 500 times"),
]


@pytest.mark.parametrize("params, message", BAD, ids=[str(p)[:40] for p, _ in BAD])
def test_bad_input_is_a_usage_fault(sia, params, message):
    long = len(str(params)) > 3000  # beyond gunicorn's request line: as a form only
    for method in ("post",) if long else ("get", "post"):
        response = get(sia, params, method)
        assert response.status_code == 400, (method, response.text[:500])
        assert response.headers["Content-Type"].startswith("application/x-votable+xml")
        infos = [i for i in ET.fromstring(response.content).iter(f"{VOT}INFO") if i.get("name") == "QUERY_STATUS"]
        assert len(infos) == 1 and infos[0].get("value") == "ERROR"
        assert infos[0].text.startswith("UsageFault") and message in infos[0].text, infos[0].text


def test_pyvo_raises_the_usage_fault(sia):
    with pytest.raises(pyvo.dal.DALQueryError, match="UsageFault"):
        pyvo.dal.SIA2Service(f"{sia}/sia").search(POS="CIRCLE 1 2")


def test_the_footprint_search_uses_the_gist_index(sia, query_conn):
    """Through the security_barrier view, as the query role: s_region && ... is an index condition."""
    from vo_services.dali import DaliParams
    from vo_services.sia.search import SiaSearch

    for pos in ("CIRCLE 200 60 0.5", "RANGE 199 201 59 61", "POLYGON 199 59 201 59 200 61"):
        search = SiaSearch.from_params(DaliParams([("POS", pos), ("BAND", "-Inf 1e-6")]))
        with query_conn.cursor() as cur:
            cur.execute("SET enable_seqscan = off")  # the demo table is small: ask which index serves
            cur.execute(b"EXPLAIN " + search.sql())
            plan = "\n".join(r[0] for r in cur.fetchall())
        assert "observation_s_region_gist" in plan, plan


@pytest.mark.skipif(shutil.which("stilts") is None, reason="STILTS is not installed (scripts/setup.sh installs it)")
@pytest.mark.parametrize("fmt", ["votable", "votable/td"])
def test_votlint_finds_nothing_wrong(sia, tmp_path, fmt):
    path = tmp_path / "sia.xml"
    path.write_bytes(get(sia, {"POS": "RANGE 0 360 -90 90", "RESPONSEFORMAT": fmt, "MAXREC": "50"}).content)
    out = subprocess.run(["stilts", "votlint", f"votable={path}"], capture_output=True, text=True, timeout=120)
    problems = [line for line in (out.stdout + out.stderr).splitlines() if "ERROR" in line or "WARNING" in line]
    assert problems == [], "\n".join(problems)


def test_the_case_insensitive_id_search_uses_an_index(sia, query_conn):
    """ID through the security_barrier view: equality in the lick.ci collation is leakproof and
    indexed (lower() = lower() would be neither, and read every row)."""
    from vo_services.dali import DaliParams
    from vo_services.sia.search import SiaSearch

    search = SiaSearch.from_params(DaliParams([("ID", did("band").upper())]))
    with query_conn.cursor() as cur:
        cur.execute("SET enable_seqscan = off")
        cur.execute(b"EXPLAIN " + search.sql())
        plan = "\n".join(r[0] for r in cur.fetchall())
    assert "observation_did_ci" in plan, plan
