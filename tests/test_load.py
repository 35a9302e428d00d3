"""Correct under load (issue #20): 32 clients at once against the real gunicorn on loopback.

The mix: cone searches, small TAP sync queries, 100,000-row TAP queries as BINARY2, DataLink
links, file downloads by HTTP Range requests (the slice's bytes checked, and ranges past the end),
the portal's search page, async jobs (submitted, followed with WAIT, fetched, deleted) and cone
searches over the proprietary rows, from anonymous callers and users logged in with a Bearer
token or HTTP Basic; two clients flood the cone search to meet the rate limit. Every
answer must be what a correct service gives one caller at a time: a well-formed VOTable (or UWS
document) with the expected status, no 5xx but the sync slots' 503 (with Retry-After), no
connection reset, no proprietary row or file byte to anyone but its owner, every owner seeing all
of theirs.
The limits hold exactly: an address's counted requests beyond LICK_RATE_LIMIT, and only those,
are 429s; a user never has more async jobs in flight than LICK_ASYNC_JOBS_PER_USER. PostgreSQL
connections stay within the pools' bound while it runs and are idle afterwards. Every process of
the server (gunicorn's master and workers, the Celery worker and its pool) keeps its peak
resident set under :data:`RSS_BOUND_MB`, and no password, token or Basic credential reaches a log.

Bounded in time and count (LICK_LOAD_SECONDS of load, 60 s unless set); the figures
(percentiles per kind, peak RSS) are printed (``-s``), not asserted: bench/bench_load.py makes them
on the 1,000,000-row database.
"""
from __future__ import annotations

import base64
import os
import time
import urllib.parse
import uuid
from pathlib import Path

import pytest

from bench.load_mix import (BIG_COLUMNS, Caller, Download, Sampler, Scenario, connections_now, peak_rss_mb,
                            process_tree, rss_lines, run_load, summary)
from conftest import gunicorn
from tests.proprietary_world import DEC, MARKER, PASSWORDS, RA
from tests.test_fuzz import Client

pytestmark = pytest.mark.slow

WORKERS = 2
THREADS = 4  # vo_services/gunicorn_config.py
JOBS_PER_USER = 2
APP_NAME = f"lick-load-{uuid.uuid4().hex[:8]}"
CLIENTS = 32
# The 60 s: the test takes ~2 min in all, ~40 s more than with 20 s of load (measured
# beside the other engineers' work, load average 7-9), which the CI's budget holds.
SECONDS = int(os.environ.get("LICK_LOAD_SECONDS", "60"))
BUDGET = 4 * SECONDS  # requests per client at most, more than it manages in SECONDS
RATE_LIMIT = BUDGET + 10  # only the flooders pass it
RSS_BOUND_MB = 600  # each process; a gunicorn worker is ~150 MB when idle, a 100,000-row answer is ~5 MB
# Where a web process takes PostgreSQL connections from; each holds at most one per thread at a
# time and keeps no more idle than it had in use (Django: one per thread, CONN_MAX_AGE; the SQLAlchemy
# engines' pools: 5 >= threads; vo_services/results/connections.py: KEEP_IDLE = 4 >= threads).
CONNECTION_SOURCES = ("Django", "engine('query')", "engine('owner')", "results TEXT pool", "results BINARY pool")
MIX = {"cone": 5, "tap_small": 4, "datalink": 3, "download": 3, "portal_search": 2, "secret_cone": 2,
       "async_job": 1, "tap_100k": 1}
ALICE_MIX = {**MIX, "async_job": 30}  # her six clients together meet her job limit (~4 in 5 draws)


@pytest.fixture(scope="module")
def loaded_server(demo_archive, proprietary, celery_worker, tmp_path_factory):
    log = tmp_path_factory.mktemp("load") / "gunicorn.log"
    env = {"PGAPPNAME": APP_NAME, "LICK_TRUSTED_PROXIES": "127.0.0.1", "LICK_RATE_LIMIT": str(RATE_LIMIT),
           "LICK_RATE_WINDOW": "86400", "LICK_ASYNC_JOBS_PER_USER": str(JOBS_PER_USER)}
    with gunicorn(log, workers=WORKERS, **env) as base:
        yield base, log


def _server_pid(base: str) -> int:
    """The gunicorn master serving ``base``: a child of this process listening on its port."""
    port = base.rsplit(":", 1)[1]
    for pid in process_tree(os.getpid())[1:]:
        command = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        if any(b"gunicorn" in word for word in command[:2]) and f"127.0.0.1:{port}".encode() in command:
            return pid
    raise AssertionError(f"no gunicorn of this test listens on {port}")


def _scenario(base: str, world) -> Scenario:
    query = ("SELECT TOP 40 obs_publisher_did, s_ra, s_dec, obs_id FROM ivoa.obscore WHERE s_ra IS NOT NULL "
             "ORDER BY obs_id")
    _, _, body = Client(base).request(
        "GET", "/tap/sync?" + urllib.parse.urlencode({"LANG": "ADQL", "RESPONSEFORMAT": "csv", "QUERY": query}))
    rows = [line.split(",") for line in body.decode().splitlines()[1:]]
    assert len(rows) >= 20, body[:500]
    downloads = []
    for _, _, _, obs_id in rows[:8]:
        status, _, content = Client(base).request("GET", f"/datalink/download/{obs_id}")
        assert status == 200 and content, (obs_id, status)
        downloads.append(Download(f"/datalink/download/{obs_id}", content))
    downloads += [Download(f"/datalink/download/{obs_id}", world.files[obs_id].read_bytes(), frozenset({"alice"}))
                  for obs_id in world.secret_ids]
    # The demo holds some 300 observations: 100,000 rows come from a product of the table with itself
    doubles = "a.s_ra, a.s_dec, b.s_ra AS b_ra, c.t_exptime"
    assert doubles.count(",") + 1 == BIG_COLUMNS
    return Scenario(
        cones=[(float(ra), float(dec), 0.5) for _, ra, dec, _ in rows],
        datalink_ids=[did for did, _, _, _ in rows],
        small_queries=[f"SELECT TOP 10 obs_id, s_ra, s_dec, t_min FROM ivoa.obscore WHERE "
                       f"1=CONTAINS(POINT('ICRS', s_ra, s_dec), CIRCLE('ICRS', {ra}, {dec}, 1))" for _, ra, dec, _ in rows[:10]]
        + ["SELECT COUNT(*) AS n FROM ivoa.obscore", "SELECT TOP 20 table_name, column_name FROM TAP_SCHEMA.columns"],
        secret_marker=MARKER, secret_owners=frozenset({"alice"}), secret_cone=(RA, DEC, 0.1), secret_rows=3,
        big_query=f"SELECT TOP 100000 {doubles} FROM ivoa.obscore AS a, ivoa.obscore AS b, ivoa.obscore AS c",
        downloads=downloads,
        searches=["instrument=Kast+Red&frame=science&sort=night", "telescope=Nickel&exp_min=10&exp_max=900",
                  f"coords={rows[0][1]}+{rows[0][2]}&radius=60&sort=time",
                  "start=1990-01-01&end=2030-12-31&telescope=Shane&access=public",
                  f"coords={RA}+{DEC}&radius=6"])  # over the proprietary rows


def _basic(user: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{PASSWORDS[user]}".encode()).decode()}


def _callers(world) -> list[tuple[Caller, str]]:
    """20 anonymous clients, 6 of alice (the owner of the secret rows; one user, many clients: her
    job limit is met), 4 of bob (a user who may not see them), 2 anonymous flooders. Half of each
    user's clients send a Bearer token, half their password (HTTP Basic)."""
    anonymous = Caller("anonymous")
    alice, alice_basic = Caller("alice", world.http_headers("alice")), Caller("alice", _basic("alice"))
    bob, bob_basic = Caller("bob", world.http_headers("bob")), Caller("bob", _basic("bob"))
    who = [anonymous] * 20 + [alice, alice_basic] * 3 + [bob, bob_basic] * 2 + [anonymous] * 2
    return [(caller, f"10.77.0.{n + 1}") for n, caller in enumerate(who)]


def test_32_clients_get_correct_answers_and_the_limits_hold(loaded_server, proprietary, owner_conn, celery_worker):
    base, log = loaded_server
    from archive.config import get_settings

    callers = _callers(proprietary)
    flooders = {CLIENTS - 2, CLIENTS - 1}
    # The flooders come close to the rate limit first, so that they pass it during the load
    # however slow the machine is today: the requests before, counted alike, are real ones.
    before = RATE_LIMIT - 5
    for n in flooders:
        client = Client(base)
        for _ in range(before):
            assert client.request("GET", "/scs?RA=10&DEC=10&SR=0.1", headers={"X-Forwarded-For": callers[n][1]})[0] == 200
    sampler = Sampler(get_settings().dsn("owner"), APP_NAME)
    sampler.start()
    exchanges, elapsed = run_load(base, callers, _scenario(base, proprietary), MIX, SECONDS, BUDGET,
                                  mixes={**{n: ALICE_MIX for n in range(20, 26)}, **{n: {"cone": 1} for n in flooders}},
                                  budgets={n: 20 for n in flooders})
    sampler.stop()
    print("\n".join(summary(exchanges, elapsed)))
    print(f"peak PostgreSQL connections of the server: {sampler.peak_connections}; "
          f"peak jobs in flight per owner: {sampler.peak_jobs_per_owner}")
    peaks = peak_rss_mb(process_tree(_server_pid(base)) + process_tree(celery_worker.process.pid))
    print("\n".join(rss_lines(peaks)))

    # every answer as expected: no 5xx, no reset, valid documents, no leak, owners see theirs
    problems = [e for e in exchanges if e.problem]
    assert not problems, [(e.kind, e.caller, e.status, e.problem[:300]) for e in problems[:10]]
    assert len(exchanges) >= CLIENTS * 10
    kinds = {e.kind for e in exchanges}
    assert {"cone", "tap_small", "tap_100k", "datalink", "download", "portal_search", "secret_cone",
            "async_submit", "async_result"} <= kinds, kinds
    assert {e.status for e in exchanges if e.kind == "download"} >= {206, 416, 401}
    assert {e.caller for e in exchanges if e.kind == "download" and e.status == 206} >= {"anonymous", "alice", "bob"}

    # the rate limit: per address, the counted requests beyond the limit are 429s, and only those
    for client in range(CLIENTS):
        counted = [e for e in exchanges if e.client == client and e.rate_counted and e.limit != "LICK_ASYNC_JOBS_PER_USER"]
        refused = [i for i, e in enumerate(counted) if e.status == 429]
        allowed = RATE_LIMIT - (before if client in flooders else 0)
        assert refused == list(range(allowed, len(counted))), (client, refused, len(counted))
        assert all(counted[i].limit == "LICK_RATE_LIMIT" for i in refused)
    assert all(len([e for e in exchanges if e.client == n and e.status == 429]) > 0 for n in flooders)

    # memory: every process of the server and of the worker stays bounded
    assert len(peaks) >= 1 + WORKERS + 2, peaks
    assert all(mb < RSS_BOUND_MB for _, mb in peaks.values()), rss_lines(peaks)

    # a 503 is only ever the server's sync slots (vo_services/sync_slots.py), on TAP sync or the portal's search
    assert all(e.limit == "LICK_SYNC_SLOTS" and e.path.startswith(("/tap/sync", "/search"))
               for e in exchanges if e.status == 503)

    # the job limit: never more in flight than allowed; refusals name it
    assert sampler.peak_jobs_per_owner.get("alice", 0) <= JOBS_PER_USER, sampler.peak_jobs_per_owner
    refusals = [e for e in exchanges if e.limit == "LICK_ASYNC_JOBS_PER_USER"]
    assert refusals and all(e.caller == "alice" and e.kind == "async_submit" for e in refusals)

    # PostgreSQL connections: within the pools' bound while loaded, none busy afterwards
    bound = WORKERS * THREADS * len(CONNECTION_SOURCES)
    assert 0 < sampler.peak_connections <= bound, (sampler.peak_connections, bound)
    deadline = time.monotonic() + 15
    while (states := connections_now(get_settings().dsn("owner"), APP_NAME)).keys() - {"idle"}:
        assert time.monotonic() < deadline, f"connections still busy after the load: {states}"
        time.sleep(0.5)

    # the server stayed well: nothing logged as an error, and it still answers
    text = log.read_text()
    assert "Traceback" not in text and "[ERROR]" not in text, text[-3000:]
    assert Client(base).request("GET", "/tap/availability")[0] == 200

    # no credential of the load in any log (as tests/test_secrets_in_logs.py, after the load)
    used = [*proprietary.tokens.values(), *PASSWORDS.values(),
            *(_basic(user)["Authorization"].split()[1] for user in PASSWORDS)]
    logs = {"VO gunicorn": text, "Celery worker": celery_worker.log.read_text()}
    assert "/datalink/download/" in logs["VO gunicorn"] and "run_job" in logs["Celery worker"]
    for secret in used:
        for name, content in logs.items():
            assert secret not in content, f"a secret ({secret[:4]}…) is in the {name}'s log"
