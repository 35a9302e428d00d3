"""Users' queries on a real PostgreSQL streaming replica, writes on the primary (issue #20).

The module builds its own pair on free loopback ports (tests/own_servers.py): a primary set up by
scripts/setup.sh, demo data ingested on it after a hot standby was made with ``pg_basebackup -R``,
so the rows reach the replica by streaming replication. gunicorn and a Celery worker run with
``LICK_QUERY_DB_HOSTS`` naming the replica. Both servers log every statement with its role
(``%u@%d``), which shows where each request's SQL ran.
"""
from __future__ import annotations

import time
import urllib.parse

import pytest
import requests

from conftest import gunicorn
from ingest.store import publisher_did
from tests.own_servers import Cluster, celery, lick_admin, set_up_archive
from tests.upload_tables import text_field, votable

pytestmark = pytest.mark.slow

DB = "lick_replica"
SECRET_PROGRAM = "REPLA"


class Pair:
    def __init__(self, primary: Cluster, replica: Cluster, env: dict[str, str], base: str, token: str):
        self.primary, self.replica, self.env, self.base, self.token = primary, replica, env, base, token
        self._marks: dict[str, int] = {}

    def mark(self) -> None:
        """Remember where both servers' logs end: :meth:`query_lines` reads what came after."""
        self._marks = {"primary": len(self.primary.log_text()), "replica": len(self.replica.log_text())}

    def query_lines(self, server: str) -> list[str]:
        """Statements the query role ran on ``server`` since :meth:`mark`."""
        cluster = self.primary if server == "primary" else self.replica
        new = cluster.log_text()[self._marks[server]:]
        return [line for line in new.splitlines() if f" lick_query@{DB} " in line and ("statement:" in line or "execute " in line)]

    def owner_count(self, cluster: Cluster, where: str = "true") -> int:
        return int(cluster.superuser_sql(f"SELECT count(*) FROM lick.observation WHERE {where}", db=DB))


def _wait(predicate, what: str, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.3)


@pytest.fixture(scope="module")
def pair(tmp_path_factory):
    work = tmp_path_factory.mktemp("replica")
    primary = Cluster.create("primary")
    replica = None
    try:
        primary.start()
        env = set_up_archive(primary, DB)
        replica = primary.replica("replica")
        env.update(LICK_ARCHIVE_ROOT=str(work / "archive"), LICK_RESULTS_DIR=str(work / "results"),
                   LICK_BUNDLE_DIR=str(work / "bundles"), LICK_PREVIEW_DIR=str(work / "previews"),
                   LICK_CELERY_QUEUE=f"{env['LICK_CELERY_QUEUE']}_replica",
                   LICK_QUERY_DB_HOSTS=f"127.0.0.1:{replica.port}")
        # Ingest on the primary, after the replica was made: the rows reach it by streaming.
        out = lick_admin(env, "generate-demo", "--files", "80", "--seed", "3")
        schedule = next(line for line in out.splitlines() if line.startswith("schedule: "))
        lick_admin(env, "import-schedule", schedule.removeprefix("schedule: ").split(",")[0])
        lick_admin(env, "ingest", "--quiet", "--jobs", "1")
        # Every row released but three, proprietary to a program whose one observer has a token.
        primary.superuser_sql(
            "UPDATE lick.observation SET obs_release_date = now() - interval '1 day';"
            f"INSERT INTO lick.program (program_id, title) VALUES ('{SECRET_PROGRAM}', 'replica test');"
            "WITH chosen AS (SELECT id FROM lick.observation ORDER BY obs_id LIMIT 3) "
            "UPDATE lick.observation SET obs_release_date = now() + interval '1 year', target_name = 'REPLSECRET' "
            "WHERE id IN (SELECT id FROM chosen);"
            "INSERT INTO lick.access_grant (observation_id, principal, reason) SELECT id, "
            f"'program:{SECRET_PROGRAM}', 'test' FROM lick.observation WHERE target_name = 'REPLSECRET'", db=DB)
        token = lick_admin(env, "user", "repl_observer", "--program", SECRET_PROGRAM,
                           "--token", "tests").strip().splitlines()[-1]
        services = {k: v for k, v in env.items() if k.startswith("LICK_")}
        with celery(env, work / "worker.log"), gunicorn(work / "gunicorn.log", workers=1, **services) as base:
            yield Pair(primary, replica, env, base, token)
    finally:
        if replica is not None:
            replica.remove()
        primary.remove()


def _replayed(pair: Pair) -> bool:
    return pair.owner_count(pair.replica, "target_name = 'REPLSECRET'") == 3 and \
        pair.owner_count(pair.replica) == pair.owner_count(pair.primary)


def _tap_count(pair: Pair, marker: str, who_token: str | None = None, where: str = "") -> int:
    headers = {"Authorization": f"Bearer {who_token}"} if who_token else {}
    answer = requests.post(f"{pair.base}/tap/sync", headers=headers, timeout=60, data={
        "LANG": "ADQL", "RESPONSEFORMAT": "csv", "QUERY": f"SELECT COUNT(*) AS {marker} FROM ivoa.obscore {where}"})
    assert answer.status_code == 200, answer.text[:800]
    return _csv_count(answer.text)


def _csv_count(text: str) -> int:
    return int(text.splitlines()[1])


def test_rows_ingested_on_the_primary_reach_the_replica(pair):
    assert pair.replica.superuser_sql("SELECT pg_is_in_recovery()") == "t"
    assert pair.primary.superuser_sql("SELECT pg_is_in_recovery()") == "f"
    _wait(lambda: _replayed(pair), "the replica to replay the ingest")
    assert pair.owner_count(pair.replica) > 10


def test_tap_sync_runs_on_the_replica_under_the_access_rule(pair):
    _wait(lambda: _replayed(pair), "the replica to replay the ingest")
    released = pair.owner_count(pair.primary, "obs_release_date <= now()")
    pair.mark()
    anonymous = _tap_count(pair, "replica_sync_anon")
    observer = _tap_count(pair, "replica_sync_observer", pair.token)
    assert anonymous == released == pair.owner_count(pair.primary) - 3
    assert observer == anonymous + 3  # the signed principals verify on the standby
    assert _tap_count(pair, "replica_sync_secret", where="WHERE target_name = 'REPLSECRET'") == 0
    replica_sql = "\n".join(pair.query_lines("replica"))
    assert "replica_sync_anon" in replica_sql and "replica_sync_observer" in replica_sql
    assert pair.query_lines("primary") == []


def test_a_forged_principal_opens_nothing_on_the_replica(pair):
    """The query role on the standby cannot sign principals: the key is the owner's alone."""
    _wait(lambda: _replayed(pair), "the replica to replay the ingest")
    forged = ("SELECT COUNT(*) AS n FROM ivoa.obscore WHERE target_name = 'REPLSECRET' "
              "AND 1 = (SELECT 1 FROM tap_schema.schemas WHERE "
              f"set_config('lick.principals', '{{program:{SECRET_PROGRAM}}}', true) IS NOT NULL LIMIT 1)")
    answer = requests.post(f"{pair.base}/tap/sync", data={"LANG": "ADQL", "QUERY": forged, "RESPONSEFORMAT": "csv"},
                           timeout=60)
    # Refused by the ADQL checker, or run and empty: never the secret rows.
    assert b"REPLSECRET" not in answer.content
    if answer.status_code == 200:
        assert _csv_count(answer.text) == 0


def test_tap_async_runs_on_the_replica_and_its_job_lives_on_the_primary(pair):
    _wait(lambda: _replayed(pair), "the replica to replay the ingest")
    pair.mark()
    answer = requests.post(f"{pair.base}/tap/async", allow_redirects=False, timeout=60, data={
        "LANG": "ADQL", "PHASE": "RUN", "RESPONSEFORMAT": "csv", "QUERY": "SELECT COUNT(*) AS replica_async_marker FROM ivoa.obscore"})
    assert answer.status_code == 303, answer.text[:500]
    job_url = urllib.parse.urljoin(pair.base + "/", answer.headers["Location"])
    job_id = job_url.rstrip("/").rsplit("/", 1)[1]
    assert pair.primary.superuser_sql(f"SELECT count(*) FROM tap_job WHERE id = '{job_id}'", db=DB) == "1"

    def finished() -> bool:
        return requests.get(f"{job_url}/phase", timeout=30).text.strip() in ("COMPLETED", "ERROR")
    _wait(finished, "the async job")
    assert requests.get(f"{job_url}/phase", timeout=30).text.strip() == "COMPLETED"
    result = requests.get(f"{job_url}/results/result", timeout=30)
    assert _csv_count(result.text) == pair.owner_count(pair.primary) - 3
    assert any("replica_async_marker" in line for line in pair.query_lines("replica"))
    assert pair.query_lines("primary") == []


def test_aborting_a_job_cancels_its_query_on_the_replica(pair):
    """UWS abort cancels the query in PostgreSQL: on the server it runs on, the replica."""
    slow = ("SELECT COUNT(*) AS replica_abort_marker FROM ivoa.obscore AS a, ivoa.obscore AS b, ivoa.obscore AS c, "
            "ivoa.obscore AS d, ivoa.obscore AS e WHERE a.s_ra + b.s_ra + c.s_ra + d.s_ra + e.s_ra > 0")
    answer = requests.post(f"{pair.base}/tap/async", allow_redirects=False, timeout=60,
                           data={"LANG": "ADQL", "PHASE": "RUN", "QUERY": slow})
    job_url = urllib.parse.urljoin(pair.base + "/", answer.headers["Location"])
    _wait(lambda: _active_queries(pair.replica) > 0, "the job's query to run on the replica")
    requests.post(f"{job_url}/phase", data={"PHASE": "ABORT"}, timeout=30)
    _wait(lambda: _active_queries(pair.replica) == 0, "the query to be cancelled on the replica", 30)
    assert requests.get(f"{job_url}/phase", timeout=30).text.strip() == "ABORTED"


def _active_queries(cluster: Cluster) -> int:
    return int(cluster.superuser_sql(
        "SELECT count(*) FROM pg_stat_activity WHERE state = 'active' AND usename = 'lick_query'", db=DB))


def test_cone_search_and_datalink_run_on_the_replica(pair):
    _wait(lambda: _replayed(pair), "the replica to replay the ingest")
    ra, dec, obs_id = pair.primary.superuser_sql(
        "SELECT s_ra, s_dec, obs_id FROM lick.observation WHERE obs_release_date <= now() AND s_ra IS NOT NULL "
        "ORDER BY obs_id LIMIT 1", db=DB).split("|")
    secret_id = pair.primary.superuser_sql(
        "SELECT obs_id FROM lick.observation WHERE target_name = 'REPLSECRET' LIMIT 1", db=DB)
    public_did, secret_did = publisher_did(obs_id), publisher_did(secret_id)
    pair.mark()
    cone = requests.get(f"{pair.base}/scs", params={"RA": ra, "DEC": dec, "SR": 0.01}, timeout=60)
    assert cone.status_code == 200 and obs_id.encode() in cone.content, cone.text[:500]
    links = requests.get(f"{pair.base}/datalink/links", params={"ID": public_did}, timeout=60)
    assert links.status_code == 200 and b"#preview" in links.content, links.text[:500]
    hidden = requests.get(f"{pair.base}/datalink/links", params={"ID": secret_did}, timeout=60)
    assert b"proprietary period" in hidden.content and b"#preview" not in hidden.content  # DataLink 1.1 §3.2.9
    shown = requests.get(f"{pair.base}/datalink/links", params={"ID": secret_did}, timeout=60,
                         headers={"Authorization": f"Bearer {pair.token}"})
    assert b"#preview" in shown.content
    front = requests.get(f"{pair.base}/", timeout=60)
    assert front.status_code == 200
    assert len(pair.query_lines("replica")) >= 5
    assert pair.query_lines("primary") == []


def test_availability_tells_the_replicas_replay(pair):
    answer = requests.get(f"{pair.base}/tap/availability", timeout=30)
    assert answer.status_code == 200
    assert b"answered by a read replica" in answer.content, answer.text


def test_an_upload_runs_on_the_primary(pair):
    """A hot standby refuses temporary tables: TAP_UPLOAD's query goes to the primary."""
    _wait(lambda: _replayed(pair), "the replica to replay the ingest")
    assert "cannot execute CREATE TABLE in a read-only transaction" in _standby_refusal(pair)
    pair.mark()
    table = votable([text_field("name")], [["replica-upload-row"]])
    answer = requests.post(f"{pair.base}/tap/sync", timeout=60, files={"t": ("t.xml", table)}, data={
        "LANG": "ADQL", "RESPONSEFORMAT": "csv", "UPLOAD": "t,param:t", "QUERY": "SELECT name AS upload_marker FROM TAP_UPLOAD.t"})
    assert answer.status_code == 200, answer.text[:800]
    assert b"replica-upload-row" in answer.content
    assert any("upload_marker" in line for line in pair.query_lines("primary"))
    assert not any("upload_marker" in line for line in pair.query_lines("replica"))


def _standby_refusal(pair: Pair) -> str:
    try:
        pair.replica.superuser_sql("CREATE TEMPORARY TABLE t (a int)", db=DB)
    except RuntimeError as exc:
        return str(exc)
    return "the standby created a temporary table"


def test_a_stopped_replica_is_a_503_or_the_primary_when_so_configured(pair, tmp_path):
    """Last: it stops the replica."""
    pair.replica.stop()
    started = time.monotonic()
    answer = requests.post(f"{pair.base}/tap/sync", timeout=60,
                           data={"LANG": "ADQL", "QUERY": "SELECT TOP 1 obs_id FROM ivoa.obscore"})
    assert answer.status_code == 503, answer.text[:500]
    assert int(answer.headers["Retry-After"]) > 0
    assert b'<INFO name="QUERY_STATUS" value="ERROR">' in answer.content
    assert time.monotonic() - started < 30  # an error, not a hang (connect_timeout is 5 s)
    services = {k: v for k, v in pair.env.items() if k.startswith("LICK_")}
    with gunicorn(tmp_path / "fallback.log", workers=1, **services, LICK_QUERY_DB_FALLBACK="1") as base:
        pair.mark()
        fallback = requests.post(f"{base}/tap/sync", timeout=60, data={
            "LANG": "ADQL", "RESPONSEFORMAT": "csv",
            "QUERY": "SELECT COUNT(*) AS replica_fallback_marker FROM ivoa.obscore"})
        assert fallback.status_code == 200, fallback.text[:500]
        assert _csv_count(fallback.text) == pair.owner_count(pair.primary) - 3
        assert any("replica_fallback_marker" in line for line in pair.query_lines("primary"))
