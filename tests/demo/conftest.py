"""One small demo archive per session, shared by the read-only tests."""
from __future__ import annotations

import pytest

from archive.demo import generate_demo
from tests.demo.headers import fits_files, header, instrument

#: Enough for every instrument and a few quirks of each kind, still a few seconds to write.
DEMO_FILES = 3000
DEMO_QUIRK_RATE = 0.03


@pytest.fixture(scope="session")
def demo(tmp_path_factory):
    root = tmp_path_factory.mktemp("demo_archive")
    return generate_demo(root, seed=7, files=DEMO_FILES, quirk_rate=DEMO_QUIRK_RATE)


@pytest.fixture(scope="session")
def demo_headers(demo):
    """(path, header, instrument, quirk) for every file of the demo archive, read once."""
    quirk_of = {path: quirk for quirk, paths in demo.quirks.items() for path in paths}
    rows = []
    for path in fits_files(demo.root):
        hdr = header(path)
        rows.append((path, hdr, instrument(path, hdr), quirk_of.get(path.relative_to(demo.root).as_posix())))
    return rows
