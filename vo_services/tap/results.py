"""Where async results live: one file per job in the results directory, published atomically
(write-then-rename, :mod:`vo_services.jobs.persistence`), beside the job's stored uploads."""
from __future__ import annotations

from pathlib import Path

from archive.config import get_settings
from vo_services.jobs.persistence import publish, temporary_for
from vo_services.tap.models import Job

__all__ = ["partial_path", "publish", "remove_files", "result_path", "results_dir", "store_uploads",
           "stored_uploads"]


def results_dir() -> Path:
    directory = get_settings().results_dir
    directory.mkdir(parents=True, exist_ok=True)
    return directory


def result_path(job: Job) -> Path | None:
    return results_dir() / job.result_file if job.result_file else None


def partial_path(job: Job, extension: str) -> tuple[Path, Path]:
    """(temporary, final) paths: the result is written to the first and renamed to the second,
    so a reader never sees half a file."""
    final = results_dir() / f"{job.id}.{extension}"
    return temporary_for(final), final


def remove_files(job_id: str) -> None:
    """The job's result, partial result and stored uploads."""
    for path in results_dir().glob(f"*{job_id}.*"):
        path.unlink(missing_ok=True)


class StoredPart:
    """An inline upload saved with its job, read back like a Django uploaded file."""

    def __init__(self, path: Path):
        self.path = path
        self.size = path.stat().st_size

    def read(self) -> bytes:
        return self.path.read_bytes()


def store_uploads(job: Job, files: dict) -> None:
    """Keep the multipart parts of a job's creation request, for its ``param:`` UPLOADs."""
    for part, uploaded in files.items():
        if "/" in part or part.startswith("."):
            continue
        with (results_dir() / f"{job.id}.upload.{part}").open("wb") as out:
            for chunk in uploaded.chunks():
                out.write(chunk)


def stored_uploads(job: Job) -> dict[str, StoredPart]:
    prefix = f"{job.id}.upload."
    return {p.name[len(prefix):]: StoredPart(p) for p in results_dir().glob(prefix + "*")}
