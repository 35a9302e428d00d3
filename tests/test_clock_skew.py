"""A web host whose clock is 10 minutes off the database server's (issue 20).

The caller's principals are signed with an expiry that the database checks against its own
transaction time (archive/principals.py). Signed with the host's clock, a host 10 minutes behind
made values that had expired on arrival (its logged-in users silently saw public data only), and
one 10 minutes ahead made values that lived 15 minutes. Now the expiry is in the database's
time and the skew is a logged error. Proved on the real gunicorn run under libfaketime (Debian's
``faketime`` package): its clock, and only its, is moved.
"""
from __future__ import annotations

import glob
import re
import time
from email.utils import parsedate_to_datetime

import pytest
import requests

from conftest import gunicorn
from tests.proprietary_world import NIGHT_DIR

LIBFAKETIME = sorted(glob.glob("/usr/lib/*/faketime/libfaketimeMT.so.1"))


def _visible(base: str, token: str | None) -> int:
    """How many of the proprietary world's rows (three of alice's program, one public) a caller sees."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    answer = requests.post(f"{base}/tap/sync", headers=headers, timeout=60, data={
        "LANG": "ADQL", "RESPONSEFORMAT": "csv",
        "QUERY": f"SELECT COUNT(*) AS n FROM ivoa.obscore WHERE obs_id LIKE '{NIGHT_DIR}/leak%'"})
    assert answer.status_code == 200, answer.text[:800]
    return int(answer.text.splitlines()[1])


@pytest.mark.skipif(not LIBFAKETIME, reason="libfaketime is missing: scripts/setup.sh installs 'faketime'")
@pytest.mark.parametrize("skew_s, word", [(600, "ahead of"), (-600, "behind")])
def test_a_skewed_web_host_still_shows_owners_their_rows_and_says_so(proprietary, tmp_path, skew_s, word):
    log = tmp_path / "gunicorn.log"
    with gunicorn(log, workers=1, LD_PRELOAD=LIBFAKETIME[-1], FAKETIME=f"{skew_s:+d}") as base:
        date = requests.get(f"{base}/tap/availability", timeout=30).headers["Date"]
        assert abs(parsedate_to_datetime(date).timestamp() - time.time() - skew_s) < 60, "not skewed"
        for _ in range(2):  # the second query signs with the clock read by the first
            assert _visible(base, proprietary.tokens["alice"]) == 4, log.read_text()[-3000:]
            assert _visible(base, proprietary.tokens["bob"]) == 1
            assert _visible(base, None) == 1
    logged = re.findall(rf"this host's clock is (\d+) s {word} the database server's", log.read_text())
    assert logged and abs(int(logged[0]) - abs(skew_s)) <= 2, log.read_text()[-3000:]
