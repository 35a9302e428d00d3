"""Tokens and failed log-ins (Django's own tables), and the admin's view of the archive's tables.

The archive tables (``lick.program``, ``lick.program_observer``, ``lick.observation``,
``lick.access_grant``) are defined once, in :mod:`archive.schema`; the unmanaged models here only
let the Django admin edit them. A test checks that they name real columns.
"""
from __future__ import annotations

from django.conf import settings
from django.db import models


class ApiToken(models.Model):
    """A personal Bearer token, or one handed out by a log-in (``ivoa_bearer``); stored as a digest."""

    class Kind(models.TextChoices):
        PERSONAL = "personal", "personal token"
        LOGIN = "login", "log-in (ivoa_bearer)"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100)
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.PERSONAL)
    digest = models.CharField(max_length=64, unique=True, help_text="SHA-256 of the token, hex")
    prefix = models.CharField(max_length=16, help_text="the token's first characters, to tell tokens apart")
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…) of {self.user}"


class LoginFailure(models.Model):
    """One failed log-in, kept for the throttle's window (:mod:`vo_services.accounts.throttle`)."""

    username = models.CharField(max_length=150)
    client_ip = models.GenericIPAddressField(null=True)
    at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        indexes = [models.Index(fields=["username", "at"]), models.Index(fields=["client_ip", "at"])]


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
