"""Download bundles as jobs, persisted in PostgreSQL through Django's ORM."""
from __future__ import annotations

import secrets

from django.db import models

from vo_services.jobs.persistence import Phase

__all__ = ["BUNDLE_PHASES", "Bundle", "Phase", "new_bundle_id"]


def new_bundle_id() -> str:
    """An id that cannot be guessed: anonymous bundles are readable by whoever has their URL."""
    return secrets.token_hex(16)


# The UWS 1.1 §2.1.3 phase names a bundle passes through, so that clients know them. ARCHIVED
# (UWS: "the job's results have been deleted") is an expired bundle.
BUNDLE_PHASES = (Phase.QUEUED, Phase.EXECUTING, Phase.COMPLETED, Phase.ERROR, Phase.ARCHIVED)


class Bundle(models.Model):
    id = models.CharField(primary_key=True, max_length=32, default=new_bundle_id, editable=False)
    owner = models.CharField(max_length=150, null=True, blank=True,
                             help_text="user name of the creator; NULL for anonymous bundles")
    format = models.CharField(max_length=16, help_text="vo_services.datalink.bundles.FORMATS name")
    phase = models.CharField(max_length=16, choices=[(p.value, p.label) for p in BUNDLE_PHASES],
                             default=Phase.QUEUED)
    obs_ids = models.JSONField(default=list, help_text="the observations to bundle, visible at submission")
    refused = models.JSONField(default=list, help_text="IDs asked for that the caller may not have")
    files_total = models.PositiveIntegerField()
    bytes_total = models.BigIntegerField(help_text="the files' sizes as recorded at submission")
    files_done = models.PositiveIntegerField(default=0)
    bytes_done = models.BigIntegerField(default=0)
    result_size = models.BigIntegerField(null=True, blank=True)
    error_summary = models.TextField(null=True, blank=True)
    creation_time = models.DateTimeField(auto_now_add=True)
    start_time = models.DateTimeField(null=True, blank=True)
    end_time = models.DateTimeField(null=True, blank=True)
    expires = models.DateTimeField(null=True, blank=True, help_text="when the result file is deleted")
    heartbeat = models.DateTimeField(null=True, blank=True, help_text="last sign of life of the builder")

    class Meta:
        indexes = [models.Index(fields=["phase", "expires"])]
