"""UWS 1.1 job handling of /tap/async that does not need a query to run."""
from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from vo_services.tap.models import Job

UWS = "{http://www.ivoa.net/xml/UWS/v1.0}"
pytestmark = pytest.mark.django_db(transaction=True)


def _create(client, **params) -> str:
    response = client.post("/tap/async", {"LANG": "ADQL", "QUERY": "SELECT TOP 1 * FROM ivoa.obscore", **params})
    assert response.status_code == 303
    return response["Location"]


def _path(url: str) -> str:
    return url[url.index("/tap/"):]


def test_create_gives_a_pending_job_with_its_parameters(client):
    url = _create(client, RUNID="TAPLINT-001", dummy="ignore-me")
    response = client.get(_path(url))
    assert response.status_code == 200 and response["Content-Type"].startswith("text/xml")
    job = ET.fromstring(response.content)
    assert job.get("version") == "1.1"
    assert job.findtext(f"{UWS}jobId") == url.rsplit("/", 1)[1]
    assert job.findtext(f"{UWS}phase") == "PENDING"
    assert job.findtext(f"{UWS}runId") == "TAPLINT-001"
    children = [c.tag.removeprefix(UWS) for c in job]
    assert children[:10] == ["jobId", "runId", "ownerId", "phase", "quote", "creationTime", "startTime",
                             "endTime", "executionDuration", "destruction"]  # UWS 1.1 Appendix B order
    assert job.find(f"{UWS}creationTime").text.endswith("Z")
    params = {p.get("id"): p.text for p in job.find(f"{UWS}parameters")}
    assert params["query"] == "SELECT TOP 1 * FROM ivoa.obscore" and params["lang"] == "ADQL"
    assert client.get(_path(url) + "/phase").content == b"PENDING"


def test_sub_resources_agree_with_the_job_document(client):
    url = _create(client)
    job = ET.fromstring(client.get(_path(url)).content)
    assert client.get(_path(url) + "/executionduration").content.decode() == job.findtext(f"{UWS}executionDuration")
    assert client.get(_path(url) + "/destruction").content.decode() == job.findtext(f"{UWS}destruction")
    assert client.get(_path(url) + "/quote").content.decode() == job.findtext(f"{UWS}quote")
    assert client.get(_path(url) + "/owner").content == b""


def test_parameters_change_only_while_pending(client):
    url = _create(client)
    assert client.post(_path(url) + "/parameters", {"runId": "second"}).status_code == 303
    assert Job.objects.get(id=url.rsplit("/", 1)[1]).run_id == "second"
    assert client.post(_path(url) + "/executionduration", {"EXECUTIONDURATION": "99999999"}).status_code == 303
    assert int(client.get(_path(url) + "/executionduration").content) == 14_400  # clamped to the hard limit
    assert client.post(_path(url) + "/phase", {"PHASE": "ABORT"}).status_code == 303
    assert client.get(_path(url) + "/phase").content == b"ABORTED"
    refused = client.post(_path(url) + "/parameters", {"QUERY": "SELECT 1"})
    assert refused.status_code == 403 and b"QUERY_STATUS" in refused.content


def test_delete_both_ways_then_404(client):
    for how in ("http", "action"):
        url = _create(client)
        response = client.delete(_path(url)) if how == "http" else client.post(_path(url), {"ACTION": "DELETE"})
        assert response.status_code == 303 and response["Location"].endswith("/tap/async")
        gone = client.get(_path(url))
        assert gone.status_code == 404 and b'value="ERROR"' in gone.content


def test_bad_requests_get_votable_errors(client):
    url = _create(client)
    assert client.post(_path(url) + "/phase", {"PHASE": "EXPLODE"}).status_code == 400
    assert client.get(_path(url) + "/error").status_code == 404  # not failed: no error document
    assert client.get(_path(url) + "/results/result").status_code == 404
    assert client.get("/tap/async?LAST=-3").status_code == 400
    assert client.get("/tap/async/nosuchjob").status_code == 404


def test_wait_blocks_only_in_active_phases_and_the_list_filters(client):
    import time

    url = _create(client)
    started = time.monotonic()
    assert client.get(_path(url) + "?WAIT=1").status_code == 200  # PENDING: blocks up to WAIT
    assert 0.9 < time.monotonic() - started < 5
    client.post(_path(url) + "/phase", {"PHASE": "ABORT"})
    started = time.monotonic()
    client.get(_path(url) + "?WAIT=30")  # a final phase: answers at once (UWS §2.2.1.2)
    assert time.monotonic() - started < 2
    listed = ET.fromstring(client.get("/tap/async?PHASE=ABORTED").content)
    assert listed.tag == f"{UWS}jobs" and listed.get("version") == "1.1"
