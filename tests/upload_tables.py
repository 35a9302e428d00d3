"""VOTables for upload tests, written as a client writes them (attribute values XML-escaped)."""
from __future__ import annotations

from xml.sax.saxutils import escape, quoteattr

import requests

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


def votable(fields: list[dict[str, str]], rows=()) -> bytes:
    """A TABLEDATA VOTable with these FIELD attributes and rows of cell texts."""
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
