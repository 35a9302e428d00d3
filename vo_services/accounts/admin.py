"""Admin pages: users and groups, programs and their observers, grants, release-date overrides.

Every change is recorded in Django's admin log with who, when and what: the message names each
changed field with its old and new value (passwords only as "changed"). The log itself is
browsable, read-only, under "Audit log".

The admin is opened by its own log-in form only (a session with Django's CSRF token; the
authentication middleware ignores Authorization headers under /admin/), and that form checks
passwords through the log-in throttle like every other log-in.
"""
from __future__ import annotations

from django.contrib import admin
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.admin.models import LogEntry
from django.contrib.auth.admin import UserAdmin
from django.contrib.auth.models import User
from django.utils import timezone

from ingest.store import ADMIN_REASON
from vo_services.accounts import tokens
from vo_services.accounts.authentication import AuthenticationFailed, client_ip, verify_password
from vo_services.accounts.models import AccessGrant, ApiToken, LoginFailure, Membership, Observation, Program

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


class ThrottledAdminLoginForm(AdminAuthenticationForm):
    """The admin's log-in form, its password checked by :func:`verify_password`: counted by the
    throttle, and refused with 429 (the middleware turns ``Throttled`` into it) past the limit."""

    def clean(self):
        username, password = self.cleaned_data.get("username"), self.cleaned_data.get("password")
        if username is not None and password:
            try:
                self.user_cache = verify_password(username, password, client_ip(self.request))
            except AuthenticationFailed:
                raise self.get_invalid_login_error() from None
            self.confirm_login_allowed(self.user_cache)  # staff only
        return self.cleaned_data


admin.site.login_form = ThrottledAdminLoginForm
admin.site.unregister(User)


@admin.register(User)
class AuditedUserAdmin(AuditedAdmin, UserAdmin):
    list_display = ("username", "email", "is_active", "is_staff", "last_login")


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
            _reapply(AccessGrant.objects.filter(principal=f"program:{obj.program_id}")
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
        if obj.release_override is not None:
            obj.obs_release_date = obj.release_override
            Observation.objects.filter(pk=obj.pk).update(release_override=obj.release_override,
                                                         obs_release_date=obj.release_override)
        else:
            Observation.objects.filter(pk=obj.pk).update(release_override=None)
            _reapply([obj.obs_id])


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


@admin.register(ApiToken)
class ApiTokenAdmin(AuditedAdmin):
    list_display = ("name", "user", "kind", "prefix", "created_at", "last_used_at", "expires_at", "revoked_at")
    list_filter = ("kind",)
    search_fields = ("user__username", "name", "prefix")
    readonly_fields = ("user", "name", "kind", "prefix", "created_at", "last_used_at", "expires_at", "revoked_at")
    exclude = ("digest",)
    actions = ["revoke"]

    def has_add_permission(self, request):
        return False  # users make their own tokens; the value is shown only to them

    @admin.action(description="Revoke the selected tokens")
    def revoke(self, request, queryset):
        for record in queryset:
            tokens.revoke(record)
            self.log_change(request, record, f"revoked at {timezone.now().isoformat()}")


@admin.register(LoginFailure)
class LoginFailureAdmin(admin.ModelAdmin):
    list_display = ("username", "client_ip", "at")
    search_fields = ("username", "client_ip")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


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


def _reapply(obs_ids) -> None:
    """Re-decide access once the admin's change is committed: the rules run on the ingest role's
    own connection, which would otherwise wait for the admin's transaction to end."""
    from django.db import transaction

    from ingest.pipeline import reapply_access

    ids = [i for i in obs_ids if i]
    if ids:
        transaction.on_commit(lambda: reapply_access(obs_ids=ids))
