"""Faults of the network between a client and the server (issue #20, "Faults"): a client reading a
large result very slowly, a client sending its request body very slowly. Each holds a thread of
the server for as long as it lasts; the server must keep answering everyone else, release what
the slow client held (its query's database session) once it goes, and log no traceback.

The server is a gunicorn of the test's own with one worker process (4 threads,
vo_services/gunicorn_config.py), so that a held thread is a quarter of the server, not a
twelfth. Waits are bounded; no timing is asserted.
"""
from __future__ import annotations

import os
import socket
import time
import urllib.parse

import psycopg2
import pytest
import requests

from archive.config import get_settings
from conftest import gunicorn

pytestmark = pytest.mark.slow

# Every pair of the demo's observations: about 300 x 300 rows of ~150 bytes, some 13 MB of CSV,
# more than the kernel's socket buffers on both sides hold.
LARGE = ("SELECT a.obs_id, a.access_url, b.obs_id AS obs_id_b, b.access_url AS access_url_b "
         "FROM ivoa.obscore AS a, ivoa.obscore AS b")
SMALL = "SELECT TOP 5 obs_id, s_ra, s_dec FROM ivoa.obscore"
READ_RATE = 1024  # bytes per second: the slow client
SLOW_FOR_S = 20
BODY_TIMEOUT_S = 5


@pytest.fixture(scope="module")
def server(demo_archive, tmp_path_factory):
    log = tmp_path_factory.mktemp("faults_io") / "gunicorn.log"
    with gunicorn(log, workers=1, LICK_BODY_TIMEOUT=str(BODY_TIMEOUT_S)) as base:
        yield base, log


@pytest.fixture
def stats_conn(archive_db):
    """The owner's view of pg_stat_activity (a member of pg_read_all_stats: scripts/setup.sh)."""
    conn = psycopg2.connect(get_settings().dsn("owner"))
    conn.autocommit = True
    yield conn
    conn.close()


def _busy_query_sessions(conn) -> int:
    """Sessions of the query role on the test database that hold a statement or a transaction
    (a streamed result is read by FETCH from a cursor: 'idle in transaction' between fetches)."""
    settings = get_settings()
    with conn.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = %s AND usename = %s "
                       "AND state <> 'idle'", [settings.db_name, settings.query_role])
        return cursor.fetchone()[0]


def _wait(predicate, what: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.2)


def _cheap_requests_answer(base: str) -> None:
    """A cone search and a small TAP query, each answered (bounded by the client's timeout)."""
    cone = requests.get(f"{base}/scs", params={"RA": "10", "DEC": "20", "SR": "5"}, timeout=30)
    assert cone.status_code == 200, cone.text[:500]
    tap = requests.post(f"{base}/tap/sync", timeout=30,
                        data={"LANG": "ADQL", "RESPONSEFORMAT": "csv", "QUERY": SMALL})
    assert tap.status_code == 200 and tap.text.startswith("obs_id"), tap.text[:500]


def _connect(base: str, receive_buffer: int | None = None) -> socket.socket:
    host, port = urllib.parse.urlsplit(base).netloc.split(":")
    sock = socket.socket()
    if receive_buffer:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, receive_buffer)  # before connect: the window
    sock.connect((host, int(port)))
    return sock


def _post_head(base: str, length: int) -> bytes:
    host = urllib.parse.urlsplit(base).netloc
    return (f"POST /tap/sync HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/x-www-form-urlencoded\r\n"
            f"Content-Length: {length}\r\nConnection: close\r\n\r\n").encode()


def _assert_no_traceback(log) -> None:
    text = log.read_text()
    assert "Traceback" not in text, text[-3000:]


def test_a_slow_reader_of_a_large_result_starves_nobody_and_releases_its_query(server, stats_conn):
    base, log = server
    body = urllib.parse.urlencode({"LANG": "ADQL", "RESPONSEFORMAT": "csv", "MAXREC": "1000000",
                                   "QUERY": LARGE}).encode()
    sock = _connect(base, receive_buffer=4096)
    try:
        sock.sendall(_post_head(base, len(body)) + body)
        received = b""
        started = time.monotonic()
        checked = False
        while time.monotonic() - started < SLOW_FOR_S:
            chunk = sock.recv(READ_RATE // 4)
            assert chunk, f"the server closed the slow reader's connection: {received[:300]!r}"
            received += chunk
            if not checked and time.monotonic() - started > 3:
                # The server still sends (it cannot have: the result is larger than every
                # buffer between us), its query is held open, and everyone else is answered.
                assert _busy_query_sessions(stats_conn) >= 1
                for _ in range(3):
                    _cheap_requests_answer(base)
                checked = True
            time.sleep(0.25)
        assert received.startswith(b"HTTP/1.1 200"), received[:300]
        assert len(received) < 13_000_000 // 2, "the slow reader got most of the result: not slow"
    finally:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")  # RST
        sock.close()
    # Gone: the thread that sent to it ends, and its query's session is closed or idle again.
    _wait(lambda: _busy_query_sessions(stats_conn) == 0, "the slow reader's query to be released")
    _cheap_requests_answer(base)
    _assert_no_traceback(log)


def test_a_stalled_request_body_holds_no_thread_for_ever(server):
    """Clients that announce a body and stop sending it (as many as the worker has threads, and
    one that trickles a byte a second): everyone else is answered, and each stalled client gets
    408 (vo_services/body_deadline.py) and a closed connection within a bounded time."""
    base, log = server
    body = urllib.parse.urlencode({"LANG": "ADQL", "RESPONSEFORMAT": "csv", "QUERY": SMALL}).encode()
    stalled = []
    try:
        for _ in range(4):
            sock = _connect(base)
            sock.sendall(_post_head(base, len(body)) + body[:10])
            stalled.append(sock)
        trickler = _connect(base)
        stalled.append(trickler)
        trickler.sendall(_post_head(base, len(body)))
        time.sleep(1)
        _cheap_requests_answer(base)
        for byte in body[:8]:
            trickler.sendall(bytes([byte]))
            time.sleep(1)
        for sock in stalled:
            sock.settimeout(BODY_TIMEOUT_S * 6)
            answer = b""
            while chunk := sock.recv(65536):  # to the end: the server closes the connection
                answer += chunk
            assert answer.startswith(b"HTTP/1.1 408"), answer[:300]
            assert b"request body did not arrive in time" in answer, answer
        _cheap_requests_answer(base)
    finally:
        for sock in stalled:
            sock.close()
    _assert_no_traceback(log)


@pytest.fixture
def full_results_dir(tmp_path):
    """A results directory of 256 kB (a tmpfs of the test's own), unmounted afterwards."""
    import subprocess

    mount = tmp_path / "results"
    mount.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", str(mount)],
                          capture_output=True, text=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here: {done.stderr.strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", str(mount)], check=False)


def _async_job(base: str, query: str) -> tuple[str, str]:
    """Run an async job to its end (bounded wait); (its URL, its final phase)."""
    created = requests.post(f"{base}/tap/async", timeout=30, allow_redirects=False,
                            data={"LANG": "ADQL", "RESPONSEFORMAT": "csv", "MAXREC": "1000000",
                                  "QUERY": query, "PHASE": "RUN"})
    assert created.status_code == 303, created.text[:500]
    job = urllib.parse.urljoin(base, created.headers["Location"])
    deadline = time.monotonic() + 120
    while (phase := requests.get(f"{job}/phase", timeout=30).text.strip()) not in ("COMPLETED", "ERROR", "ABORTED"):
        assert time.monotonic() < deadline, f"the job is still {phase}"
        time.sleep(0.5)
    return job, phase


def _bundle(base: str, obs_ids: list[str]) -> dict:
    """Ask for a zip bundle of ``obs_ids`` and wait (bounded) for its end; its status."""
    created = requests.post(f"{base}/datalink/bundles", data={"ID": obs_ids, "FORMAT": "zip"},
                            timeout=30, allow_redirects=False)
    assert created.status_code == 303, created.text[:500]
    deadline = time.monotonic() + 120
    while (status := requests.get(created.headers["Location"], params={"RESPONSEFORMAT": "json"},
                                  timeout=30).json())["phase"] not in ("COMPLETED", "ERROR"):
        assert time.monotonic() < deadline, f"the bundle is still {status['phase']}"
        time.sleep(0.5)
    return status


def _files(directory) -> list[str]:
    return sorted(str(p.relative_to(directory)) for p in directory.rglob("*") if p.is_file())


def test_a_full_disk_fails_jobs_and_bundles_clearly_and_then_recovers(demo_archive, full_results_dir, tmp_path):
    """ENOSPC while a job or a bundle writes its result: ERROR saying the storage is full, no
    partial file left and nothing left EXECUTING; a job and a bundle that fit complete afterwards."""
    from tests.own_servers import celery

    settings = {"LICK_RESULTS_DIR": str(full_results_dir / "results"),
                "LICK_BUNDLE_DIR": str(full_results_dir / "bundles"),
                "LICK_CELERY_QUEUE": f"{get_settings().celery_queue}_enospc"}
    with celery({**os.environ, **settings}, tmp_path / "worker.log"), \
            gunicorn(tmp_path / "gunicorn.log", workers=1, **settings) as base:
        job, phase = _async_job(base, LARGE)
        assert phase == "ERROR"
        error = requests.get(f"{job}/error", timeout=30).text
        assert "storage for results is full" in error, error
        assert _files(full_results_dir) == [], "the partial result is removed"

        job, phase = _async_job(base, SMALL)
        assert phase == "COMPLETED"
        result = requests.get(f"{job}/results/result", timeout=30)
        assert result.status_code == 200 and result.text.startswith("obs_id"), result.text[:300]

        obs_ids = [line for line in requests.post(f"{base}/tap/sync", timeout=30, data={
            "LANG": "ADQL", "RESPONSEFORMAT": "csv", "QUERY": "SELECT TOP 100 obs_id FROM ivoa.obscore"
        }).text.splitlines()[1:] if line]
        assert len(obs_ids) == 100  # some 3 MB of FITS files: more than the disk holds
        status = _bundle(base, obs_ids)
        assert status["phase"] == "ERROR" and "storage for results is full" in status["error"], status
        assert not any(name.startswith("bundles") for name in _files(full_results_dir)), _files(full_results_dir)

        status = _bundle(base, obs_ids[:1])
        assert status["phase"] == "COMPLETED", status
        assert requests.get(status["result"]["url"], timeout=30).content[:2] == b"PK"
    _assert_no_traceback(tmp_path / "worker.log")
    _assert_no_traceback(tmp_path / "gunicorn.log")


def test_a_worker_killed_mid_bundle_leaves_no_partial_file_and_no_stuck_bundle(archive_root, demo_archive,
                                                                                 owner_conn, tmp_path):
    """SIGKILL to the process building a bundle, half-way: the bundle ends ERROR (the stuck-build
    sweep, LICK_JOB_STUCK_AFTER), its partial file is removed, and the next bundle completes.

    The build is held half-way by a named pipe in place of one of its files (in a copy of the
    archive that only this test's worker reads): opening it blocks until killed."""
    import shutil
    import signal

    from archive.broker import app
    from tests.own_servers import celery

    archive = tmp_path / "archive"
    shutil.copytree(archive_root, archive)
    bundles = tmp_path / "bundles"
    queue = f"{get_settings().celery_queue}_killbundle"
    settings = {"LICK_ARCHIVE_ROOT": str(archive), "LICK_BUNDLE_DIR": str(bundles), "LICK_CELERY_QUEUE": queue}
    with celery({**os.environ, **settings}, tmp_path / "worker.log") as worker, \
            gunicorn(tmp_path / "gunicorn.log", workers=1, **settings) as base:
        obs_ids = [line for line in requests.post(f"{base}/tap/sync", timeout=30, data={
            "LANG": "ADQL", "RESPONSEFORMAT": "csv", "QUERY": "SELECT TOP 40 obs_id FROM ivoa.obscore"
        }).text.splitlines()[1:] if line]
        with owner_conn.cursor() as cursor:
            cursor.execute("SELECT file_path FROM lick.observation WHERE obs_id = %s", [obs_ids[30]])
            held = archive / cursor.fetchone()[0]
        held.unlink()
        os.mkfifo(held)

        created = requests.post(f"{base}/datalink/bundles", data={"ID": obs_ids, "FORMAT": "zip"},
                                timeout=30, allow_redirects=False)
        assert created.status_code == 303, created.text[:500]
        status_url = created.headers["Location"]

        def status() -> dict:
            return requests.get(status_url, params={"RESPONSEFORMAT": "json"}, timeout=30).json()

        _wait(lambda: status()["phase"] == "EXECUTING" and list(bundles.glob("*.partial")),
              "the build to be under way")
        children = open(f"/proc/{worker.pid}/task/{worker.pid}/children").read().split()
        assert children
        for pid in children:  # SIGKILL whatever builds it
            os.kill(int(pid), signal.SIGKILL)
        time.sleep(float(os.environ["LICK_JOB_STUCK_AFTER"]) + 1)
        app.send_task("vo_services.datalink.tasks.tidy_bundles", queue=queue)  # what the beat sends every minute
        _wait(lambda: status()["phase"] != "EXECUTING", "the stuck-build sweep")
        final = status()
        assert final["phase"] == "ERROR" and "worker building this bundle stopped" in final["error"], final
        assert _files(bundles) == [], "the killed build's partial file is removed"

        again = _bundle(base, obs_ids[:5])
        assert again["phase"] == "COMPLETED", again
        assert [p.suffix for p in bundles.iterdir()] == [".zip"]
