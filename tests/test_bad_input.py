"""Odd input to every endpoint gets a standard error document, never a 500 (through Django's test
client against the real database)."""
from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db
VOTABLE = "application/x-votable+xml"


@pytest.mark.parametrize("method, path, data", [
    ("get", "/datalink/links", {"ID": "ivo://lick\x00"}),
    ("post", "/datalink/links", {"ID": "\x00"}),
    ("get", "/datalink/download/2020-01/01/shane/r1\x00", {}),
    ("get", "/datalink/preview/\x00", {}),
    ("get", "/scs", {"RA": "10", "DEC": "10", "SR": "0.1", "VERB": "\x00"}),
    ("post", "/tap/async", {"LANG": "ADQL", "QUERY": "SELECT TOP 1 * FROM ivoa.obscore\x00"}),
    ("post", "/tap/async", {"LANG": "ADQL", "QUERY": "SELECT 1", "RUNID\x00": "x"}),
    ("post", "/datalink/bundles", {"ID": "\x00", "FORMAT": "zip"}),
])
def test_a_nul_character_is_a_usage_fault(client, method, path, data):
    """PostgreSQL cannot hold a NUL in text; it used to surface as a database error (500)."""
    response = getattr(client, method)(path, data)
    assert response.status_code == 400 and response["Content-Type"] == VOTABLE
    assert b"UsageFault: the request holds a NUL character" in response.content


def test_a_nul_character_in_a_multipart_upload_form_is_a_usage_fault(client):
    response = client.post("/tap/async", {"LANG": "ADQL", "QUERY": "SELECT 1\x00"})  # multipart by default
    assert response.status_code == 400
    response = client.post("/tap/sync", "LANG=ADQL&QUERY=SELECT%201%00",
                           content_type="application/x-www-form-urlencoded")
    assert response.status_code == 400 and b"NUL character" in response.content


def test_a_nul_character_on_the_account_api_is_a_json_error(client):
    response = client.post("/auth/login", {"username": "al\x00ice", "password": "x"})
    assert response.status_code == 400 and response.json()["error"].startswith("UsageFault")


ODD_VALUES = ["", " ", "\x00", "ä€", "1e999", "nan", "-inf", "'; DROP TABLE x; --", "x" * 5000, "../../etc/passwd"]
ENDPOINTS = {
    "/scs": {"RA": "10", "DEC": "10", "SR": "0.1"},
    "/sia/query": {"POS": "CIRCLE 10 10 0.1", "BAND": "-Inf +Inf"},
    "/tap/sync": {"LANG": "ADQL", "QUERY": "SELECT TOP 1 obs_id FROM ivoa.obscore"},
    "/tap/async": {"LANG": "ADQL", "QUERY": "SELECT TOP 1 obs_id FROM ivoa.obscore"},
    "/datalink/links": {"ID": "ivo://lick.ucolick.org/archive?2020-01/01/shane/r1"},
    "/datalink/bundles": {"ID": "2020-01/01/shane/r1"},
    "/tap/async/nojob/phase": {},
    "/tap/tables/ivoa.obscore": {},
    "/tap/capabilities": {},
    "/scs/capabilities": {},
    "/sia/capabilities": {},
    "/datalink/bundles/nobundle": {},
}
PARAMETERS = ["RA", "DEC", "SR", "VERB", "MAXREC", "ID", "RESPONSEFORMAT", "FORMAT", "QUERY", "LANG", "UPLOAD",
              "PHASE", "JOB", "POS", "BAND", "CALIB"]


@pytest.mark.parametrize("path", ENDPOINTS)
def test_odd_values_of_every_parameter_get_standard_answers(client, path):
    for value in ODD_VALUES:
        for method in ("get", "post"):
            for name in PARAMETERS:
                response = getattr(client, method)(path, {**ENDPOINTS[path], name: value})
                where = f"{method.upper()} {path} {name}={value[:20]!r}"
                assert response.status_code < 500, where
                if response.status_code >= 400:
                    assert response["Content-Type"].startswith((VOTABLE, "text/xml")), where


@pytest.mark.parametrize("path", ["/datalink/download/", "/datalink/header/", "/datalink/preview/"])
def test_odd_file_paths_get_standard_answers(client, path):
    for value in ODD_VALUES[1:]:
        response = client.get(path + value)
        assert response.status_code in (400, 404), f"{path}{value[:20]!r}"
        assert response["Content-Type"] == VOTABLE


@pytest.mark.parametrize("method, path, allowed", [
    ("post", "/tap/tables", "GET, HEAD"),
    ("delete", "/tap/capabilities", "GET, HEAD"),
    ("put", "/tap/async", "GET, HEAD, POST"),
    ("post", "/tap/async/nojob/quote", "GET, HEAD"),
])
def test_a_method_a_resource_does_not_take_is_a_405_document(method, path, allowed):
    """Not Django's empty HTML 405, nor a CSRF 403 for a POST to a read-only resource."""
    from django.test import Client

    response = getattr(Client(enforce_csrf_checks=True), method)(path)
    assert response.status_code == 405 and response["Allow"] == allowed
    assert response["Content-Type"] == VOTABLE and b"UsageFault" in response.content


def test_vo_endpoints_take_posts_without_a_csrf_token():
    """VO clients post forms without cookies or tokens; the method check must not undo the
    endpoints' CSRF exemption (it did once: pyvo got 403 creating a job)."""
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    created = client.post("/tap/async", {"LANG": "ADQL", "QUERY": "SELECT TOP 1 obs_id FROM ivoa.obscore"})
    assert created.status_code == 303
    job = created["Location"]
    assert client.post(f"{job}/parameters", {"MAXREC": "5"}).status_code == 303
    assert client.post(job, {"ACTION": "DELETE"}).status_code == 303
    assert client.post("/tap/sync", {"LANG": "ADQL", "QUERY": "SELECT TOP 1 obs_id FROM ivoa.obscore"}).status_code == 200
    assert client.post("/datalink/links", {"ID": "nothing"}).status_code == 200
