"""TAP_UPLOAD as an attacker sends it (issue #13): hostile names, remote URLs, oversized bodies.

Every test runs against the real gunicorn server with the real Celery worker and the proprietary
world of tests/proprietary_world.py, anonymously: the attacker of the issue had no account.
"""
from __future__ import annotations

import socket
import time
from urllib.parse import urlsplit
from xml.sax.saxutils import escape, quoteattr

import pytest
import requests

from tests.test_leaks import leaked

pytestmark = pytest.mark.django_db

VOT_NS = "http://www.ivoa.net/xml/VOTable/v1.3"

# The exploit of issue #13: the third FIELD's name ends the identifier of CREATE TEMPORARY TABLE,
# makes the caller staff, copies proprietary rows into the caller's own upload table and
# creates a second table to swallow the rest of the statement.
EXPLOIT_NAME = (
    'x" text); SELECT set_config(\'lick.principals\',\'{role:staff}\',false); '
    'INSERT INTO "tap_upload_t" (a,b) SELECT obs_id, target_name FROM lick.observations '
    "WHERE target_name LIKE 'LEAKSECRET%'; "
    "SELECT set_config('lick.principals','',false); CREATE TEMP TABLE \"tap_upload_z\" (\"y")
EXPLOIT_QUERY = "SELECT a, b FROM TAP_UPLOAD.t"


def votable(fields: list[dict[str, str]], rows: list[list[str]] = ()) -> bytes:
    """A TABLEDATA VOTable with these FIELD attributes (names XML-escaped, as a client writes them)."""
    heads = "".join("<FIELD " + " ".join(f"{k}={quoteattr(v)}" for k, v in f.items()) + "/>" for f in fields)
    body = "".join("<TR>" + "".join(f"<TD>{escape(v)}</TD>" for v in row) + "</TR>" for row in rows)
    return (f'<?xml version="1.0" encoding="UTF-8"?><VOTABLE version="1.4" xmlns="{VOT_NS}"><RESOURCE><TABLE>'
            f"{heads}<DATA><TABLEDATA>{body}</TABLEDATA></DATA></TABLE></RESOURCE></VOTABLE>").encode()


def text_field(name: str) -> dict[str, str]:
    return {"name": name, "datatype": "char", "arraysize": "*"}


EXPLOIT = votable([text_field("a"), text_field("b"), text_field(EXPLOIT_NAME)])


def sync_upload(base: str, table: bytes, query: str, upload: str = "t,param:t", headers=None):
    return requests.post(f"{base}/tap/sync", data={"LANG": "ADQL", "RESPONSEFORMAT": "csv", "UPLOAD": upload,
                                                   "QUERY": query},
                         files={"t": ("t.xml", table, "application/x-votable+xml")}, headers=headers, timeout=60)


def async_upload(base: str, table: bytes, query: str, headers=None) -> tuple[str, bytes]:
    """Run an async job with the upload to its end: (phase, the result or error document)."""
    created = requests.post(f"{base}/tap/async", data={"LANG": "ADQL", "RESPONSEFORMAT": "csv", "PHASE": "RUN",
                                                       "UPLOAD": "t,param:t", "QUERY": query},
                            files={"t": ("t.xml", table, "application/x-votable+xml")}, headers=headers,
                            timeout=60)
    assert created.status_code == 200 and created.history and created.history[0].status_code == 303, created.text
    job = created.url
    for _ in range(60):
        phase = requests.get(f"{job}/phase", headers=headers, timeout=30).text
        if phase in ("COMPLETED", "ERROR", "ABORTED"):
            break
        requests.get(job, params={"WAIT": 5}, headers=headers, timeout=30)
    suffix = "/results/result" if phase == "COMPLETED" else "/error"
    return phase, requests.get(job + suffix, headers=headers, timeout=30).content


def assert_usage_fault(response: requests.Response) -> None:
    assert response.status_code == 400, (response.status_code, response.text[:500])
    assert response.headers["Content-Type"].startswith("application/x-votable+xml")
    assert 'value="ERROR"' in response.text and "UsageFault" in response.text, response.text[:500]


def test_the_injection_of_issue_13_is_refused_sync(live_archive, world):
    response = sync_upload(live_archive, EXPLOIT, EXPLOIT_QUERY)
    assert leaked(response.content) == [], "the exploit read proprietary rows"
    assert_usage_fault(response)
    # nothing ran: the staff principal did not stay on a pooled connection either
    plain = requests.post(f"{live_archive}/tap/sync", data={
        "LANG": "ADQL", "FORMAT": "csv", "QUERY": "SELECT obs_id FROM ivoa.obscore WHERE target_name LIKE 'LEAK%'"},
        timeout=60)
    assert plain.status_code == 200 and leaked(plain.content) == []


def test_the_injection_of_issue_13_is_refused_async(live_archive, world):
    phase, document = async_upload(live_archive, EXPLOIT, EXPLOIT_QUERY)
    assert leaked(document) == [], "the exploit read proprietary rows"
    assert phase == "ERROR" and b"UsageFault" in document, (phase, document[:500])
