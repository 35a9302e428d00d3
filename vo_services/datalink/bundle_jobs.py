"""Bundle jobs: submitting one, building it in a Celery worker, and deleting it when it expires.

Phase changes are compare-and-set UPDATEs (``WHERE phase IN (...)``), as for TAP jobs
(:mod:`vo_services.tap.jobs`), so a worker finishing late can never overwrite an expiry. The
result is written to a temporary file and renamed into place only when complete; a build that
fails leaves no file behind, only the ERROR phase and a message naming the file at fault.
"""
from __future__ import annotations

import logging
import os
import secrets
import time
from collections.abc import Iterable, Iterator, Sequence
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

log = logging.getLogger(__name__)

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


def set_phase(bundle_id: str, from_phases: Iterable[str], to_phase: str, **fields) -> bool:
    return Bundle.objects.filter(id=bundle_id, phase__in=list(from_phases)).update(
        phase=to_phase, **fields) == 1


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
    """Hand a QUEUED bundle to the workers; if the broker is down, tidy() sends it later.
    Sending it twice is harmless: only one build can move it from QUEUED to EXECUTING."""
    from vo_services.datalink.tasks import build_bundle

    try:
        build_bundle.delay(bundle.id)
    except Exception as exc:  # noqa: BLE001  (kombu raises many kinds of connection errors)
        log.warning("bundle %s queued but not sent to the workers yet: %s", bundle.id, exc)


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
            Bundle.objects.filter(id=self.bundle_id, phase=Phase.EXECUTING).update(
                files_done=files, bytes_done=size, heartbeat=djtz.now())


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
    """QUEUED to EXECUTING, the files into the result, then COMPLETED, or ERROR with a message."""
    now = djtz.now()
    if not set_phase(bundle_id, (Phase.QUEUED,), Phase.EXECUTING, start_time=now, heartbeat=now):
        return "not queued (built already, or gone)"
    bundle = Bundle.objects.get(id=bundle_id)
    final = result_path(bundle)
    temporary = final.with_name(f".{final.name}.{secrets.token_hex(4)}.partial")
    try:
        with temporary.open("wb") as out:
            rows = write_bundle(format_named(bundle.format), out, top_directory(bundle), _members(bundle),
                                _Progress(bundle_id))
        os.replace(temporary, final)
    except BuildFailed as exc:
        message = str(exc)
    except Exception:  # noqa: BLE001  (a bug or a database outage: the user gets a clean ERROR)
        log.exception("bundle %s failed", bundle_id)
        message = "FatalFault: the bundle could not be built because of an internal error; it has been logged"
    else:
        message = None
    finally:
        temporary.unlink(missing_ok=True)
    if message is not None:
        _fail(bundle_id, message)
        return f"ERROR: {message}"
    end = djtz.now()
    if not set_phase(bundle_id, (Phase.EXECUTING,), Phase.COMPLETED, end_time=end, heartbeat=end,
                     files_done=len(rows), bytes_done=sum(r.size for r in rows),
                     result_size=final.stat().st_size, expires=_expiry(end)):
        remove_files(bundle_id)
        return "finished after it was given up: result discarded"
    return "COMPLETED"


def _expiry(moment: datetime) -> datetime:
    return moment + timedelta(seconds=get_settings().bundle_lifetime_s)


def _fail(bundle_id: str, message: str) -> bool:
    end = djtz.now()
    failed = set_phase(bundle_id, (Phase.EXECUTING,), Phase.ERROR, end_time=end, error_summary=message,
                       expires=_expiry(end))
    remove_files(bundle_id)
    return failed


def expire(now: datetime | None = None) -> int:
    """Delete the files of bundles past their expiry (COMPLETED becomes ARCHIVED), and the
    records of those expired long ago. Returns the number of files deleted."""
    now = now or djtz.now()
    expired = list(Bundle.objects.filter(phase=Phase.COMPLETED, expires__lte=now).values_list("id", flat=True))
    for bundle_id in expired:
        if set_phase(bundle_id, (Phase.COMPLETED,), Phase.ARCHIVED):
            remove_files(bundle_id)
    old = Bundle.objects.filter(phase__in=(Phase.ARCHIVED, Phase.ERROR),
                                expires__lte=now - timedelta(seconds=RECORD_KEEP_S))
    for bundle_id in old.values_list("id", flat=True):
        remove_files(bundle_id)
    old.delete()
    return len(expired)


def fail_stuck(stuck_after_s: float) -> int:
    """Builds whose worker died (no progress for ``stuck_after_s``) become ERROR."""
    cutoff = djtz.now() - timedelta(seconds=stuck_after_s)
    stuck = Bundle.objects.filter(phase=Phase.EXECUTING, heartbeat__lt=cutoff).values_list("id", flat=True)
    return sum(_fail(bundle_id, "TransientFault: the worker building this bundle stopped; please ask again")
               for bundle_id in list(stuck))


def requeue_lost(after_s: float) -> int:
    """QUEUED bundles whose message the broker lost (a Redis restart) are sent again."""
    cutoff = djtz.now() - timedelta(seconds=after_s)
    lost = list(Bundle.objects.filter(phase=Phase.QUEUED, heartbeat__lt=cutoff))
    for bundle in lost:
        Bundle.objects.filter(id=bundle.id, phase=Phase.QUEUED).update(heartbeat=djtz.now())
        enqueue(bundle)
    return len(lost)


def ids_from_tap_job(reference: str, caller: str | None) -> list[str]:
    """The IDs in a completed TAP async job's result: its obs_publisher_did column, else obs_id.

    ``reference`` is the job's id or any URL below ``/tap/async/<id>``. The job must be readable
    by the caller under the TAP service's own rule (UWS 1.1 §3: only its owner, if it has one).
    """
    from vo_services.tap.models import Job, Phase as JobPhase
    from vo_services.tap.results import result_path as tap_result_path

    job_id = reference.strip().rstrip("/").split("/async/")[-1].split("/")[0]
    job = Job.objects.filter(id=job_id).first()
    if job is None or (job.owner is not None and job.owner != caller):
        raise BundleError(f"NotFoundFault: no TAP job {job_id} that you may read", 404)
    if job.phase != JobPhase.COMPLETED:
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
