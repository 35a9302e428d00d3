"""A Celery worker on another host runs async TAP jobs and bundles (issue #20; docs/multi_host.md).

The 'other host' is a network namespace (tests/netns_host.py) with no route but a veth pair to
this side, and a mount namespace of its own: a private /tmp, and only the archive root, the
results directory and the bundle directory mounted, at the same paths, as NFS would mount the
shared storage. It reaches PostgreSQL and Redis only at this side's veth address: its own
redis-server listens there (the broker host), and a relay there plays the database host's
listener in front of the shared PostgreSQL (which listens on loopback and is not ours to
reconfigure). The web process on this side uses the same broker and database; no worker on
this side consumes the queue. A job submitted here completes there, and its result is served
from here: an async query with a TAP_UPLOAD (the upload written here, read there; the result
written there, served here) and a bundle of archive files.
"""
from __future__ import annotations

import io
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.parse
import uuid
import zipfile
from pathlib import Path

import pytest

from conftest import gunicorn
from tests.netns_host import NetnsHost, TcpRelay, namespaces_permitted
from tests.test_fuzz import GOOD_VOTABLE, Client

pytestmark = pytest.mark.slow
REPO = Path(__file__).resolve().parents[1]


def _free_port(host: str) -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def other_host():
    reason = namespaces_permitted()
    if reason:
        pytest.skip(reason)
    if shutil.which("redis-server") is None:
        pytest.skip("redis-server is not installed (scripts/setup.sh installs it)")
    with NetnsHost() as host:
        yield host


@pytest.fixture(scope="module")
def broker(other_host, tmp_path_factory):
    """Our own redis-server on the veth address: the broker host both sides reach."""
    port = _free_port(other_host.here)
    log = tmp_path_factory.mktemp("redis") / "redis.log"
    process = subprocess.Popen(["redis-server", "--bind", other_host.here, "--port", str(port), "--save", "",
                                "--appendonly", "no", "--protected-mode", "no", "--logfile", str(log)])
    url = f"redis://{other_host.here}:{port}/0"
    import redis

    deadline = time.monotonic() + 15
    while True:
        try:
            redis.Redis.from_url(url).ping()
            break
        except redis.RedisError:
            assert process.poll() is None and time.monotonic() < deadline, log.read_text()
            time.sleep(0.1)
    yield url
    process.terminate()
    process.wait(timeout=15)


@pytest.fixture(scope="module")
def database_listener(other_host, archive_db):
    """The database host's address as the other host sees it."""
    from archive.config import get_settings

    relay = TcpRelay(other_host.here, (get_settings().db_host, get_settings().db_port))
    yield relay
    relay.close()


@pytest.fixture(scope="module")
def shared_storage(archive_root, tmp_path_factory):
    """The directories both hosts mount: results and bundles (the archive root is the session's)."""
    top = tmp_path_factory.mktemp("shared")
    results, bundles = top / "results", top / "bundles"
    results.mkdir()
    bundles.mkdir()
    return {"LICK_ARCHIVE_ROOT": str(archive_root), "LICK_RESULTS_DIR": str(results), "LICK_BUNDLE_DIR": str(bundles)}


@pytest.fixture(scope="module")
def deployment(demo_archive, other_host, broker, database_listener, shared_storage, tmp_path_factory):
    """The web process here and the worker there, on a queue of their own; yields (base URL,
    the worker's log, its process id)."""
    queue = f"lick_remote_{uuid.uuid4().hex[:8]}"
    common = {**shared_storage, "LICK_REDIS_URL": broker, "LICK_CELERY_QUEUE": queue}
    worker_env = {**os.environ, **common, "LICK_DB_HOST": database_listener.address[0],
                  "LICK_DB_PORT": str(database_listener.address[1])}
    log = tmp_path_factory.mktemp("remote") / "worker.log"
    argv = [sys.executable, "-m", "celery", "-A", "lick.worker", "worker", "--pool", "prefork", "--concurrency", "2",
            "--queues", queue, "--loglevel", "INFO", "--without-gossip", "--without-mingle", "--without-heartbeat"]
    shared = [Path(p) for p in shared_storage.values()]
    if REPO.is_relative_to("/tmp"):  # a checkout under /tmp (CI's clone): the other host has the
        shared.append(REPO)          # software installed at the same path, not under its own /tmp
    with gunicorn(tmp_path_factory.mktemp("web") / "gunicorn.log", workers=1, **common) as base:
        # the same public URL on every host (one lick.env): the worker's results carry it in access_url
        worker = subprocess.Popen(other_host.command(argv, shared), env={**worker_env, "LICK_PUBLIC_URL": base},
                                  cwd=REPO, stdout=log.open("w"), stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + 60
            while "ready" not in log.read_text():
                if worker.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"the remote worker did not start:\n{log.read_text()[-3000:]}")
                time.sleep(0.3)
            yield base, log, worker.pid
        finally:
            worker.terminate()
            try:
                worker.wait(timeout=30)
            except subprocess.TimeoutExpired:
                worker.kill()
                worker.wait()


def test_the_other_host_reaches_only_the_veth_address_and_its_own_tmp(other_host, deployment, database_listener,
                                                                       shared_storage, tmp_path_factory):
    probe = [sys.executable, "-c", "import socket,sys; socket.create_connection((sys.argv[1], int(sys.argv[2])), 2)"]
    from archive.config import get_settings

    # the shared PostgreSQL on loopback is not reachable from there; the listener on the veth address is
    assert other_host.run([*probe, "127.0.0.1", str(get_settings().db_port)]).returncode != 0
    assert other_host.run([*probe, *map(str, database_listener.address)]).returncode == 0
    # the worker's /tmp is its own (seen through its root): none of this side's files are there
    worker_tmp = Path(f"/proc/{deployment[2]}/root/tmp")
    here = tmp_path_factory.mktemp("not_shared") / "marker"
    here.write_text("this side only")
    assert here.is_relative_to("/tmp")
    assert not (worker_tmp / here.relative_to("/tmp")).exists()
    assert (worker_tmp / Path(shared_storage["LICK_RESULTS_DIR"]).relative_to("/tmp")).is_dir()


def _multipart(fields: list[tuple[str, str]], files: dict[str, bytes]) -> tuple[bytes, str]:
    boundary = f"remote{uuid.uuid4().hex}"
    parts = [f"--{boundary}\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n".encode() for k, v in fields]
    parts += [f"--{boundary}\r\nContent-Disposition: form-data; name=\"{k}\"; filename=\"{k}.xml\"\r\n"
              f"Content-Type: text/xml\r\n\r\n".encode() + v + b"\r\n" for k, v in files.items()]
    return b"".join(parts) + f"--{boundary}--\r\n".encode(), f"multipart/form-data; boundary={boundary}"


def _job_phase(client: Client, job: str) -> str:
    deadline = time.monotonic() + 90
    while True:
        status, _, body = client.request("GET", f"{job}?WAIT=10")
        assert status == 200, body[:300]
        phase = body.split(b"<uws:phase>")[1].split(b"<")[0].decode()
        if phase not in ("PENDING", "QUEUED", "EXECUTING") or time.monotonic() > deadline:
            return phase
        assert phase != "PENDING", "the job was never queued"


def test_an_async_job_with_an_upload_runs_on_the_other_host(deployment, database_listener, shared_storage,
                                                            other_host, owner_conn):
    base, log, _ = deployment
    client = Client(base)
    query = ("SELECT u.name, u.n, o.obs_id, o.access_url FROM TAP_UPLOAD.mine AS u "
             "LEFT JOIN (SELECT TOP 1 obs_id, access_url FROM ivoa.obscore) AS o ON 1=1 ORDER BY u.n")
    body, content_type = _multipart([("LANG", "ADQL"), ("QUERY", query), ("UPLOAD", "mine,param:t"), ("PHASE", "RUN"),
                                     ("RESPONSEFORMAT", "votable/td")],
                                    {"t": GOOD_VOTABLE})
    status, headers, answer = client.request("POST", "/tap/async", body, {"Content-Type": content_type})
    assert status == 303, answer[:500]
    job = urllib.parse.urlsplit(headers["Location"]).path
    assert _job_phase(client, job) == "COMPLETED", client.request("GET", job)[2][:1500]
    status, _, result = client.request("GET", f"{job}/results/result")
    assert status == 200 and b"<TD>abc</TD>" in result, result[:800]
    assert f"<TD>{base}/datalink/".encode() in result, result[-1500:]  # the web's public URL
    job_id = job.rsplit("/", 1)[1]
    # the worker there ran it (its log names the job's task), over the veth; the result lies in
    # the shared directory
    with owner_conn.cursor() as cur:
        cur.execute("SELECT task_id FROM tap_job WHERE id = %s", (job_id,))
        task_id = cur.fetchone()[0]
    assert task_id and f"run_job[{task_id}] succeeded" in log.read_text()
    assert set(database_listener.peers) == {other_host.there}, database_listener.peers
    assert any(Path(shared_storage["LICK_RESULTS_DIR"]).glob(f"{job_id}.*"))


def test_a_bundle_is_built_on_the_other_host_and_served_here(deployment, demo_archive, archive_root):
    base, log, _ = deployment
    client = Client(base)
    _, _, csv = client.request("GET", "/tap/sync?" + urllib.parse.urlencode(
        {"LANG": "ADQL", "RESPONSEFORMAT": "csv", "QUERY": "SELECT TOP 3 obs_id FROM ivoa.obscore ORDER BY obs_id"}))
    obs_ids = csv.decode().split()[1:]
    assert len(obs_ids) == 3
    body = urllib.parse.urlencode([("ID", i) for i in obs_ids] + [("FORMAT", "zip")]).encode()
    status, headers, answer = client.request("POST", "/datalink/bundles", body,
                                             {"Content-Type": "application/x-www-form-urlencoded"})
    assert status == 303, answer[:500]
    path = urllib.parse.urlsplit(headers["Location"]).path
    deadline = time.monotonic() + 90
    while (state := json.loads(client.request("GET", path, headers={"Accept": "application/json"})[2]))["phase"] \
            in ("QUEUED", "EXECUTING"):
        assert time.monotonic() < deadline, state
        time.sleep(0.3)
    assert state["phase"] == "COMPLETED", state
    assert "build_bundle[" in log.read_text()  # the one worker on this queue is the other host's
    status, _, data = client.request("GET", f"{path}/result")
    assert status == 200
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        files = [m for m in archive.namelist() if not m.endswith("manifest.tsv")]
        assert len(files) == 3 and len(archive.namelist()) == 4, archive.namelist()
        for member in files:  # lick-bundle-<id>/<the archive's own path>: the same bytes as on disk here
            assert archive.read(member) == (archive_root / member.split("/", 1)[1]).read_bytes()
