"""The archive's directory layout: ``YYYY-MM/DD/<instrument dir>/<file>``, and which files count."""
from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path

#: What a FITS file's name ends with (any case); the obs_id is the path without it.
FITS_SUFFIXES = (".fits", ".fits.gz", ".fit", ".fit.gz", ".fts")
OVERRIDE_FILE = re.compile(r"^override(?:\.(\d+))?\.access$")


def is_fits(name: str) -> bool:
    return name.lower().endswith(FITS_SUFFIXES)


def is_archive_file(name: str) -> bool:
    """Files the watcher reports: FITS files and override files."""
    return is_fits(name) or bool(OVERRIDE_FILE.match(name))


def find_files(top: Path) -> Iterator[Path]:
    """Every FITS file under ``top``, in a stable order."""
    for dirpath, dirnames, filenames in os.walk(top):
        dirnames.sort()
        for name in sorted(filenames):
            if is_fits(name):
                yield Path(dirpath) / name


def instrument_dirs(root: Path) -> Iterator[str]:
    """Archive-relative ``YYYY-MM/DD/<instrument dir>`` directories, oldest first."""
    for month in sorted(p for p in root.iterdir() if p.is_dir() and re.fullmatch(r"\d{4}-\d{2}", p.name)):
        for day in sorted(p for p in month.iterdir() if p.is_dir() and re.fullmatch(r"\d{2}", p.name)):
            for inst in sorted(p for p in day.iterdir() if p.is_dir()):
                yield inst.relative_to(root).as_posix()
