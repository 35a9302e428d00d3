"""Bundle jobs: submitting one, building it in a Celery worker, and deleting it when it expires.

Phase changes, sending to the workers, the write-then-rename of the result and the sweeps are
the job core's (:mod:`vo_services.jobs`), shared with TAP jobs: a worker finishing late can
never overwrite an expiry, and a build that fails leaves no file behind, only the ERROR phase
and a message naming the file at fault.
"""
from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from datetime import datetime, timedelta
from pathlib import Path

from django.utils import timezone as djtz

from archive.config import get_settings
from vo_services.datalink.bundles import (
    BundleError, BundleFormat, BuildFailed, Limits, Member, format_named, select_files, write_bundle,
)
from vo_services.datalink.files import locate
from vo_services.datalink.models import Bundle, Phase
from vo_services.identity import principals_of
from vo_services.jobs import executor, manager
from vo_services.jobs.persistence import JobKind, beat, result_file

RECHECK_BATCH = 100  # access is asked again for this many files at a time, just before they are read
PROGRESS_S = 1.0  # how often a build records its progress (and so shows it is alive)
RECORD_KEEP_S = 30 * 86_400  # after its file expired, a bundle's record answers 410 for this long


def bundle_dir() -> Path:
    directory = get_settings().bundle_dir
    directory.mkdir(parents=True, exist_ok=True)
    return directory


def result_path(bundle: Bundle) -> Path:
    return bundle_dir() / f"{top_directory(bundle)}.{format_named(bundle.format).extension}"


def top_directory(bundle: Bundle) -> str:
    """The one directory everything in the bundle unpacks into."""
    return f"lick-bundle-{bundle.id}"


def remove_files(bundle_id: str) -> None:
    """The bundle's result and any partial file a build left (a killed worker's, say)."""
    for path in bundle_dir().glob(f"*{bundle_id}*"):
        path.unlink(missing_ok=True)


def _expiry(moment: datetime) -> datetime:
    return moment + timedelta(seconds=get_settings().bundle_lifetime_s)


KIND = JobKind(
    model=Bundle, task="vo_services.datalink.tasks.build_bundle", remove_files=remove_files,
    internal_error="FatalFault: the bundle could not be built because of an internal error; "
                   "it has been logged",
    failure_fields=lambda end: {"expires": _expiry(end)}, after_failure=remove_files,
)


def submit(owner: str | None, principals: Sequence[str], identifiers: Sequence[str],
           fmt: BundleFormat) -> Bundle:
    """A QUEUED bundle of the files among ``identifiers`` the caller may see, sent to a worker.

    Raises :class:`BundleError` for a request over the limits or with nothing to bundle.
    """
    selection = select_files(identifiers, principals, Limits.configured())
    bundle = Bundle.objects.create(owner=owner, format=fmt.name, obs_ids=list(selection.obs_ids),
                                   refused=list(selection.refused), files_total=len(selection.obs_ids),
                                   bytes_total=selection.size, heartbeat=djtz.now())
    enqueue(bundle)
    return bundle


def enqueue(bundle: Bundle) -> None:
    """Hand a QUEUED bundle to the workers; if the broker is down, the tidy task sends it later.
    Sending it twice is harmless: only one build can move it from QUEUED to EXECUTING."""
    executor.enqueue(KIND, bundle.id)


class _Progress:
    """Records files and bytes done at most every PROGRESS_S: often enough for the status page
    and the stuck-build check, rarely enough to cost nothing."""

    def __init__(self, bundle_id: str):
        self.bundle_id = bundle_id
        self.last = time.monotonic()

    def __call__(self, files: int, size: int) -> None:
        now = time.monotonic()
        if now - self.last >= PROGRESS_S:
            self.last = now
            beat(KIND, self.bundle_id, files_done=files, bytes_done=size)


def _members(bundle: Bundle) -> Iterator[Member]:
    """The bundle's files, access asked again as the owner (in batches, just before reading
    them): a grant withdrawn since submission stops the build rather than leak the file."""
    principals = principals_of(bundle.owner)
    for start in range(0, len(bundle.obs_ids), RECHECK_BATCH):
        batch = bundle.obs_ids[start:start + RECHECK_BATCH]
        found = locate(batch, principals)
        for obs_id in batch:
            if obs_id not in found:
                raise BuildFailed(f"{obs_id} is no longer an observation you may see")
            located = found[obs_id]
            yield Member(located.rel_path, located.path, obs_id, located.checksum)


def build(bundle_id: str) -> str:
    """QUEUED to EXECUTING, the files into the result, then COMPLETED, or ERROR with a message.
    Its progress is its heartbeat: a build that reads nothing for LICK_JOB_STUCK_AFTER is stuck."""
    return executor.execute(KIND, bundle_id, _write, _explain, keep_alive=False)


def _write(bundle: Bundle) -> dict:
    final = result_path(bundle)
    with result_file(final) as out:
        rows = write_bundle(format_named(bundle.format), out, top_directory(bundle), _members(bundle),
                            _Progress(bundle.id))
    end = djtz.now()
    return {"heartbeat": end, "files_done": len(rows), "bytes_done": sum(r.size for r in rows),
            "result_size": final.stat().st_size, "expires": _expiry(end)}


def _explain(bundle: Bundle, exc: Exception) -> str | None:
    return str(exc) if isinstance(exc, BuildFailed) else None


def expire(now: datetime | None = None) -> int:
    """Delete the files of bundles past their expiry (COMPLETED becomes ARCHIVED), and the
    records of those expired long ago. Returns the number of files deleted."""
    now = now or djtz.now()
    expired = manager.archive(KIND, manager.due(KIND, "expires", now, (Phase.COMPLETED,)))
    manager.destroy(KIND, manager.due(KIND, "expires", now - timedelta(seconds=RECORD_KEEP_S),
                                      (Phase.ARCHIVED, Phase.ERROR)))
    return expired


def fail_stuck(stuck_after_s: float = manager.STUCK_AFTER_S) -> int:
    """Builds whose worker died (no progress for ``stuck_after_s``) become ERROR."""
    return manager.fail_stuck(KIND, "TransientFault: the worker building this bundle stopped; "
                              "please ask again", stuck_after_s)


def requeue_lost(after_s: float = manager.LOST_AFTER_S) -> int:
    """QUEUED bundles whose message the broker lost (a Redis restart) are sent again."""
    return manager.requeue_lost(KIND, enqueue, after_s)


def ids_from_tap_job(reference: str, caller: str | None) -> list[str]:
    """The IDs in a completed TAP async job's result: its obs_publisher_did column, else obs_id.

    ``reference`` is the job's id or any URL below ``/tap/async/<id>``. The job must be readable
    by the caller under the TAP service's own rule (UWS 1.1 §3: only its owner, if it has one).
    """
    from vo_services.tap.models import Job
    from vo_services.tap.results import result_path as tap_result_path

    job_id = reference.strip().rstrip("/").split("/async/")[-1].split("/")[0]
    job = Job.objects.filter(id=job_id).first()
    if job is None or (job.owner is not None and job.owner != caller):
        raise BundleError(f"NotFoundFault: no TAP job {job_id} that you may read", 404)
    if job.phase != Phase.COMPLETED:
        raise BundleError(f"UsageFault: TAP job {job_id} is {job.phase}; a bundle needs a COMPLETED job")
    path = tap_result_path(job)
    if path is None or not path.exists():
        raise BundleError(f"NotFoundFault: TAP job {job_id} has no result any more", 404)
    return _id_column(_read_table(path, job.result_mime or ""), job_id)


def _read_table(path: Path, mime: str):
    from astropy.table import Table

    from vo_services.encoders.formats import UnknownFormat, resolve

    readers = {"votable": "votable", "votable/td": "votable", "csv": "ascii.csv", "tsv": "ascii.tab",
               "fits": "fits", "parquet": "parquet"}
    try:
        reader = readers.get(resolve(mime)[0].name)
    except UnknownFormat:
        reader = None
    if reader is None:
        raise BundleError(f"UsageFault: a bundle cannot read a TAP result in {mime}; run the query "
                          "with RESPONSEFORMAT=votable or csv")
    try:
        return Table.read(path, format=reader)
    except Exception as exc:  # noqa: BLE001  (astropy raises many kinds for a damaged file)
        raise BundleError(f"FatalFault: the TAP result could not be read ({exc.__class__.__name__})", 500) from None


def _id_column(table, job_id: str) -> list[str]:
    columns = {name.lower(): name for name in table.colnames}
    name = columns.get("obs_publisher_did") or columns.get("obs_id")
    if name is None:
        raise BundleError(f"UsageFault: the result of TAP job {job_id} has no obs_publisher_did or "
                          "obs_id column")
    column = table[name]
    mask = getattr(column, "mask", None)
    values = (v for i, v in enumerate(column) if mask is None or not mask[i])
    return [v.decode() if isinstance(v, bytes) else str(v) for v in values]
