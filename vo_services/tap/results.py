"""Where async results live: one file per job in the results directory, published atomically."""
from __future__ import annotations

import os
from pathlib import Path

from archive.config import get_settings
from vo_services.tap.models import Job


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
    return final.with_name(f".{final.name}.partial"), final


def publish(temporary: Path, final: Path) -> int:
    os.replace(temporary, final)
    return final.stat().st_size


def remove_result(job: Job) -> None:
    for path in results_dir().glob(f"*{job.id}.*"):
        path.unlink(missing_ok=True)
