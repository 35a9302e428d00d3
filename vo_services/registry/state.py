"""``created``, ``updated`` and withdrawal of the records, kept in :class:`RecordState`.

The records are recomputed from the archive on every harvest; comparing their digests with the
stored ones is what moves ``updated`` (VOResource 1.1 §3.1.1: "the date this resource metadata
description was last updated") and what turns a record that is no longer produced into a deleted
one (OAI-PMH 2.0 §2.5.1, deletedRecord "persistent": it is never dropped).
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timezone

from django.db import connection, transaction

from archive.config import Settings
from vo_services.registry.models import RecordState
from vo_services.registry.records import Record, current_records

_LOCK = 0x4C49434B  # pg advisory lock key: one synchronisation at a time across workers


@dataclass(frozen=True)
class Entry:
    """A record as harvested: its content (None once withdrawn) and dates."""

    identifier: str
    record: Record | None
    created: datetime
    updated: datetime

    @property
    def deleted(self) -> bool:
        return self.record is None


def datestamp(moment: datetime) -> str:
    """UTC to the second, the granularity the registry declares (OAI-PMH 2.0 §3.3)."""
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def synchronise(settings: Settings, write: bool = True) -> list[Entry]:
    """Compare the records now produced with the stored states; store what changed (``write``)."""
    records = {r.identifier: r for r in current_records(settings)}
    now = datetime.now(timezone.utc)
    entries: list[Entry] = []
    with transaction.atomic():
        if write:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_LOCK])
        states = {s.identifier: s for s in RecordState.objects.all()}
        for identifier, record in records.items():
            state = states.pop(identifier, None)
            if state is None:
                state = RecordState(identifier=identifier, digest=record.digest, created=now, updated=now)
                if write:
                    state.save(force_insert=True)
            elif state.digest != record.digest or state.deleted_at is not None:
                state.digest, state.updated, state.deleted_at = record.digest, now, None
                if write:
                    state.save()
            entries.append(Entry(identifier, record, state.created, state.updated))
        for state in states.values():  # withdrawn: kept, as deleted
            if state.deleted_at is None:
                state.deleted_at = state.updated = now
                if write:
                    state.save()
            entries.append(Entry(state.identifier, None, state.created, state.updated))
    return entries


def version(entries: list[Entry]) -> str:
    """Changes whenever any record changes, appears or is withdrawn: resumption tokens carry it."""
    text = "\n".join(sorted(f"{e.identifier} {e.record.digest if e.record else 'deleted'}" for e in entries))
    return hashlib.sha256(text.encode()).hexdigest()[:16]
