"""The internal ingest API answers every error in JSON, on a real gunicorn serving
``LICK_URLCONF=ingest.urls``: never Django's HTML pages, DRF's browsable pages or the public
services' VOTable errors."""
from __future__ import annotations

import json
import socket
import urllib.error
import urllib.request
from urllib.parse import urlsplit

import pytest

from archive.config import get_settings
from conftest import gunicorn


@pytest.fixture(scope="module")
def ingest_api(archive_db, tmp_path_factory):
    log = tmp_path_factory.mktemp("ingest-api") / "gunicorn.log"
    with gunicorn(log, workers=1, LICK_URLCONF="ingest.urls") as base:
        yield base


def _call(base: str, path: str, *, body: bytes | None = None, headers: dict | None = None,
          method: str | None = None, token: bool = True) -> tuple[int, str, bytes]:
    sent = {"Authorization": f"Bearer {get_settings().ingest_token}"} if token else {}
    request = urllib.request.Request(base + path, data=body, method=method, headers={**sent, **(headers or {})})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.headers.get("Content-Type", ""), response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers.get("Content-Type", ""), exc.read()


JSON = {"Content-Type": "application/json"}
TOO_BIG = json.dumps({"paths": [f"2019-05/02/shane/{i:07d}{'x' * 60}.fits" for i in range(40_000)]}).encode()


@pytest.mark.parametrize("path, kwargs, status, says", [
    ("/no/such/thing", {}, 404, "no such resource"),
    ("/files?dir=2019-05%00/02", {}, 400, "NUL"),
    ("/notifications", {"body": b'{"paths": ["a", }', "headers": JSON}, 400, "JSON parse error"),
    ("/notifications", {"body": b'{"paths": ["2019-05/02/shane/b1\\u0000.fits"]}', "headers": JSON}, 400, "NUL"),
    ("/notifications", {"body": b"paths=2019-05%00", "headers": {
        "Content-Type": "application/x-www-form-urlencoded"}}, 415, "Unsupported media type"),
    ("/dirs", {"headers": {"Accept": "text/html"}}, 406, "Accept"),
    ("/dirs", {"headers": {"Host": "rebound.example.com"}}, 400, "bad request"),
    ("/dirs", {"method": "DELETE"}, 405, "DELETE"),
    ("/dirs", {"token": False}, 401, "ingest token"),
])
def test_errors_are_json(ingest_api, path, kwargs, status, says):
    got, content_type, body = _call(ingest_api, path, **kwargs)
    assert (got, content_type) == (status, "application/json"), body[:300]
    assert says in json.loads(body)["error"]


def test_answers_are_json(ingest_api):
    got, content_type, body = _call(ingest_api, "/dirs")
    assert (got, content_type) == (200, "application/json") and "dirs" in json.loads(body)


def test_an_oversized_notification_is_refused_unread(ingest_api):
    """413 in JSON as soon as the length is known, before the body is read. Sent by hand, with
    the first 64 KB only: a client sending the whole body races the server's answer and close
    (a broken pipe instead of the answer, now and then)."""
    parts = urlsplit(ingest_api)
    head = (f"POST /notifications HTTP/1.1\r\nHost: {parts.netloc}\r\nContent-Type: application/json\r\n"
            f"Authorization: Bearer {get_settings().ingest_token}\r\nContent-Length: {len(TOO_BIG)}\r\n\r\n")
    with socket.create_connection((parts.hostname, parts.port), timeout=30) as sock:
        sock.sendall(head.encode() + TOO_BIG[:65536])
        answer = b""
        while b"\r\n\r\n" not in answer or len(answer.partition(b"\r\n\r\n")[2]) < _length(answer):
            if not (received := sock.recv(65536)):
                break
            answer += received
    status_line, _, rest = answer.partition(b"\r\n")
    headers, _, body = rest.partition(b"\r\n\r\n")
    assert status_line.startswith(b"HTTP/1.1 413"), answer[:300]
    assert b"content-type: application/json" in headers.lower()
    assert "fewer paths" in json.loads(body)["error"]


def _length(answer: bytes) -> int:
    for line in answer.partition(b"\r\n\r\n")[0].split(b"\r\n"):
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return int(value)
    return 1 << 30  # read to the close
