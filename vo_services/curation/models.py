"""The admin's view of the archive's tables, for curation.

The tables (``lick.program``, ``lick.program_observer``, ``lick.observation``,
``lick.access_grant``) are defined once, in :mod:`archive.schema`; these unmanaged models only
let the Django admin show and edit them (tests/test_curation.py checks that they name real
columns). ``lick.observation`` is written by ingest alone: an observation here cannot be saved
or deleted, and an admin's release date goes through :func:`ingest.curation.curator_changed`.
"""
from __future__ import annotations

from django.db import models


class Program(models.Model):
    program_id = models.TextField(primary_key=True, help_text="program or cover-sheet id")
    title = models.TextField(null=True, blank=True)
    release_date = models.DateField(null=True, blank=True,
                                    help_text="when its data become public; empty: night + default period")

    class Meta:
        managed = False
        db_table = 'lick"."program'
        ordering = ["program_id"]

    def __str__(self) -> str:
        return self.program_id


class Membership(models.Model):
    """An observer of a program: the user of that name sees the program's proprietary data."""

    program = models.ForeignKey(Program, on_delete=models.DO_NOTHING, db_column="program_id",
                                related_name="memberships")
    observer = models.TextField(help_text="the observer's user name")

    class Meta:
        managed = False
        db_table = 'lick"."program_observer'
        ordering = ["program_id", "observer"]

    def __str__(self) -> str:
        return f"{self.observer} in {self.program_id}"


class ReadOnlyRow(Exception):
    """Raised when code tries to write a row that only ingest writes."""


class Observation(models.Model):
    obs_id = models.TextField(unique=True, editable=False)
    instrument_name = models.TextField(editable=False)
    observing_night = models.DateField(editable=False)
    frame_type = models.TextField(editable=False)
    target_name = models.TextField(null=True, editable=False)
    obs_release_date = models.DateTimeField(editable=False)
    release_override = models.DateTimeField(
        null=True, blank=True,
        help_text="release date set by an admin; it wins over the access rules until cleared")

    class Meta:
        managed = False
        db_table = 'lick"."observation'
        ordering = ["-observing_night", "obs_id"]

    def __str__(self) -> str:
        return self.obs_id

    def save(self, *args, **kwargs):
        raise ReadOnlyRow("lick.observation is written by ingest alone (ingest.curation.curator_changed)")

    def delete(self, *args, **kwargs):
        raise ReadOnlyRow("observations leave with their files, through ingest")


class AccessGrant(models.Model):
    """Who may see a file before its release: ``user:<name>``, ``program:<id>`` or ``group:<name>``."""

    observation = models.ForeignKey(Observation, on_delete=models.DO_NOTHING, related_name="grants")
    principal = models.TextField()
    reason = models.TextField()

    class Meta:
        managed = False
        db_table = 'lick"."access_grant'

    def __str__(self) -> str:
        return f"{self.principal} on {self.observation_id}"
