"""With the database out of reach, the services say so as the protocols want: 503 with
Retry-After and an error document, never a 500 (the pool's connect used to escape as one)."""
from __future__ import annotations

import socket

import pytest
import requests


@pytest.fixture(scope="module")
def cut_off(archive_db, tmp_path_factory):
    """The VO services under gunicorn, configured with a database port nothing listens on."""
    from conftest import gunicorn

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        dead_port = s.getsockname()[1]  # closed again: connections to it are refused
    with gunicorn(tmp_path_factory.mktemp("cut-off") / "gunicorn.log", workers=1,
                  LICK_DB_PORT=str(dead_port)) as base:
        yield base


def test_tap_sync_without_a_database_is_503_with_retry_after(cut_off):
    answer = requests.post(f"{cut_off}/tap/sync", timeout=60,
                           data={"LANG": "ADQL", "QUERY": "SELECT TOP 1 obs_id FROM ivoa.obscore"})
    assert answer.status_code == 503, answer.text[:500]
    assert int(answer.headers["Retry-After"]) > 0
    assert b'<INFO name="QUERY_STATUS" value="ERROR">' in answer.content
    assert b"ServiceUnavailable" in answer.content


def test_cone_search_without_a_database_is_503_with_retry_after(cut_off):
    answer = requests.get(f"{cut_off}/scs", params={"RA": 10, "DEC": 20, "SR": 0.1}, timeout=60)
    assert answer.status_code == 503, answer.text[:500]
    assert int(answer.headers["Retry-After"]) > 0
    assert b'<INFO name="Error"' in answer.content


def test_sia_without_a_database_is_503_with_retry_after(cut_off):
    answer = requests.get(f"{cut_off}/sia/query", params={"POS": "CIRCLE 10 20 0.1"}, timeout=60)
    assert answer.status_code == 503, answer.text[:500]
    assert int(answer.headers["Retry-After"]) > 0
    assert b'<INFO name="QUERY_STATUS" value="ERROR">ServiceUnavailable' in answer.content


def test_orm_paths_without_a_database_are_503_with_retry_after(cut_off):
    """Paths that reach the database through Django's ORM (UWS jobs) or a middleware: the error
    escaped as a 500 with "internal error" (seen under load when the server's slots ran out)."""
    submit = {"LANG": "ADQL", "QUERY": "SELECT TOP 1 obs_id FROM ivoa.obscore"}
    for method, url in (("POST", f"{cut_off}/tap/async"), ("GET", f"{cut_off}/tap/async/0123456789abcdef"),
                        ("GET", f"{cut_off}/tap/async/0123456789abcdef/results/result")):
        answer = requests.request(method, url, timeout=60, data=submit if method == "POST" else None)
        assert answer.status_code == 503, (url, answer.status_code, answer.text[:500])
        assert int(answer.headers["Retry-After"]) > 0
        assert b"ServiceUnavailable" in answer.content and b"Traceback" not in answer.content


def test_portal_page_without_a_database_is_a_plain_503_page(cut_off):
    answer = requests.get(f"{cut_off}/search", params={"target": "M31"}, timeout=60)
    assert answer.status_code == 503, answer.text[:500]
    assert int(answer.headers["Retry-After"]) > 0
    assert answer.headers["Content-Type"].startswith("text/html")
    assert "Temporarily unavailable" in answer.text
