"""Curation of the archive by its staff: programs and their observers, release dates, grants.

The admin pages edit the archive's own tables (``lick.*``) through unmanaged models; whatever
changes who may see a file goes back through ingest's one entry point for it
(:func:`ingest.curation.curator_changed`), so the access rules decide as they do at ingest.
"""
