"""Tokens and failed log-ins, in Django's own tables.

The admin's view of the archive's tables (programs, observers, observations, grants) is in
:mod:`vo_services.curation.models`.
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
