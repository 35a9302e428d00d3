"""PostgreSQL clusters and Redis servers of a test's own, on free loopback ports, that the test may
stop, restart and fail at will: the machine's shared servers (PostgreSQL 5432, Redis 6379) are
never touched.

A :class:`Cluster` is made with ``initdb`` (as the ``postgres`` OS user when run as root, since
PostgreSQL refuses to run as root), set up for the archive by ``scripts/setup.sh`` itself (roles,
template with pg_sphere, LEAKPROOF operators, hardening, migrations: what a real deployment gets),
and can give a streaming replica of itself (``pg_basebackup -R``). Each test stops what it started
(``pg_ctl stop -m fast`` of its own data directories, the Redis process it spawned).
"""
from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from archive.config import REPO_ROOT, get_settings

VENV_BIN = Path(sys.executable).parent


def pg_bin() -> Path:
    """The newest installed PostgreSQL's programs (Debian keeps them out of PATH)."""
    versions = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), key=lambda p: int(p.parent.parent.name))
    if not versions:
        raise RuntimeError("no PostgreSQL server programs under /usr/lib/postgresql")
    return versions[-1].parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _as_postgres(argv: list[str], **kwargs) -> subprocess.CompletedProcess:
    """Run a PostgreSQL program as the postgres OS user when we are root (it refuses root)."""
    if os.getuid() == 0:
        argv = ["runuser", "-u", "postgres", "--", *argv]
    return subprocess.run(argv, cwd="/", capture_output=True, text=True, timeout=120, **kwargs)


def _private_dir(prefix: str) -> Path:
    """A temporary directory the postgres user owns (pytest's tmp_path is root's alone)."""
    path = Path(tempfile.mkdtemp(prefix=prefix))
    if os.getuid() == 0:
        shutil.chown(path, "postgres", "postgres")
    return path


class Cluster:
    """One PostgreSQL server of the test's own: a data directory, a port, a log."""

    def __init__(self, root: Path, port: int):
        self.root = root
        self.data = root / "data"
        self.port = port
        self.log = root / "server.log"

    @classmethod
    def create(cls, name: str) -> Cluster:
        cluster = cls(_private_dir(f"lick_pg_{name}_"), free_port())
        done = _as_postgres([str(pg_bin() / "initdb"), "-D", str(cluster.data), "-U", "postgres",
                             "--auth=trust", "--encoding=UTF8", "--locale=C.UTF-8"])
        if done.returncode:
            raise RuntimeError(f"initdb failed: {done.stderr}")
        # Loopback only, trust (the roles' privileges still apply), replication allowed (initdb's
        # pg_hba.conf with --auth=trust has the replication lines); fsync off: a test's data.
        with (cluster.data / "postgresql.conf").open("a") as conf:
            conf.write(f"\nlisten_addresses = '127.0.0.1'\nport = {cluster.port}\n"
                       f"unix_socket_directories = '{cluster.root}'\nmax_connections = 60\n"
                       "shared_buffers = 32MB\nfsync = off\nwal_level = replica\nmax_wal_senders = 4\n"
                       "hot_standby = on\nlog_statement = 'all'\nlog_line_prefix = '%m [%p] %u@%d '\n")
        return cluster

    def start(self) -> None:
        done = _as_postgres([str(pg_bin() / "pg_ctl"), "-D", str(self.data), "-l", str(self.log),
                             "-o", f"-p {self.port} -k {self.root}", "-w", "-t", "60", "start"])
        if done.returncode:
            raise RuntimeError(f"PostgreSQL on port {self.port} did not start: {done.stderr}\n{self.log_text()[-2000:]}")

    def stop(self) -> None:
        """``pg_ctl stop -m fast`` of this data directory only; already stopped is fine."""
        if (self.data / "postmaster.pid").exists():
            _as_postgres([str(pg_bin() / "pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "-t", "60", "stop"])

    def remove(self) -> None:
        self.stop()
        shutil.rmtree(self.root, ignore_errors=True)

    def log_text(self) -> str:
        try:
            return self.log.read_text(errors="replace")
        except OSError:
            return ""

    def superuser_sql(self, sql: str, db: str = "postgres") -> str:
        done = _as_postgres([str(pg_bin() / "psql"), "-X", "-h", str(self.root), "-p", str(self.port),
                             "-U", "postgres", "-d", db, "-tAc", sql])
        if done.returncode:
            raise RuntimeError(f"psql: {done.stderr}")
        return done.stdout.strip()

    def replica(self, name: str) -> Cluster:
        """A hot standby of this server, streaming from it (``pg_basebackup -R``), started."""
        standby = Cluster(_private_dir(f"lick_pg_{name}_"), free_port())
        done = _as_postgres([str(pg_bin() / "pg_basebackup"), "-D", str(standby.data), "-h", "127.0.0.1",
                             "-p", str(self.port), "-U", "postgres", "-R", "-X", "stream", "-c", "fast"])
        if done.returncode:
            raise RuntimeError(f"pg_basebackup failed: {done.stderr}")
        with (standby.data / "postgresql.conf").open("a") as conf:
            conf.write(f"\nport = {standby.port}\nunix_socket_directories = '{standby.root}'\n")
        standby.start()
        return standby


def archive_env(cluster: Cluster, db_name: str, **extra: str) -> dict[str, str]:
    """The environment of a process of the archive (services, lick-admin, setup.sh) whose primary
    database is ``db_name`` on ``cluster``; the role passwords are the configured ones."""
    settings = get_settings()
    env_file = cluster.root / "lick.env"
    if not env_file.exists():
        env_file.write_text(
            f"LICK_OWNER_PASSWORD={settings.owner_password}\nLICK_INGEST_PASSWORD={settings.ingest_password}\n"
            f"LICK_QUERY_PASSWORD={settings.query_password}\nLICK_SECRET_KEY={settings.secret_key}\n"
            f"LICK_INGEST_TOKEN={settings.ingest_token}\nLICK_DB_HOST=127.0.0.1\n"
            f"LICK_DB_PORT={cluster.port}\nLICK_DB_NAME={db_name}\n")
    return {**os.environ, "LICK_ENV_FILE": str(env_file), "LICK_DB_HOST": "127.0.0.1",
            "LICK_DB_PORT": str(cluster.port), "LICK_DB_NAME": db_name, **extra}


def set_up_archive(cluster: Cluster, db_name: str) -> dict[str, str]:
    """Roles, pg_sphere, hardening and migrations on ``cluster``, by the project's own set-up
    script; returns the environment that points the archive at it."""
    env = archive_env(cluster, db_name)
    done = subprocess.run(["bash", str(REPO_ROOT / "scripts" / "setup.sh")], env={**env, "PGHOST": str(cluster.root)},
                          capture_output=True, text=True, timeout=600)
    if done.returncode:
        raise RuntimeError(f"scripts/setup.sh failed on port {cluster.port}:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    return env


def lick_admin(env: dict[str, str], *args: str, stdin: str | None = None) -> str:
    done = subprocess.run([str(VENV_BIN / "lick-admin"), *args], env=env, input=stdin,
                          capture_output=True, text=True, timeout=600)
    if done.returncode:
        raise RuntimeError(f"lick-admin {' '.join(args)} failed:\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}")
    return done.stdout


class Redis:
    """A Redis server of the test's own: no persistence, so a restart loses every message."""

    def __init__(self, root: Path):
        self.root = root
        self.port = free_port()
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(
            ["redis-server", "--bind", "127.0.0.1", "--port", str(self.port), "--save", "", "--appendonly", "no",
             "--dir", str(self.root), "--logfile", str(self.root / "redis.log")],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 20
        while True:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1) as s:
                    s.sendall(b"PING\r\n")
                    if s.recv(16).startswith(b"+PONG"):
                        return
            except OSError:
                pass
            if time.monotonic() > deadline or self.process.poll() is not None:
                raise RuntimeError("redis-server did not start")
            time.sleep(0.1)

    def stop(self) -> None:
        if self.process is not None:
            self.process.kill()  # what a crash does; nothing of it is kept anyway
            self.process.wait(timeout=20)
            self.process = None


@contextmanager
def celery(env: dict[str, str], log: Path, beat: bool = False) -> Iterator[subprocess.Popen]:
    """A real Celery worker (with the beat's sweeps when ``beat``) on ``env``'s settings."""
    argv = [sys.executable, "-m", "celery", "-A", "lick.worker", "worker", "--pool", "prefork",
            "--concurrency", "1", "--queues", env["LICK_CELERY_QUEUE"], "--loglevel", "INFO",
            "--without-gossip", "--without-mingle", "--without-heartbeat"]
    if beat:
        argv += ["--beat", "--schedule", str(log.with_suffix(".beat"))]
    process = subprocess.Popen(argv, env=env, stdout=log.open("w"), stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while "ready" not in log.read_text():
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the Celery worker did not start:\n{log.read_text()[-3000:]}")
            time.sleep(0.2)
        yield process
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=20)
