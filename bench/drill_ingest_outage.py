"""The ingest API down while files land: a drill with the real watcher, gunicorn and Celery worker.

    .venv/bin/python bench/drill_ingest_outage.py --minutes 10 [--every 3] [--burst 200]

Runs on a fresh database (``lick_drill_outage``) and archive root (``var/drill_outage``), with a
Celery worker of its own, and prints what happened. ``tests/test_ingest_outage.py`` runs the same
drill (:func:`run_drill`) with a short outage on the test session's database and worker.

The drill: the watcher (inotify) and the ingest API (gunicorn, as ``scripts/run.sh`` starts it)
run; two files land and are ingested. The API stops. For the outage's length a file lands every
``every`` seconds; at a fifth of it a burst of ``burst`` files lands; at 0.35 the watcher is
stopped (SIGTERM) and started again; at 0.5 an override file appears in the first night's
directory (which the start-up resync would not find again: only the backlog the watcher keeps on
disk while the API is down has it); at 0.7 the watcher is killed (SIGKILL) and started again.
Then the API comes back on the same address, and every file must be ingested exactly once (each
counted "ingested" by exactly one notification, one row each, its size and time those of
the file), the override applied, no notification left unfinished, and the watcher's backlog file
gone. The time from the API answering again to the last row is the drain time: the watcher's
retry delay is capped (``watcher.notifier.MAX_RETRY_DELAY_S``), so it should not grow with the
outage's length.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
BIN = Path(sys.executable).parent
PREFIX = "1998-07"  # the drill's month in the archive: nothing else is filed there
OVERRIDE_NIGHT, TRICKLE_NIGHT, BURST_NIGHT, AFTER_NIGHT = "01", "02", "03", "04"
OVERRIDE_USER = "drill_observer"


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _answers(url: str) -> bool:
    try:
        urllib.request.urlopen(url, timeout=2).close()
        return True
    except urllib.error.HTTPError:
        return True  # 401 without the token: it answers
    except OSError:
        return False


class IngestApi:
    """The ingest API under gunicorn as ``scripts/run.sh`` starts it, always on one address."""

    def __init__(self, log: Path, port: int | None = None):
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = log
        self.process: subprocess.Popen | None = None

    def start(self) -> float:
        """Start it and wait until it answers; the monotonic time it first did."""
        self.process = subprocess.Popen(
            [str(BIN / "gunicorn"), "vo_services.wsgi", "--bind", f"127.0.0.1:{self.port}", "--workers", "2"],
            env={**os.environ, "LICK_URLCONF": "ingest.urls"}, stdout=self.log.open("a"),
            stderr=subprocess.STDOUT, cwd=REPO)
        deadline = time.monotonic() + 60
        while not _answers(self.url + "/dirs"):
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the ingest API did not start:\n{self.log.read_text()[-3000:]}")
            time.sleep(0.05)
        return time.monotonic()

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=30)
            self.process = None


class Watcher:
    """``python -m watcher`` in inotify mode, restarted as the drill says."""

    def __init__(self, root: Path, api: str, work: Path):
        self.root, self.api = root, api
        self.log = work / "watcher.log"
        self.backlog = work / "watcher-backlog.json"
        self.process: subprocess.Popen | None = None
        self.starts = 0

    def start(self, wait_running: bool) -> None:
        mark = len(self.log.read_text()) if self.log.exists() else 0
        self.process = subprocess.Popen(
            [sys.executable, "-m", "watcher", "--mode", "inotify", "--root", str(self.root), "--api", self.api,
             "--backlog", str(self.backlog)], env=dict(os.environ), stdout=self.log.open("a"),
            stderr=subprocess.STDOUT, cwd=REPO)
        self.starts += 1
        # inotify watches before the resync begins; with the API down the resync waits for it
        word = "watcher running" if wait_running else "watching "
        deadline = time.monotonic() + 60
        while word not in self.log.read_text()[mark:]:
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the watcher did not start:\n{self.log.read_text()[-3000:]}")
            time.sleep(0.1)

    def stop(self, how: int = signal.SIGTERM) -> int:
        assert self.process is not None
        self.process.send_signal(how)
        code = self.process.wait(timeout=30)
        self.process = None
        return code

    def backlog_size(self) -> int:
        try:
            return len(json.loads(self.backlog.read_text())["paths"])
        except (OSError, ValueError, KeyError):
            return 0


@dataclass
class DrillReport:
    outage_s: float
    files_landed: int = 0  # FITS files written during the outage
    override_written: bool = False
    rows_during_outage: int = 0  # rows of the outage's files while the API was down (0)
    backlog_peak_on_disk: int = 0  # paths in the watcher's backlog file, at its largest
    backlog_peak_logged: int = 0  # the largest "N path(s) kept" the watcher logged
    longest_retry_delay_s: float = 0.0  # the longest "retrying in N s" the watcher logged
    watcher_restarts: str = ""
    api_back_s: float = 0.0  # from the start of the API to its first answer
    first_post_s: float | None = None  # from the API answering to the watcher's first post
    drain_s: float | None = None  # from the API answering to the last file's row
    rows: int = 0
    missing: list[str] = field(default_factory=list)
    duplicate_rows: int = 0  # rows sharing a file path or an obs_id
    partial_rows: list[str] = field(default_factory=list)  # size or time unlike the file's
    ingested_more_than_once: int = 0  # sum of "ingested" over the notifications less the files
    rewritten: int = 0  # rows "updated" by the notifications beyond the override's re-reading
    failures: list[str] = field(default_factory=list)
    unfinished_notifications: list[str] = field(default_factory=list)  # 'id status (paths)'
    notifications: int = 0
    paths_posted_twice: int = 0
    override_applied: bool = False
    backlog_file_left: bool = True
    after_recovery_s: float | None = None  # a file landing once all is drained: to its row

    def ok(self) -> bool:
        return (self.rows == self.files_landed + 3 and not self.missing and not self.duplicate_rows
                and not self.partial_rows and not self.ingested_more_than_once and not self.failures
                and not self.unfinished_notifications and self.override_applied and not self.rewritten
                and not self.rows_during_outage and not self.backlog_file_left and self.drain_s is not None
                and self.after_recovery_s is not None)

    def lines(self) -> list[str]:
        def seconds(value: float | None) -> str:
            return "never" if value is None else f"{value:.1f} s"

        return [
            f"outage                      {self.outage_s:.0f} s",
            f"files landed during it      {self.files_landed} (a trickle and a burst), and an override file"
            f"{'' if self.override_written else ' (NOT written)'}",
            f"rows of them while down     {self.rows_during_outage}",
            f"watcher restarts            {self.watcher_restarts}",
            f"backlog peak                {self.backlog_peak_on_disk} path(s) in the backlog file, "
            f"{self.backlog_peak_logged} logged as kept",
            f"longest retry delay         {self.longest_retry_delay_s:.0f} s (the watcher's cap)",
            f"API up again after          {seconds(self.api_back_s)} (gunicorn start)",
            f"first post after recovery   {seconds(self.first_post_s)}",
            f"time to drain               {seconds(self.drain_s)} (API answering -> last row)",
            f"rows                        {self.rows} of {self.files_landed + 3} files "
            f"(2 before the outage, 1 after); missing {len(self.missing)}",
            f"duplicates                  {self.duplicate_rows} rows, {self.ingested_more_than_once} extra "
            f"'ingested', {self.rewritten} rewritten",
            f"partial rows                {len(self.partial_rows)}",
            f"ingest failures             {len(self.failures)}",
            f"notifications               {self.notifications} ({self.paths_posted_twice} path(s) posted "
            f"more than once; {len(self.unfinished_notifications)} unfinished"
            f"{': ' + ', '.join(self.unfinished_notifications) if self.unfinished_notifications else ''})",
            f"override applied            {self.override_applied}",
            f"backlog file left           {self.backlog_file_left}",
            f"a file after recovery       {seconds(self.after_recovery_s)} to its row",
            f"verdict                     {'OK: nothing lost, nothing twice' if self.ok() else 'FAILED'}",
        ]


def land(root: Path, night: str, name: str, index: int) -> str:
    """A real FITS file (a copy of a header sample) at PREFIX/night/<its instrument>/name.fits."""
    from tests.ingest.samples import load_samples, write_sample

    samples = load_samples()
    sample = samples[index % len(samples)]
    rel = f"{PREFIX}/{night}/{sample.rel_path.split('/')[2]}/{name}.fits"
    write_sample(sample, root, rel_path=rel)
    return rel


class _Database:
    """The drill's look at the archive, as the owner role."""

    def __init__(self):
        import psycopg2

        from archive.config import get_settings

        self.conn = psycopg2.connect(get_settings().dsn("owner"))
        self.conn.autocommit = True
        self.since = self.one("SELECT clock_timestamp()")

    def one(self, sql: str, params: tuple = ()):
        with self.conn.cursor() as cur:
            cur.execute(sql, params)
            return cur.fetchone()[0]

    def all(self, sql: str, params: tuple = ()) -> list[tuple]:
        with self.conn.cursor() as cur:
            cur.execute(sql, params)
            return cur.fetchall()

    def stored(self, paths: list[str]) -> set[str]:
        return {r[0] for r in self.all("SELECT file_path FROM lick.observation WHERE file_path = ANY (%s)", (paths,))}

    def override_applied(self, directory: str) -> bool:
        return self.one("SELECT count(*) > 0 AND bool_and(%s = ANY (grantees)) FROM lick.observation "
                        "WHERE file_path LIKE %s", (f"user:{OVERRIDE_USER}", directory + "/%"))

    def notifications(self) -> list[tuple]:
        """(status, summary, paths, id) of the drill's notifications."""
        return self.all("SELECT status, summary, paths, id FROM lick.ingest_notification "
                        "WHERE created_at >= %s AND paths[1] LIKE %s ORDER BY id", (self.since, PREFIX + "/%"))

    def close(self) -> None:
        self.conn.close()


def _wait(condition: Callable[[], bool], timeout: float, step: float = 0.1) -> bool:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(step)
    return True


def _logged_times(log: Path, pattern: str) -> list[float]:
    """Wall-clock times of the watcher log's lines matching ``pattern``."""
    from datetime import datetime

    times = []
    for line in log.read_text(errors="replace").splitlines():
        if re.search(pattern, line):
            times.append(datetime.strptime(line[:23], "%Y-%m-%d %H:%M:%S,%f").timestamp())
    return times


def run_drill(root: Path, work: Path, outage_s: float, every_s: float = 3.0, burst: int = 200,
              say: Callable[[str], None] = lambda _: None, drain_timeout: float = 300.0) -> DrillReport:
    """The drill on the configured database, with a Celery worker already consuming its queue.

    ``root`` is the archive root the API and worker read (``LICK_ARCHIVE_ROOT``); ``work`` a
    directory for logs and the watcher's backlog. What is under ``root/PREFIX`` is the drill's.
    """
    report = DrillReport(outage_s)
    api = IngestApi(work / "ingest-api.log")
    watcher = Watcher(root, api.url, work)
    db = _Database()
    landed: list[str] = []
    try:
        api.start()
        watcher.start(wait_running=True)
        before = [land(root, OVERRIDE_NIGHT, f"pre{i}", i) for i in range(2)]
        if not _wait(lambda: len(db.stored(before)) == 2, 120):
            raise RuntimeError(f"the two files before the outage were not ingested:\n{watcher.log.read_text()[-3000:]}")
        say(f"two files ingested; stopping the ingest API for {outage_s:.0f} s")

        api.stop()
        start = time.monotonic()
        events = [(0.2, "burst"), (0.35, "restart"), (0.5, "override"), (0.7, "kill")]
        restarts = []
        next_file = start
        while (now := time.monotonic()) < start + outage_s:
            while events and now >= start + events[0][0] * outage_s:
                what = events.pop(0)[1]
                if what == "override":
                    directory = root / PREFIX / OVERRIDE_NIGHT / before[0].split("/")[2]
                    (directory / "override.access").write_text(f"*.fits access {OVERRIDE_USER}\n")
                    report.override_written = True
                elif what == "burst":
                    landed += [land(root, BURST_NIGHT, f"b{i:04d}", i) for i in range(burst)]
                    say(f"{burst} files landed at once")
                else:
                    how = signal.SIGTERM if what == "restart" else signal.SIGKILL
                    code = watcher.stop(how)
                    watcher.start(wait_running=False)
                    restarts.append(f"{signal.Signals(how).name} (exit {code})")
                    say(f"watcher stopped by {signal.Signals(how).name} and started again; "
                        f"{watcher.backlog_size()} path(s) in its backlog file")
                report.backlog_peak_on_disk = max(report.backlog_peak_on_disk, watcher.backlog_size())
            if now >= next_file:
                landed.append(land(root, TRICKLE_NIGHT, f"t{len(landed):04d}", len(landed)))
                next_file += every_s
            report.backlog_peak_on_disk = max(report.backlog_peak_on_disk, watcher.backlog_size())
            time.sleep(min(0.5, max(0.0, min(next_file, start + outage_s) - time.monotonic())))
        report.files_landed = len(landed)
        report.watcher_restarts = ", ".join(restarts)
        report.rows_during_outage = len(db.stored(landed))
        say(f"outage over: {len(landed)} files landed, {watcher.backlog_size()} path(s) in the backlog "
            f"file; starting the ingest API again")

        started = time.monotonic()
        back = api.start()
        back_wall = time.time() - (time.monotonic() - back)
        report.api_back_s = back - started
        directory = f"{PREFIX}/{OVERRIDE_NIGHT}/{before[0].split('/')[2]}"
        everything = landed + before

        def drained() -> bool:
            return len(db.stored(everything)) == len(everything) and db.override_applied(directory)

        if _wait(drained, drain_timeout, step=0.05):
            report.drain_s = time.monotonic() - back
        posts = [t for t in _logged_times(watcher.log, r"watcher INFO posted \d+") if t >= back_wall - 0.5]
        report.first_post_s = max(0.0, posts[0] - back_wall) if posts else None
        say("drained" if report.drain_s is not None else "NOT drained")

        after = land(root, AFTER_NIGHT, "after", 0)
        landed_at = time.monotonic()
        if _wait(lambda: bool(db.stored([after])), 60, step=0.05):
            report.after_recovery_s = time.monotonic() - landed_at
        everything.append(after)
        finished = lambda: all(n[0] in ("done", "failed") for n in db.notifications())  # noqa: E731
        _wait(finished, 60)
        watcher.stop(signal.SIGTERM)
        # its last post at the stop (a late event of the file above, say its mtime set after the
        # first post) is a notification too, just created: let it run before counting
        _wait(finished, 60)
        report.backlog_file_left = watcher.backlog.exists()
        text = watcher.log.read_text(errors="replace")
        report.backlog_peak_logged = max([int(m) for m in re.findall(r"; (\d+) path\(s\) kept", text)] or [0])
        report.longest_retry_delay_s = max([float(m) for m in re.findall(r"retrying in (\d+) s", text)] or [0.0])
        _check(report, db, root, everything, before)
    finally:
        if watcher.process is not None:
            watcher.process.kill()
            watcher.process.wait()
        api.stop()
        db.close()
    return report


def _check(report: DrillReport, db: _Database, root: Path, files: list[str], before: list[str]) -> None:
    """What the database holds of ``files``, against the files on disk."""
    from datetime import datetime, timezone

    rows = db.all("SELECT file_path, file_size, file_mtime, obs_id FROM lick.observation WHERE file_path LIKE %s",
                  (PREFIX + "/%",))
    report.rows = len(rows)
    report.missing = sorted(set(files) - {r[0] for r in rows})
    report.duplicate_rows = (len(rows) - len({r[0] for r in rows})) + (len(rows) - len({r[3] for r in rows}))
    for path, size, mtime, _ in rows:
        st = (root / path).stat()
        if size != st.st_size or abs(mtime - datetime.fromtimestamp(st.st_mtime, timezone.utc)).total_seconds() > 1e-3:
            report.partial_rows.append(path)
    report.failures = [r[0] for r in db.all("SELECT file_path FROM lick.ingest_failure WHERE file_path LIKE %s",
                                            (PREFIX + "/%",))]
    notifications = db.notifications()
    report.notifications = len(notifications)
    report.unfinished_notifications = [f"#{n[3]} {n[0]} ({len(n[2])} paths)" for n in notifications
                                       if n[0] not in ("done", "failed")]
    counts = {"ingested": 0, "updated": 0}
    posted: dict[str, int] = {}
    for _, summary, paths, _ in notifications:
        for word in counts:
            found = re.search(rf"(\d+) {word}", summary or "")
            counts[word] += int(found.group(1)) if found else 0
        for path in paths:
            posted[path] = posted.get(path, 0) + 1
    # every file counted "ingested" once; an override's post re-reads the files of its directory
    report.ingested_more_than_once = counts["ingested"] - len(files)
    override_dir = f"{PREFIX}/{OVERRIDE_NIGHT}/{before[0].split('/')[2]}"
    override_posts = sum(n for p, n in posted.items() if p.endswith("override.access"))
    in_override_dir = sum(1 for f in files if f.startswith(override_dir + "/"))
    report.rewritten = counts["updated"] - in_override_dir * override_posts
    report.paths_posted_twice = sum(1 for n in posted.values() if n > 1)
    report.override_applied = db.override_applied(override_dir)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=10.0, help="length of the outage (default 10)")
    parser.add_argument("--every", type=float, default=3.0, help="seconds between two files landing (default 3)")
    parser.add_argument("--burst", type=int, default=200, help="files landing at once (default 200)")
    args = parser.parse_args()
    os.environ["LICK_DB_NAME"] = "lick_drill_outage"
    os.environ["LICK_CELERY_QUEUE"] = "lick_drill_outage"
    root = REPO / "var" / "drill_outage" / "archive"
    work = REPO / "var" / "drill_outage" / "run"
    os.environ["LICK_ARCHIVE_ROOT"] = str(root)

    from archive.config import get_settings
    from archive.testdb import create_test_database, drop_database

    shutil.rmtree(root.parent, ignore_errors=True)
    root.mkdir(parents=True)
    work.mkdir(parents=True)
    settings = get_settings()
    drop_database(settings.db_name)
    create_test_database(settings.db_name)
    worker_log = work / "celery-worker.log"
    worker = subprocess.Popen(
        [str(BIN / "celery"), "-A", "lick.worker", "worker", "--concurrency", "2", "--queues",
         settings.celery_queue, "--loglevel", "INFO", "--without-gossip", "--without-mingle", "--without-heartbeat"],
        env=dict(os.environ), stdout=worker_log.open("w"), stderr=subprocess.STDOUT, cwd=REPO)
    try:
        if not _wait(lambda: "ready" in worker_log.read_text(), 60):
            raise SystemExit(f"the Celery worker did not start:\n{worker_log.read_text()[-3000:]}")
        print(f"load average {os.getloadavg()[0]:.2f} at the start", flush=True)
        report = run_drill(root, work, args.minutes * 60, args.every, args.burst,
                           say=lambda line: print(f"  {time.strftime('%H:%M:%S')} {line}", flush=True))
        print(f"load average {os.getloadavg()[0]:.2f} at the end; logs in {work}")
        print("\n".join(report.lines()))
    finally:
        worker.terminate()  # a warm stop waits for the previews under way: not for long
        try:
            worker.wait(timeout=30)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait()
        drop_database(settings.db_name)
    raise SystemExit(0 if report.ok() else 1)


if __name__ == "__main__":
    main()
