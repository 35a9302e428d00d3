"""Async TAP jobs (UWS 1.1), persisted in PostgreSQL through Django's ORM."""
from __future__ import annotations

import secrets

from django.db import models

from vo_services.jobs.persistence import ACTIVE_PHASES, FINAL_PHASES, Phase

__all__ = ["ACTIVE_PHASES", "FINAL_PHASES", "Job", "Phase", "new_job_id"]


def new_job_id() -> str:
    """A job id that is a legal path segment and cannot be guessed (UWS §2.2.1)."""
    return secrets.token_hex(12)


class Job(models.Model):
    id = models.CharField(primary_key=True, max_length=32, default=new_job_id, editable=False)
    owner = models.CharField(max_length=150, null=True, blank=True,
                             help_text="user name of the creator; NULL for anonymous jobs")
    origin = models.GenericIPAddressField(null=True, blank=True,
                                          help_text="client address of an anonymous creator (the per-address job limit)")
    run_id = models.CharField(max_length=64, null=True, blank=True)
    phase = models.CharField(max_length=16, choices=Phase.choices, default=Phase.PENDING)
    parameters = models.JSONField(default=list, help_text="[[NAME, value], ...]; uploads by reference")
    creation_time = models.DateTimeField(auto_now_add=True)
    start_time = models.DateTimeField(null=True, blank=True)
    end_time = models.DateTimeField(null=True, blank=True)
    execution_duration = models.PositiveIntegerField(help_text="seconds; 0 means unlimited")
    destruction = models.DateTimeField()
    quote = models.DateTimeField(null=True, blank=True)
    error_summary = models.TextField(null=True, blank=True)
    error_type = models.CharField(max_length=16, null=True, blank=True)  # transient or fatal
    result_rows = models.BigIntegerField(null=True, blank=True)
    result_size = models.BigIntegerField(null=True, blank=True)
    result_mime = models.CharField(max_length=100, null=True, blank=True)
    result_file = models.CharField(max_length=255, null=True, blank=True, help_text="name in the results dir")
    backend_pid = models.IntegerField(null=True, blank=True, help_text="PostgreSQL backend running the query")
    task_id = models.CharField(max_length=64, null=True, blank=True)
    heartbeat = models.DateTimeField(null=True, blank=True, help_text="last sign of life of the executor")

    class Meta:
        indexes = [
            models.Index(fields=["owner", "creation_time"]),
            models.Index(fields=["phase"]),
            models.Index(fields=["destruction"]),
        ]

    def parameter(self, name: str) -> str | None:
        """The last value given for a parameter, matched case-insensitively (DALI §3.1)."""
        values = [v for k, v in self.parameters if k.upper() == name.upper()]
        return values[-1] if values else None
