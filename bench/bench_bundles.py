"""Bundle build throughput against the standard tools on the same files.

    .venv/bin/python -m bench.bench_bundles [--files 1000] [--repeat 3]

Generates a demo tree once (var/bench_bundles_archive, reused afterwards) and ingests it into
its own database (``lick_bench_bundles``). Then, with every file in the page cache, for each
format it times, best of ``--repeat``:

* ours: the whole build a Celery worker runs (``bundle_jobs.build``: access re-check, reading,
  MD5 + SHA-256, compression at level 6, manifest, atomic rename, progress records), in-process;
* like with like: ``tar czf`` (gzip's default level 6) for tar.gz, ``zip -6`` for zip, over the
  same files listed in the same order, without checksums or a manifest.

The ratio printed is our throughput over the tool's (the tool's time over ours; target >= 0.70).
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
os.environ["LICK_DB_NAME"] = "lick_bench_bundles"
os.environ["LICK_ARCHIVE_ROOT"] = str(REPO / "var" / "bench_bundles_archive")
os.environ["LICK_BUNDLE_DIR"] = str(REPO / "var" / "bench_bundles")
os.environ["LICK_CELERY_QUEUE"] = "lick_bench_bundles"  # no worker listens: the bench builds in-process
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "vo_services.settings")

import django  # noqa: E402
import psycopg2  # noqa: E402
import redis  # noqa: E402

from archive.config import get_settings  # noqa: E402


def ensure_archive(files: int) -> None:
    from archive.demo import generate_demo
    from archive.migrate import migrate_all
    from archive.testdb import create_database
    from ingest.bulk import bulk_ingest

    admin = psycopg2.connect(get_settings().dsn("owner", dbname="postgres"))
    with admin.cursor() as cur:
        cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", (get_settings().db_name,))
        exists = cur.fetchone() is not None
    admin.close()
    if not exists:
        create_database(get_settings().db_name)
    for _ in migrate_all():
        pass
    generate_demo(get_settings().archive_root, seed=2027, files=files)
    report = bulk_ingest([str(get_settings().archive_root)], progress=False)
    if report.failed:
        raise SystemExit(f"ingest failed for {len(report.failed)} files: {report.failed[:3]}")


def best(action, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        action()
        times.append(time.perf_counter() - started)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=1000, help="files in the demo tree")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    ensure_archive(args.files)
    django.setup()
    from vo_services.datalink import bundle_jobs
    from vo_services.datalink.bundles import FORMATS
    from vo_services.datalink.files import locate
    from vo_services.datalink.models import Bundle
    from vo_services.results.query import run_query

    obs_ids = [r[0] for r in run_query("SELECT obs_id FROM lick.observations ORDER BY obs_id")]
    located = locate(obs_ids, ())
    rel_paths = [located[o].rel_path for o in obs_ids]
    root = get_settings().archive_root
    size = sum((root / p).stat().st_size for p in rel_paths)
    for path in rel_paths:  # into the page cache, for every contestant
        (root / path).read_bytes()
    print(f"{len(obs_ids)} files (the demo tree's public ones), {size:,} bytes ({size / 1e6:.1f} MB); "
          f"best of {args.repeat}")

    tools = {"tar.gz": lambda out, listing: ["tar", "czf", out, "-C", str(root), "-T", listing],
             "zip": lambda out, listing: ["sh", "-c", f"cd '{root}' && zip -q -6 '{out}' -@ < '{listing}'"]}
    with tempfile.TemporaryDirectory() as scratch:
        listing = Path(scratch) / "files.txt"
        listing.write_text("\n".join(rel_paths) + "\n")
        for fmt in FORMATS:
            made: list[Bundle] = []

            def ours() -> float:
                bundle = bundle_jobs.submit(None, (), obs_ids, fmt)  # submission is not timed
                started = time.perf_counter()
                if bundle_jobs.build(bundle.id) != "COMPLETED":
                    raise SystemExit(Bundle.objects.get(id=bundle.id).error_summary)
                elapsed = time.perf_counter() - started
                made.append(Bundle.objects.get(id=bundle.id))
                return elapsed

            out = Path(scratch) / f"tool.{fmt.extension}"

            def tool() -> None:
                out.unlink(missing_ok=True)
                subprocess.run(tools[fmt.name](str(out), str(listing)), check=True)

            our_s = min(ours() for _ in range(args.repeat))
            tool_s = best(tool, args.repeat)
            command = " ".join(tools[fmt.name]("OUT", "LIST"))
            print(f"{fmt.name:6}: ours {our_s:6.2f} s ({size / our_s / 1e6:6.1f} MB/s, "
                  f"{made[-1].result_size:,} bytes) | `{command}` {tool_s:6.2f} s "
                  f"({size / tool_s / 1e6:6.1f} MB/s, {out.stat().st_size:,} bytes) | "
                  f"ratio {tool_s / our_s:.2f} (target >= 0.70)")
            for bundle in made:
                bundle_jobs.remove_files(bundle.id)
            Bundle.objects.filter(id__in=[b.id for b in made]).delete()
    redis.Redis.from_url(get_settings().redis_url).delete(get_settings().celery_queue)  # the unsent builds


if __name__ == "__main__":
    main()
