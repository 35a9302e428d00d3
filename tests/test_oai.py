"""OAI-PMH 2.0 at /oai, on the real server and the demo data: every verb, every error, validated
against OAI-PMH.xsd and the IVOA schemas offline (OAI-PMH 2.0 §3-4, Registry Interfaces 1.1 §2)."""
from __future__ import annotations

import pytest
import requests
from lxml import etree

from vo_services.registry.validation import schema_errors

OAI = "{http://www.openarchives.org/OAI/2.0/}"
RI = "{http://www.ivoa.net/xml/RegistryInterface/v1.0}"
XSI_TYPE = "{http://www.w3.org/2001/XMLSchema-instance}type"


def oai(base: str, method: str = "GET", **params) -> etree._Element:
    """One OAI-PMH request; the answer must be HTTP 200 and valid (records included)."""
    url = f"{base}/oai"
    response = (requests.post(url, data=params, timeout=60) if method == "POST"
                else requests.get(url, params=params, timeout=60))
    assert response.status_code == 200, response.text[:500]
    assert response.headers["Content-Type"].startswith("text/xml")
    errors = schema_errors(response.content)
    assert not errors, errors[:5]
    return etree.fromstring(response.content)


def error_code(root: etree._Element) -> str | None:
    error = root.find(f"{OAI}error")
    return None if error is None else error.get("code")


def test_identify(live_archive):
    root = oai(live_archive, verb="Identify")
    identify = root.find(f"{OAI}Identify")
    print(etree.tostring(root, pretty_print=True).decode())
    assert identify.findtext(f"{OAI}baseURL") == f"{live_archive}/oai"


def _records(root: etree._Element) -> list[etree._Element]:
    return root.findall(f".//{OAI}record")


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_every_verb_answers_valid_documents(live_archive, method):
    identifiers = oai(live_archive, method, verb="ListIdentifiers", metadataPrefix="ivo_vor")
    ids = [h.findtext(f"{OAI}identifier") for h in identifiers.iter(f"{OAI}header")]
    assert len(ids) >= 5 and error_code(identifiers) is None
    formats = oai(live_archive, method, verb="ListMetadataFormats")
    assert {p.text for p in formats.iter(f"{OAI}metadataPrefix")} == {"ivo_vor", "oai_dc"}
    assert oai(live_archive, method, verb="ListMetadataFormats", identifier=ids[0]).find(f"{OAI}ListMetadataFormats") is not None
    for prefix in ("ivo_vor", "oai_dc"):
        listed = oai(live_archive, method, verb="ListRecords", metadataPrefix=prefix)
        assert len(_records(listed)) == len(ids)
        one = oai(live_archive, method, verb="GetRecord", identifier=ids[-1], metadataPrefix=prefix)
        assert one.find(f".//{OAI}header/{OAI}identifier").text == ids[-1]
    sets = oai(live_archive, method, verb="ListSets")
    assert [s.text for s in sets.iter(f"{OAI}setSpec")] == ["ivo_managed"]
    assert len(oai(live_archive, method, verb="ListIdentifiers", metadataPrefix="ivo_vor",
                   set="ivo_managed").findall(f".//{OAI}header")) == len(ids)


def test_header_identifier_is_the_resource_identifier(live_archive):
    for record in _records(oai(live_archive, verb="ListRecords", metadataPrefix="ivo_vor")):
        resource = record.find(f"{OAI}metadata/{RI}Resource")  # every ivo_vor record is ri:Resource
        assert resource is not None
        assert resource.findtext("identifier") == record.findtext(f"{OAI}header/{OAI}identifier")


ERRORS = [
    ({}, "badVerb"),
    ({"verb": "Harvest"}, "badVerb"),
    ({"verb": ["Identify", "Identify"]}, "badVerb"),
    ({"verb": "Identify", "metadataPrefix": "ivo_vor"}, "badArgument"),
    ({"verb": "ListRecords"}, "badArgument"),
    ({"verb": "ListRecords", "metadataPrefix": ["ivo_vor", "oai_dc"]}, "badArgument"),
    ({"verb": "ListRecords", "metadataPrefix": "ivo_vor", "colour": "red"}, "badArgument"),
    ({"verb": "GetRecord", "identifier": "ivo://lick.ucolick.org/registry"}, "badArgument"),
    ({"verb": "ListRecords", "metadataPrefix": "ivo_vor", "from": "2020-01-01",
      "until": "2030-01-01T00:00:00Z"}, "badArgument"),
    ({"verb": "ListRecords", "metadataPrefix": "ivo_vor", "from": "yesterday"}, "badArgument"),
    ({"verb": "ListRecords", "metadataPrefix": "ivo_vor", "from": "2020-02-30"}, "badArgument"),
    ({"verb": "ListRecords", "metadataPrefix": "ivo_vor", "from": "2030-01-01", "until": "2020-01-01"},
     "badArgument"),
    ({"verb": "ListRecords", "resumptionToken": "x", "metadataPrefix": "ivo_vor"}, "badArgument"),
    ({"verb": "ListRecords", "metadataPrefix": "marc21"}, "cannotDisseminateFormat"),
    ({"verb": "GetRecord", "identifier": "ivo://lick.ucolick.org/registry", "metadataPrefix": "dif"},
     "cannotDisseminateFormat"),
    ({"verb": "ListRecords", "resumptionToken": "not-a-token"}, "badResumptionToken"),
    ({"verb": "ListIdentifiers", "resumptionToken": "eyJ2IjoxfQ"}, "badResumptionToken"),
    ({"verb": "ListSets", "resumptionToken": "anything"}, "badResumptionToken"),
    ({"verb": "GetRecord", "identifier": "ivo://lick.ucolick.org/nothing", "metadataPrefix": "ivo_vor"},
     "idDoesNotExist"),
    ({"verb": "ListMetadataFormats", "identifier": "ivo://elsewhere/x"}, "idDoesNotExist"),
    ({"verb": "ListRecords", "metadataPrefix": "ivo_vor", "from": "1990-01-01", "until": "1990-12-31"},
     "noRecordsMatch"),
    ({"verb": "ListIdentifiers", "metadataPrefix": "ivo_vor", "set": "ivo_publishers"}, "noRecordsMatch"),
]


@pytest.mark.parametrize("method", ["GET", "POST"])
@pytest.mark.parametrize(("params", "code"), ERRORS, ids=[f"{c}-{i}" for i, (_, c) in enumerate(ERRORS)])
def test_bad_requests_get_the_oai_error(live_archive, params, code, method):
    root = oai(live_archive, method, **params)
    assert error_code(root) == code
    # OAI-PMH 2.0 §3.2: after badVerb/badArgument the request element carries no attributes.
    request = root.find(f"{OAI}request")
    assert request.text == f"{live_archive}/oai"
    if code in ("badVerb", "badArgument"):
        assert not request.attrib


PUBLIC = "https://archive.example.org/vo"  # as behind the deployment's proxy (docs/deployment.md)


def _harvest(base: str, **params) -> list:
    """Everything a real harvester (sickle, from PyPI) collects, following resumption tokens."""
    from sickle import Sickle
    from sickle.oaiexceptions import NoRecordsMatch

    try:
        return list(Sickle(f"{base}/oai", max_retries=0, timeout=60).ListRecords(ignore_deleted=False, **params))
    except NoRecordsMatch:
        return []


def test_a_harvester_pages_and_harvests_changes_only(tmp_path):
    """maxRecords=2: sickle follows the tokens through every record; after a change of what one
    record says (the registry's own maxRecords), from= that moment brings that record alone, and
    tokens issued before the change are refused."""
    import time
    from datetime import datetime, timezone

    from conftest import gunicorn

    with gunicorn(tmp_path / "a.log", LICK_PUBLIC_URL=PUBLIC, LICK_REGISTRY_MAX_RECORDS="2") as base:
        first = oai(base, verb="ListIdentifiers", metadataPrefix="ivo_vor")
        headers = first.findall(f".//{OAI}header")
        token = first.find(f".//{OAI}resumptionToken")
        assert len(headers) == 2 and token.text and int(token.get("completeListSize")) >= 5
        pages = [oai(base, verb="ListIdentifiers", resumptionToken=token.text)]
        while pages[-1].findtext(f".//{OAI}resumptionToken"):
            pages.append(oai(base, verb="ListIdentifiers", resumptionToken=pages[-1].findtext(f".//{OAI}resumptionToken")))
        paged = [h.text for p in [first, *pages] for h in p.iter(f"{OAI}identifier")]
        harvested = _harvest(base, metadataPrefix="ivo_vor")
        assert [r.header.identifier for r in harvested] == paged
        assert len(set(paged)) == len(paged) == int(token.get("completeListSize"))
        assert len(_harvest(base, metadataPrefix="oai_dc")) == len(paged)
    # The change happens in a later second than anything harvested above.
    time.sleep(1.05 - datetime.now(timezone.utc).microsecond / 1e6)
    moment = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    with gunicorn(tmp_path / "b.log", LICK_PUBLIC_URL=PUBLIC, LICK_REGISTRY_MAX_RECORDS="3") as base:
        assert error_code(oai(base, verb="ListIdentifiers", resumptionToken=token.text)) == "badResumptionToken"
        changed = _harvest(base, metadataPrefix="ivo_vor", **{"from": moment})
        assert [r.header.identifier for r in changed] == ["ivo://lick.ucolick.org/registry"]
        assert changed[0].header.datestamp >= moment
        resource = etree.fromstring(changed[0].raw.encode()).find(f".//{RI}Resource")
        assert resource.findtext("capability/maxRecords") == "3"
        assert resource.get("created") < moment <= resource.get("updated")
