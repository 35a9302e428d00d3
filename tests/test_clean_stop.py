"""Stopping the archive: scripts/run.sh on Ctrl-C and on SIGTERM, and the watcher's backlog.

run.sh runs whole here, set-up included, on its own database, ports, Celery queue, archive root
and run directory, in its own session (as a terminal's Ctrl-C reaches a foreground job's whole
process group). Whatever happens, the fixture kills what is left and drops the database.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from pathlib import Path

import psycopg2
import pytest
from django.test import override_settings

from archive.config import DEFAULT_ENV_FILE, REPO_ROOT, get_settings
from archive.db import engine
from archive.testdb import drop_database
from ingest.pipeline import ingest_batch
from tests.ingest.samples import load_samples, write_sample

STOP_DEADLINE_S = 15  # the bound the issue sets for every service to be gone (not a speed goal)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _alive(pid: int) -> bool:
    """Running (a zombie waiting for its parent's wait() has stopped)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rpartition(")")[2].split()[0] != "Z"


def _session_members(sid: int) -> set[int]:
    """Every process of session ``sid``: run.sh and all it started, at any depth."""
    members = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rpartition(")")[2].split()
            except OSError:
                continue
            if int(fields[4]) == sid and fields[0] != "Z":  # fields: state ppid pgrp session
                members.add(int(entry.name))
    return members


def _wait_until(condition, timeout: float, what: str, details=lambda: "") -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"{what} (waited {timeout:.0f} s)\n{details()}")
        time.sleep(0.2)


def _as_from_a_terminal() -> None:
    """SIGINT as a shell at a terminal leaves it to the script it starts. A test run that was
    itself started in the background (CI, nohup) inherits SIGINT ignored, and bash can neither
    trap nor reset a signal ignored when it starts: run.sh's Ctrl-C trap would never run."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


class RunSh:
    """One ``scripts/run.sh`` in its own session, on the stack's settings."""

    def __init__(self, stack: "Stack"):
        self.stack = stack
        self.output = stack.run_dir / f"run-{len(stack.runs)}.out"
        self.process = subprocess.Popen(
            ["bash", str(REPO_ROOT / "scripts" / "run.sh"), "--files", "40"], cwd=REPO_ROOT,
            env=stack.env, start_new_session=True, stdout=self.output.open("w"), stderr=subprocess.STDOUT,
            preexec_fn=_as_from_a_terminal)
        stack.runs.append(self)
        _wait_until(self._answers, 600, "run.sh did not start its services", self.tail)
        self.services = {name: int(pid) for name, pid in re.findall(r"started (\S+) \(pid (\d+)", self.text())}
        assert set(self.services) == {"gunicorn", "ingest-api", "celery-worker", "celery-beat", "watcher"}
        self.members = _session_members(self.process.pid)

    def text(self) -> str:
        return self.output.read_text(errors="replace")

    def tail(self) -> str:
        logs = "".join(f"--- {log.name}\n{log.read_text(errors='replace')[-1500:]}\n"
                       for log in sorted((self.stack.run_dir / "log").glob("*.log")))
        return f"--- run.sh\n{self.text()[-3000:]}\n{logs}"

    def _answers(self) -> bool:
        if self.process.poll() is not None:
            pytest.fail(f"run.sh exited ({self.process.returncode}) before serving\n{self.tail()}")
        if "Stop with Ctrl-C" not in self.text():
            return False
        try:
            urllib.request.urlopen(self.stack.base_url + "/tap/availability", timeout=5)
            return True
        except OSError:
            return False

    def assert_everything_stopped(self) -> None:
        """run.sh said "stopped" and exited, and every process it started is gone, within the bound."""
        _wait_until(lambda: not any(map(_alive, self.members | {self.process.pid})), STOP_DEADLINE_S,
                    "not every service stopped", lambda: f"still running: "
                    f"{sorted(p for p in self.members if _alive(p))}\n{self.tail()}")
        assert self.process.wait(timeout=5) in (130, 143)
        assert self.text().rstrip().endswith("stopped"), self.tail()

    def kill(self) -> None:
        """SIGKILL to what is left of the session (its id cannot be reused while it has members)."""
        for pid in _session_members(self.process.pid):
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            pass


class Stack:
    """The settings of one throw-away site: database, ports, queue, directories."""

    def __init__(self, tmp: Path):
        env_file = Path(os.environ.get("LICK_ENV_FILE", DEFAULT_ENV_FILE))
        if not env_file.is_file():
            pytest.fail(f"{env_file} is missing: run scripts/setup.sh first (it holds the role passwords)")
        self.db_name = f"lick_stop_{uuid.uuid4().hex[:8]}"
        self.root = tmp / "archive"
        self.run_dir = tmp / "run"
        self.run_dir.mkdir()
        port = _free_port()
        self.base_url = f"http://127.0.0.1:{port}"
        settings = {
            "LICK_DB_NAME": self.db_name, "LICK_CELERY_QUEUE": self.db_name,
            "LICK_PORT": str(port), "LICK_INGEST_URL": f"http://127.0.0.1:{_free_port()}",
            "LICK_PUBLIC_URL": self.base_url, "LICK_ARCHIVE_ROOT": str(self.root), "LICK_RUN_DIR": str(self.run_dir),
            "LICK_RESULTS_DIR": str(tmp / "results"), "LICK_BUNDLE_DIR": str(tmp / "bundles"),
            "LICK_PREVIEW_DIR": str(tmp / "previews"),
            # one web worker: the session's own servers share the database's connection slots
            "LICK_WEB_WORKERS": "1"}
        # setup.sh sources the env file over the environment: the overrides go in a copy too
        own_env_file = self.env_file = tmp / "lick.env"
        own_env_file.write_text(env_file.read_text() + "".join(f"\n{k}={v}" for k, v in settings.items()) + "\n")
        own_env_file.chmod(0o600)
        self.env = {**os.environ, **settings, "LICK_ENV_FILE": str(own_env_file)}
        self.backlog_file = self.run_dir / "watcher-backlog.json"
        self.runs: list[RunSh] = []

    def connect(self):
        return psycopg2.connect(get_settings().dsn("owner", dbname=self.db_name))

    def notified(self, rel_path: str) -> bool:
        with self.connect() as conn, conn.cursor() as cur:
            cur.execute("SELECT 1 FROM lick.ingest_notification WHERE %s = ANY (paths)", (rel_path,))
            found = cur.fetchone() is not None
        conn.close()
        return found

    def stored(self, rel_path: str) -> bool:
        with self.connect() as conn, conn.cursor() as cur:
            cur.execute("SELECT 1 FROM lick.observation WHERE file_path = %s", (rel_path,))
            found = cur.fetchone() is not None
        conn.close()
        return found

    def tidy(self) -> None:
        import redis

        for run in self.runs:
            run.kill()
        self.env_file.unlink()  # it holds the role passwords
        drop_database(self.db_name)
        client = redis.Redis.from_url(get_settings().redis_url)
        for key in client.scan_iter(match=f"*{self.db_name}*"):
            client.delete(key)


@pytest.fixture
def stack(tmp_path):
    site = Stack(tmp_path)
    try:
        yield site
    finally:
        site.tidy()


def _new_file(root: Path, name: str) -> str:
    """A new real FITS file on a new night; its archive-relative path."""
    sample = load_samples()[0]
    rel = f"1999-02/03/{sample.rel_path.split('/')[2]}/{name}.fits"
    write_sample(sample, root, rel_path=rel)
    return rel


@pytest.mark.slow
def test_ctrl_c_and_sigterm_stop_every_service_and_nothing_the_watcher_saw_is_lost(stack):
    # Ctrl-C while the ingest API is down: the watcher cannot post its backlog and keeps it.
    run = RunSh(stack)
    os.kill(run.services["ingest-api"], signal.SIGTERM)
    _wait_until(lambda: not _alive(run.services["ingest-api"]), STOP_DEADLINE_S, "the ingest API did not stop")
    kept = _new_file(stack.root, "kept")
    watcher_log = stack.run_dir / "log" / "watcher.log"
    _wait_until(lambda: "ingest API unavailable (POST /notifications" in watcher_log.read_text(), 60,
                "the watcher did not try to post the new file", run.tail)
    os.killpg(run.process.pid, signal.SIGINT)  # what a terminal does on Ctrl-C
    run.assert_everything_stopped()
    assert [kept, "changed"] in json.loads(stack.backlog_file.read_text())["paths"], run.tail()
    assert not stack.notified(kept)

    # The next start posts the kept backlog; SIGTERM to run.sh alone (as a service manager or
    # `kill` sends it) stops everything, the watcher first, which posts what it saw last.
    run = RunSh(stack)
    _wait_until(lambda: stack.stored(kept), 120, "the kept path was not ingested after the restart", run.tail)
    last = _new_file(stack.root, "last")
    os.kill(run.process.pid, signal.SIGTERM)
    run.assert_everything_stopped()
    assert stack.notified(last), run.tail()
    assert not stack.backlog_file.exists(), stack.backlog_file.read_text()


@pytest.mark.django_db(transaction=True)
def test_the_watcher_posts_its_kept_backlog_at_start(live_server, archive_root, tmp_path):
    """An entry of the backlog file is posted even when the resync would not report it (a file
    already stored and unchanged), and a clean stop with everything posted removes the file."""
    sample = load_samples()[0]
    rel = f"1999-03/04/{sample.rel_path.split('/')[2]}/unchanged.fits"
    path = write_sample(sample, archive_root, rel_path=rel)
    backlog_file = tmp_path / "backlog.json"
    backlog_file.write_text(json.dumps({"paths": [[rel, "changed"]]}))
    try:
        assert not ingest_batch([path], root=archive_root).failed
        with override_settings(ROOT_URLCONF="ingest.urls"):
            log = tmp_path / "watcher.log"
            watcher = subprocess.Popen(
                [sys.executable, "-m", "watcher", "--root", str(archive_root), "--api", live_server.url,
                 "--backlog", str(backlog_file)], env=dict(os.environ), stdout=log.open("w"),
                stderr=subprocess.STDOUT)
            try:
                _wait_until(lambda: "watcher running" in log.read_text(), 60, "the watcher did not start",
                            log.read_text)
                with engine("owner").connect() as conn:
                    _wait_until(lambda: conn.exec_driver_sql(
                        "SELECT count(*) FROM lick.ingest_notification WHERE %s = ANY (paths)", (rel,)).scalar(),
                        30, "the kept path was not posted", log.read_text)
                watcher.send_signal(signal.SIGINT)
                assert watcher.wait(timeout=STOP_DEADLINE_S) == 0
            finally:
                if watcher.poll() is None:
                    watcher.kill()
        assert not backlog_file.exists()
    finally:
        shutil.rmtree(archive_root / "1999-03", ignore_errors=True)
        with engine("owner").begin() as conn:
            conn.exec_driver_sql("DELETE FROM lick.observation WHERE file_path LIKE '1999-03/%%'")
