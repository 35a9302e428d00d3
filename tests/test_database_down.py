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
