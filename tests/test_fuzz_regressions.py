"""Fast regression cases for what tests/test_fuzz.py found (each failed before its fix)."""
from __future__ import annotations

import pytest

from ingest.fitsread import parse_header_bytes
from vo_services.dali import DaliParams
from vo_services.tap.execution import TapRequest, TapUsageError


def _header(*cards: str) -> bytes:
    data = b"".join(c.encode().ljust(80) for c in (*cards, "END"))
    return data + b" " * (-len(data) % 2880)


def test_a_huge_naxis_is_a_bad_card_not_an_endless_loop():
    """NAXIS = 10**13 made the shape loop run 10**13 times before the range was checked."""
    read = parse_header_bytes(_header("SIMPLE  =                    T", "BITPIX  =                   16",
                                      "NAXIS   =       10000000000000"))
    assert read.shape == ()


def test_a_repeated_runid_is_a_usage_error():
    """DALI §3.2: a single-valued parameter given twice; it escaped as DaliParameterError (a 500)."""
    with pytest.raises(TapUsageError, match="RUNID"):
        TapRequest.from_params(DaliParams([("QUERY", "SELECT TOP 1 obs_id FROM ivoa.obscore"),
                                           ("RUNID", "a"), ("RUNID", "b")]))


@pytest.mark.django_db
@pytest.mark.parametrize("name, value", [("EXECUTIONDURATION", "inf"), ("EXECUTIONDURATION", "1e999"),
                                         ("DESTRUCTION", "0001-01-01T00:00:00+05:00"), ("DESTRUCTION", "never")])
def test_unreadable_job_times_are_usage_errors(client, name, value):
    """UWS §2.2.3: at creation and posted to the job; 'inf' was an OverflowError (a 500)."""
    created = client.post("/tap/async", {"LANG": "ADQL", "QUERY": "SELECT TOP 1 obs_id FROM ivoa.obscore",
                                         name: value})
    assert created.status_code == 400 and b'value="ERROR"' in created.content
    job = client.post("/tap/async", {"LANG": "ADQL", "QUERY": "SELECT TOP 1 obs_id FROM ivoa.obscore"})
    posted = client.post(f"{job['Location']}/{name.lower()}", {name: value})
    assert posted.status_code == 400 and b'value="ERROR"' in posted.content


@pytest.mark.django_db
def test_a_repeated_phase_is_a_usage_error(client):
    """DALI §3.2: PHASE twice with different values escaped the phase view as a 500."""
    job = client.post("/tap/async", {"LANG": "ADQL", "QUERY": "SELECT TOP 1 obs_id FROM ivoa.obscore"})
    posted = client.post(f"{job['Location']}/phase", {"PHASE": ["RUN", "ABORT"]})
    assert posted.status_code == 400 and b"PHASE may be given only once" in posted.content
