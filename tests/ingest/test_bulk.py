"""Bulk ingest over many batches: the next batch is read while the current one is written."""
from __future__ import annotations

from ingest.bulk import bulk_ingest
from ingest.layout import find_files


def test_bulk_ingest_in_many_batches_stores_every_file_once(demo_archive, archive_root, owner_conn):
    tree = archive_root / "demo"
    files = len(list(find_files(tree)))
    with owner_conn.cursor() as cur:
        cur.execute("SELECT count(*) FROM lick.observation")
        (rows,) = cur.fetchone()
    owner_conn.commit()
    forced = bulk_ingest([str(tree)], force=True, batch_size=7, jobs=2, progress=False)
    assert (forced.updated, forced.inserted, forced.failed) == (files, 0, [])
    again = bulk_ingest([str(tree)], batch_size=7, jobs=2, progress=False)
    assert (again.unchanged, again.updated, again.inserted) == (files, 0, 0)
    with owner_conn.cursor() as cur:
        cur.execute("SELECT count(*) FROM lick.observation")
        assert cur.fetchone()[0] == rows


def test_relative_paths_resolve_links_as_relative_path_does(tmp_path):
    from ingest.pipeline import relative_path, relative_paths

    root = tmp_path / "root"
    night = root / "2019-05" / "02" / "shane"
    night.mkdir(parents=True)
    (night / "b1.fits").write_bytes(b"")
    (night / "b2.fits").symlink_to(night / "b1.fits")  # a file that is a link
    (root / "2019-05" / "03").mkdir()
    (root / "2019-05" / "03" / "shane").symlink_to(night)  # a directory that is a link
    paths = [night / "b1.fits", night / "b2.fits", root / "2019-05" / "03" / "shane" / "b1.fits",
             night / "gone.fits"]
    assert relative_paths(paths, root) == {p: relative_path(p, root) for p in paths}
