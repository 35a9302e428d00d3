"""What the registry remembers of each record it has served: enough to keep ``created`` fixed,
move ``updated`` when the content changes, and serve a withdrawn record as deleted."""
from __future__ import annotations

from django.db import models


class RecordState(models.Model):
    identifier = models.CharField(max_length=400, primary_key=True)
    #: SHA-256 of the record's canonical XML without its dates.
    digest = models.CharField(max_length=64)
    created = models.DateTimeField()
    #: When what the record says last changed, or when it was withdrawn (its OAI datestamp).
    updated = models.DateTimeField()
    #: Set while the resource is withdrawn: served as an OAI deleted record (persistent).
    deleted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "registry_record_state"
