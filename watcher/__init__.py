"""The watcher: sees files land under the archive root and tells the ingest API.

Two ways of seeing: ``inotify`` (instant, local disks) and ``polling`` (NFS-safe scans by size and
mtime). Both feed one :class:`~watcher.notifier.Notifier`, which batches paths, posts them, and
keeps its backlog across API outages. On start, :func:`~watcher.resync.resync` compares disk with
the database so that nothing that landed while the watcher was down is lost.
"""
