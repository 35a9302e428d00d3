"""Async TAP figures: 50 jobs from 10 clients at once, and how fast a job's status is read.

    .venv/bin/python -m bench.bench_async

Against a real gunicorn and Celery worker on the benchmark database (bench/common.py): each of
10 threads submits 5 jobs (PHASE=RUN at creation) and polls each to COMPLETED; prints the median
and 95th percentile from submission to COMPLETED, the same query's /sync median, and the median
of GET on a job and on its phase.
"""
from __future__ import annotations

import os
import statistics
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request
from pathlib import Path

os.environ.setdefault("LICK_CELERY_QUEUE", "lick_bench_async")
import bench.common  # noqa: F401,E402  (sets the benchmark database before the settings are read)
from bench.common import REPO, ensure_database, fetch, median_ms, server  # noqa: E402

QUERY = "SELECT TOP 10 obs_id, s_ra, s_dec FROM ivoa.obscore WHERE t_exptime > 100"


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def submit(base: str) -> str:
    data = urllib.parse.urlencode({"LANG": "ADQL", "QUERY": QUERY, "PHASE": "RUN"}).encode()
    opener = urllib.request.build_opener(NoRedirect)
    try:
        opener.open(f"{base}/tap/async", data=data, timeout=30)
    except urllib.error.HTTPError as exc:
        if exc.code == 303:
            return exc.headers["Location"]
        raise
    raise SystemExit("job creation did not answer 303")


def run_jobs(base: str, latencies: list[float]) -> None:
    for _ in range(5):
        started = time.perf_counter()
        url = submit(base)
        while (phase := fetch(f"{url}/phase")) not in (b"COMPLETED", b"ERROR", b"ABORTED"):
            time.sleep(0.02)
        if phase != b"COMPLETED":
            raise SystemExit(f"job {url} ended {phase.decode()}")
        latencies.append(time.perf_counter() - started)
        fetch(f"{url}/results/result")


def main() -> None:
    ensure_database()
    log = open(REPO / "var" / "log" / "bench-async-worker.log", "w")
    worker = subprocess.Popen([str(Path(sys.executable).parent / "celery"), "-A", "lick.worker", "worker",
                               "--concurrency", "2", "--queues", os.environ["LICK_CELERY_QUEUE"],
                               "--without-gossip", "--without-mingle"], stdout=log, stderr=subprocess.STDOUT)
    try:
        with server(workers=4) as (base, _):
            time.sleep(3)
            latencies: list[float] = []
            threads = [threading.Thread(target=run_jobs, args=(base, latencies)) for _ in range(10)]
            started = time.perf_counter()
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            wall = time.perf_counter() - started
            sync_ms = median_ms(lambda: fetch(f"{base}/tap/sync?" + urllib.parse.urlencode(
                {"LANG": "ADQL", "QUERY": QUERY})))
            job_url = submit(base)
            job_ms = median_ms(lambda: fetch(job_url), repeat=100)
            phase_ms = median_ms(lambda: fetch(f"{job_url}/phase"), repeat=100)
    finally:
        worker.terminate()
        worker.wait(timeout=30)
    latencies.sort()
    p95 = latencies[int(0.95 * (len(latencies) - 1))]
    median = statistics.median(latencies) * 1000
    print(f"{len(latencies)} async jobs from 10 clients: all done in {wall:.1f} s")
    print(f"submit to COMPLETED: median {median:.0f} ms, p95 {p95 * 1000:.0f} ms")
    print(f"same query via /sync: median {sync_ms:.1f} ms; async overhead {median - sync_ms:.0f} ms")
    print(f"GET job: median {job_ms:.1f} ms; GET phase: median {phase_ms:.1f} ms (target < 10 ms)")


if __name__ == "__main__":
    main()
