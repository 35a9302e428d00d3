"""The publishing registry's records, as a harvester gets them from the real server on the demo
data: the IVOA schemas and the Registry of Registries' rules, one source of truth with the
services' own /capabilities and /tables, coverage from public rows only, withdrawal as deletion."""
from __future__ import annotations

import io
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path

import pytest
import requests
from lxml import etree

from archive.coverage.moc import Moc
from archive.coverage.refresh import refresh
from tests.test_oai import OAI, RI, XSI_TYPE, oai
from vo_services.registry.checks import record_problems, registry_problems
from vo_services.registry.validation import xsd_dir

HC = 6.62607015e-34 * 299_792_458.0


@pytest.fixture(autouse=True, scope="module")
def current_coverage(demo_archive):
    """The records' coverage is the stored one: computed now, after whatever earlier modules did
    to the rows with plain SQL (which requests no refresh)."""
    refresh()


def test_the_schemas_are_beside_the_clone():
    # CI keeps shared/ beside the clone; without it the validation would silently check nothing.
    assert xsd_dir() == Path(__file__).resolve().parents[1].parent / "shared" / "xsd"
    assert (xsd_dir() / "VODataService-v1.2.xsd").is_file()


def harvest(base: str) -> dict[str, etree._Element]:
    """identifier -> ri:Resource of every live record (one ListRecords; maxRecords is 100 here)."""
    root = oai(base, verb="ListRecords", metadataPrefix="ivo_vor")
    assert root.find(f".//{OAI}resumptionToken") is None
    return {r.findtext("identifier"): r for r in root.iter(f"{RI}Resource")}


def by_type(records: dict[str, etree._Element], xsi_type: str) -> list[etree._Element]:
    return [r for r in records.values() if r.get(XSI_TYPE) == xsi_type]


def test_the_registry_of_registries_rules(live_archive):
    records = harvest(live_archive)
    assert registry_problems(list(records.values()), live_archive) == []
    # The same rules, spelled out.
    identify = oai(live_archive, verb="Identify")
    assert identify.findtext(f".//{OAI}baseURL") == f"{live_archive}/oai"  # the URL harvested
    described = identify.find(f".//{OAI}description/{RI}Resource")
    assert described.get(XSI_TYPE) == "vg:Registry"
    [registry] = by_type(records, "vg:Registry")
    assert registry.findtext("identifier") == described.findtext("identifier")
    assert registry.findtext("full") == "false"
    managed = [m.text for m in registry.findall("managedAuthority")]
    assert managed == ["lick.ucolick.org"]
    authorities = {a.findtext("identifier") for a in by_type(records, "vg:Authority")}
    assert authorities == {"ivo://lick.ucolick.org"}
    assert all(i.startswith("ivo://lick.ucolick.org/") or i == "ivo://lick.ucolick.org" for i in records)
    harvest_capability = registry.find("capability")
    assert harvest_capability.get(XSI_TYPE) == "vg:Harvest"
    interface = harvest_capability.find("interface")
    assert (interface.get(XSI_TYPE), interface.get("role")) == ("vg:OAIHTTP", "std")
    assert interface.findtext("accessURL") == f"{live_archive}/oai"
    assert harvest_capability.findtext("maxRecords") == "100"
    now = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    for resource in records.values():
        assert resource.get("created") <= resource.get("updated") <= now
        for capability in resource.findall("capability"):
            assert capability.findall("interface"), capability.get("standardID")
    [tap] = by_type(records, "vs:CatalogService")
    [cone] = [c for c in tap.findall("capability") if c.get("standardID") == "ivo://ivoa.net/std/ConeSearch"]
    assert [(i.get(XSI_TYPE), i.get("role")) for i in cone.findall("interface")] == [("vs:ParamHTTP", "std")]
    standards = {c.get("standardID") for c in tap.findall("capability")}
    assert {"ivo://ivoa.net/std/TAP", "ivo://ivoa.net/std/VOSI#capabilities", "ivo://ivoa.net/std/VOSI#tables-1.1",
            "ivo://ivoa.net/std/DataLink#links-1.1"} <= standards
    assert by_type(records, "vr:Organisation")


def test_the_checks_catch_what_the_rules_forbid(live_archive):
    """The checks are not vacuous: a record breaking a rule is reported."""
    records = harvest(live_archive)
    [registry] = by_type(records, "vg:Registry")
    broken = etree.fromstring(etree.tostring(registry))
    broken.set("updated", "2999-01-01T00:00:00Z")
    broken.find("capability/interface").set("role", "alternative")
    broken.find("managedAuthority").text = "elsewhere.org"
    problems = registry_problems([broken, *[r for r in records.values() if r is not registry]], live_archive)
    assert any("future" in p for p in problems)
    assert any("OAIHTTP" in p for p in problems)
    assert any("does not manage" in p for p in problems)
    assert any("is not under" in p for p in record_problems(registry, "https://elsewhere.org"))


def _c14n(element: etree._Element) -> bytes:
    return etree.tostring(etree.fromstring(etree.tostring(element)), method="c14n", exclusive=True)


def test_the_tap_record_is_what_the_service_serves(live_archive):
    """One source of truth: the record's capabilities and tableset are /tap/capabilities' and
    /tap/tables' own elements."""
    [tap] = by_type(harvest(live_archive), "vs:CatalogService")
    served = etree.fromstring(requests.get(f"{live_archive}/tap/capabilities", timeout=60).content)
    for capability in served.findall("capability"):
        [same] = [c for c in tap.findall("capability") if c.get("standardID") == capability.get("standardID")]
        assert _c14n(same) == _c14n(capability)
    tables = etree.fromstring(requests.get(f"{live_archive}/tap/tables", timeout=60).content)
    assert [_c14n(s) for s in tap.findall("tableset/schema")] == [_c14n(s) for s in tables.findall("schema")]
    obscore = tap.find("tableset/schema/table[name='ivoa.obscore']")
    s_ra = obscore.find("column[name='s_ra']")
    assert (s_ra.findtext("unit"), s_ra.findtext("ucd"), s_ra.findtext("utype")) == (
        "deg", "pos.eq.ra", "obscore:Char.SpatialAxis.Coverage.Location.Coord.Position2D.Value2.C1")
    assert tap.find("tableset/schema/table[name='lick.observations']/foreignKey") is not None


@pytest.mark.parametrize("service, standard_id", [("scs", "ivo://ivoa.net/std/ConeSearch"),
                                                  ("sia", "ivo://ivoa.net/std/SIA#query-2.0"),
                                                  ("soda", "ivo://ivoa.net/std/SODA#sync-1.0")])
def test_the_simple_services_capabilities_are_what_they_serve(live_archive, service, standard_id):
    [tap] = by_type(harvest(live_archive), "vs:CatalogService")
    served = etree.fromstring(requests.get(f"{live_archive}/{service}/capabilities", timeout=60).content)
    [capability] = [c for c in served.findall("capability") if c.get("standardID") == standard_id]
    [same] = [c for c in tap.findall("capability") if c.get("standardID") == standard_id]
    assert _c14n(same) == _c14n(capability)


def test_pyvo_reads_the_harvested_tap_record_and_queries_it(live_archive):
    """pyvo parses the harvested capabilities and tableset; the TAP interface it finds answers."""
    import pyvo
    from pyvo.io.vosi import parse_capabilities, parse_tables

    [tap] = by_type(harvest(live_archive), "vs:CatalogService")
    capabilities = etree.Element("{http://www.ivoa.net/xml/VOSICapabilities/v1.0}capabilities")
    capabilities.extend(etree.fromstring(etree.tostring(tap)).findall("capability"))
    tableset = etree.Element("{http://www.ivoa.net/xml/VOSITables/v1.0}tableset")
    tableset.extend(etree.fromstring(etree.tostring(tap)).findall("tableset/schema"))
    parsed = parse_capabilities(io.BytesIO(etree.tostring(capabilities)))
    [table_access] = [c for c in parsed if c.standardid.lower() == "ivo://ivoa.net/std/tap"]
    [standard] = [i for i in table_access.interfaces if i.role == "std"]
    assert {f.mime for f in table_access.outputformats} >= {"application/x-votable+xml"}
    assert table_access.uploadmethods and table_access.languages[0].name == "ADQL"
    parsed_tables = parse_tables(io.BytesIO(etree.tostring(tableset)))
    tables = {t.name for t in parsed_tables.iter_tables()}
    assert parsed_tables.get_table_by_name("ivoa.obscore").columns
    assert {"ivoa.obscore", "lick.observations", "tap_schema.columns"} <= tables
    url = standard.accessurls[0].content
    assert url == f"{live_archive}/tap"
    rows = pyvo.dal.TAPService(url).run_sync("SELECT TOP 3 obs_id, obs_collection FROM ivoa.obscore")
    assert len(rows) == 3


def _public_summary(owner_conn) -> dict[str, tuple]:
    """Each collection over its released rows, computed here straight from lick.observation."""
    with owner_conn.cursor() as cur:
        cur.execute("SELECT set_smoc_output_type(0)")
        # The stored order-8 MOC, degraded to order 6 (VODataService 1.2 §3.5.1: order >= 6).
        cur.execute("""
            SELECT 'Lick/' || instrument,
                   smoc_degrade(6, sum(CASE WHEN s_region IS NOT NULL THEN smoc(8, s_region) ELSE smoc(8, pos) END))::text,
                   min(t_min), max(t_max), min(em_min), max(em_max)
            FROM lick.observation WHERE obs_release_date <= now() GROUP BY 1""")
        return {row[0]: row[1:] for row in cur.fetchall()}


def test_collections_cover_their_public_rows_only(live_archive, owner_conn):
    records = harvest(live_archive)
    served_by = {r.find("content/relationship/relatedResource").get("ivo-id")
                 for r in by_type(records, "vs:CatalogResource")}
    expected = _public_summary(owner_conn)
    found = {}
    for resource in by_type(records, "vs:CatalogResource"):
        name = resource.findtext("content/description").split("obs_collection = '")[1].rstrip("'.")
        found[name] = resource
    assert set(found) == set(expected) and served_by == {by_type(records, 'vs:CatalogService')[0].findtext('identifier')}
    spectral_ranges = 0
    for name, resource in found.items():
        moc, t_min, t_max, em_min, em_max = expected[name]
        spatial = resource.findtext("coverage/spatial")
        assert spatial.split() == [*moc.split(), *(["6/"] if " 6/" not in f" {moc}" else [])]
        assert [float(v) for v in resource.findtext("coverage/temporal").split()] == [t_min, t_max]
        if em_min is None:
            assert resource.find("coverage/spectral") is None
        else:
            spectral_ranges += 1
            low, high = (float(v) for v in resource.findtext("coverage/spectral").split())
            assert low == pytest.approx(HC / em_max) and high == pytest.approx(HC / em_min)  # Joules
        assert resource.findtext("instrument") and resource.find("tableset/schema/table[name='ivoa.obscore']") is not None
    assert spectral_ranges
    # Served coverage never reaches beyond the released rows' cells.
    with owner_conn.cursor() as cur:
        for name, resource in found.items():
            cur.execute("SELECT %s::smoc <@ %s::smoc", [resource.findtext("coverage/spatial"), expected[name][0]])
            assert cur.fetchone()[0] is True


def test_collections_name_their_precise_moc_as_footprint(live_archive):
    """vs:coverage: spatial is an ASCII MOC of order >= 6 (VODataService 1.2 §3.5.1), footprint the
    URL of the precise MOC (ivo-id of the MOC standard), whose cells, degraded, are spatial's."""
    import requests

    for resource in by_type(harvest(live_archive), "vs:CatalogResource"):
        spatial = Moc.from_ascii(resource.findtext("coverage/spatial"))
        assert spatial.order >= 6 and len(spatial.cells)
        footprint = resource.find("coverage/footprint")
        assert footprint.get("ivo-id") == "ivo://ivoa.net/std/moc"
        assert footprint.text.startswith(f"{live_archive}/coverage?collection=Lick%2F")
        precise = requests.get(footprint.text, params={"FORMAT": "ascii"}, timeout=30)
        assert precise.status_code == 200
        precise_moc = Moc.from_ascii(precise.text)
        assert precise_moc.order == 8 and precise_moc.degrade(spatial.order) == spatial


def test_a_proprietary_pointing_stays_out_of_the_coverage(live_archive, owner_conn):
    """A proprietary observation moved to an empty corner of the sky: its cell is not in any
    collection's MOC (and the collection's record does not change at all)."""
    before = {r.findtext("identifier"): r for r in by_type(harvest(live_archive), "vs:CatalogResource")}
    corner = "{(10d,-85d),(12d,-85d),(11d,-84d)}"
    with owner_conn.cursor() as cur:
        cur.execute("SELECT obs_id, s_region::text FROM lick.observation WHERE obs_release_date > now() "
                    "AND s_region IS NOT NULL LIMIT 1")
        obs_id, region = cur.fetchone()
        cur.execute("SELECT count(*) FROM lick.observation WHERE s_region && %s::spoly", [corner])
        assert cur.fetchone()[0] == 0
        cur.execute("UPDATE lick.observation SET s_region = %s::spoly WHERE obs_id = %s", [corner, obs_id])
    owner_conn.commit()
    try:
        refresh()
        after = {r.findtext("identifier"): r for r in by_type(harvest(live_archive), "vs:CatalogResource")}
        with owner_conn.cursor() as cur:
            for resource in after.values():
                cur.execute("SELECT %s::smoc && smoc(6, %s::spoly)", [resource.findtext("coverage/spatial"), corner])
                assert cur.fetchone()[0] is False
        assert {i: r.get("updated") for i, r in after.items()} == {i: r.get("updated") for i, r in before.items()}
    finally:
        with owner_conn.cursor() as cur:
            cur.execute("UPDATE lick.observation SET s_region = %s::spoly WHERE obs_id = %s", [region, obs_id])
        owner_conn.commit()
        refresh()


def test_an_emptied_collection_is_served_as_deleted(live_archive, owner_conn):
    """Withdrawn (its last public row made proprietary): a deleted header with a datestamp, never
    dropped; public again: the record comes back with its first `created`."""
    before = harvest(live_archive)
    victim = min((r for r in by_type(before, "vs:CatalogResource")), key=lambda r: r.findtext("identifier"))
    identifier = victim.findtext("identifier")
    instrument = victim.findtext("content/description").split("obs_collection = 'Lick/")[1].rstrip("'.")
    with owner_conn.cursor() as cur:
        cur.execute("UPDATE lick.observation SET obs_release_date = obs_release_date + interval '500 years' "
                    "WHERE instrument = %s AND obs_release_date <= now()", [instrument])
    owner_conn.commit()
    try:
        refresh()
        gone = oai(live_archive, verb="GetRecord", identifier=identifier, metadataPrefix="ivo_vor")
        header = gone.find(f".//{OAI}header")
        assert header.get("status") == "deleted" and header.findtext(f"{OAI}datestamp")
        assert gone.find(f".//{OAI}metadata") is None
        listed = oai(live_archive, verb="ListIdentifiers", metadataPrefix="ivo_vor")
        assert [h.get("status") for h in listed.iter(f"{OAI}header")
                if h.findtext(f"{OAI}identifier") == identifier] == ["deleted"]
        assert identifier not in harvest(live_archive)
    finally:
        with owner_conn.cursor() as cur:
            cur.execute("UPDATE lick.observation SET obs_release_date = obs_release_date - interval '500 years' "
                        "WHERE instrument = %s AND obs_release_date > now() + interval '400 years'", [instrument])
        owner_conn.commit()
        refresh()
    back = harvest(live_archive)[identifier]
    assert back.get("created") == victim.get("created") and back.get("updated") >= victim.get("updated")


def test_every_url_is_the_public_one_behind_a_proxy(tmp_path):
    from conftest import gunicorn

    public = "https://archive.example.org/vo"
    with gunicorn(tmp_path / "proxied.log", LICK_PUBLIC_URL=public) as base:
        root = oai(base, verb="ListRecords", metadataPrefix="ivo_vor")
        assert root.findtext(f"{OAI}request") == f"{public}/oai"
        records = {r.findtext("identifier"): r for r in root.iter(f"{RI}Resource")}
        assert registry_problems(list(records.values()), public) == []
        urls = [u.text for r in records.values() for u in r.iter("accessURL", "referenceURL")]
        assert len(urls) > 10 and all(u.startswith(f"{public}/") for u in urls)


def test_lick_admin_registry_prints_and_checks_the_records(live_archive):
    done = subprocess.run([sys.executable, "-m", "lick.cli", "registry"], capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "0 problems" in done.stderr
    assert done.stdout.count("<ri:Resource") >= 5
