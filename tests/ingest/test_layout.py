"""Which files are FITS files: one list of suffixes for the watcher, bulk ingest and obs_ids."""
from __future__ import annotations

import pytest

from ingest.layout import find_files, is_archive_file
from ingest.nights import ArchivePath


@pytest.mark.parametrize("name", ["b1.fits", "b1.FITS", "b1.fits.gz", "b1.fit", "b1.fit.gz", "b1.fts"])
def test_every_fits_suffix_is_seen_everywhere_and_leaves_the_obs_id(tmp_path, name):
    night = tmp_path / "2019-05" / "02" / "shane"
    night.mkdir(parents=True)
    (night / name).write_bytes(b"")
    assert is_archive_file(name), "the watcher reports it"
    assert [p.name for p in find_files(tmp_path)] == [name], "bulk ingest finds it"
    assert ArchivePath.parse(f"2019-05/02/shane/{name}").obs_id == "2019-05/02/shane/b1"


@pytest.mark.parametrize("name", ["b1.jpg", "b1.fits.bak", "notes.txt"])
def test_other_files_are_not_fits(name):
    assert not is_archive_file(name)
