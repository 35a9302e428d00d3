"""What every admin page shares: the audit.

Every change is recorded in Django's admin log with who, when and what: the message names each
changed field with its old and new value (secrets only as "(secret)"). The log itself is
browsable, read-only, under "Audit log". The pages themselves are the apps':
:mod:`vo_services.accounts.admin` (users, tokens, log-ins) and :mod:`vo_services.curation.admin`
(programs, observations, grants).
"""
from __future__ import annotations

from django.contrib import admin
from django.contrib.admin.models import LogEntry

SECRET_FIELDS = {"password", "digest"}


class AuditedAdmin(admin.ModelAdmin):
    """Logs field values, not just field names, for each addition and change."""

    def construct_change_message(self, request, form, formsets, add=False):
        def shown(name, value):
            return "(secret)" if name in SECRET_FIELDS else repr(value)

        if add:
            parts = [f"{name}={shown(name, form.cleaned_data.get(name))}" for name in form.changed_data]
            return "added: " + ", ".join(parts) if parts else "added"
        parts = [f"{name}: {shown(name, form.initial.get(name))} -> {shown(name, form.cleaned_data.get(name))}"
                 for name in form.changed_data]
        for formset in formsets or ():
            parts += [f"added {obj}" for obj in formset.new_objects]
            parts += [f"removed {obj}" for obj in formset.deleted_objects]
            parts += [f"changed {obj}: {', '.join(fields)}" for obj, fields in formset.changed_objects]
        return "changed " + "; ".join(parts) if parts else "no change"


@admin.register(LogEntry)
class AuditLogAdmin(admin.ModelAdmin):
    list_display = ("action_time", "user", "content_type", "object_repr", "action_flag", "change_message")
    list_filter = ("content_type", "action_flag")
    search_fields = ("object_repr", "change_message", "user__username")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

