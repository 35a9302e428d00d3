"""Admin pages for curating the archive: programs and their observers, release dates, grants.

Audited like the account pages (:class:`vo_services.admin.AuditedAdmin`: each change is in
Django's admin log with its old and new values). A change that bears on who may see a
file is handed to ingest (:func:`ingest.curation.curator_changed`) once the admin's transaction
has committed: the rules run on the ingest role's own connection, which reads the committed
schedule and would otherwise wait for the admin's transaction to end.
"""
from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from django.contrib import admin
from django.db import transaction

from ingest.curation import ADMIN_REASON, KEEP, Keep, curator_changed
from vo_services.admin import AuditedAdmin
from vo_services.curation.models import AccessGrant, Membership, Observation, Program


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 1


@admin.register(Program)
class ProgramAdmin(AuditedAdmin):
    list_display = ("program_id", "title", "release_date")
    search_fields = ("program_id", "title", "memberships__observer")
    inlines = [MembershipInline]

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        if change and "release_date" in form.changed_data:
            _after_commit(AccessGrant.objects.filter(principal=f"program:{obj.program_id}")
                          .values_list("observation__obs_id", flat=True))


@admin.register(Membership)
class MembershipAdmin(AuditedAdmin):
    list_display = ("observer", "program")
    search_fields = ("observer", "program__program_id")


class GrantInline(admin.TabularInline):
    model = AccessGrant
    extra = 0
    fields = ("principal", "reason")
    readonly_fields = ("principal", "reason")
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Observation)
class ObservationAdmin(AuditedAdmin):
    list_display = ("obs_id", "instrument_name", "observing_night", "frame_type", "obs_release_date",
                    "release_override")
    list_filter = ("instrument_name", "frame_type")
    search_fields = ("obs_id", "target_name")
    fields = ("obs_id", "instrument_name", "observing_night", "frame_type", "target_name",
              "obs_release_date", "release_override")
    readonly_fields = ("obs_id", "instrument_name", "observing_night", "frame_type", "target_name",
                       "obs_release_date")
    inlines = [GrantInline]

    def has_add_permission(self, request):
        return False  # observations come from ingest

    def has_delete_permission(self, request, obj=None):
        return False  # and leave with their files

    def save_model(self, request, obj, form, change):
        """Ingest writes the row: the admin's release date wins over the rules' until cleared."""
        _after_commit([obj.obs_id], release_override=obj.release_override)


@admin.register(AccessGrant)
class AccessGrantAdmin(AuditedAdmin):
    """Grants to a user (``user:<name>``), a program (``program:<id>``) or a group (``group:<name>``)."""

    list_display = ("observation", "principal", "reason")
    search_fields = ("principal", "observation__obs_id")
    raw_id_fields = ("observation",)

    def get_queryset(self, request):
        return super().get_queryset(request).filter(reason__startswith=ADMIN_REASON)

    def save_model(self, request, obj, form, change):
        note = obj.reason.removeprefix(ADMIN_REASON).strip()
        obj.reason = f"{ADMIN_REASON} {note}" if note else f"{ADMIN_REASON} granted by {request.user}"
        super().save_model(request, obj, form, change)


def _after_commit(obs_ids: Iterable[str], *, release_override: datetime | None | Keep = KEEP) -> None:
    ids = [i for i in obs_ids if i]
    if ids:
        transaction.on_commit(lambda: curator_changed(ids, release_override=release_override))
