"""Admin pages for accounts: users and groups, API tokens, failed log-ins.

Audited (:class:`vo_services.admin.AuditedAdmin`), as the curation pages
(:mod:`vo_services.curation.admin`) are.

The admin is opened by its own log-in form only (a session with Django's CSRF token; the
authentication middleware ignores Authorization headers under /admin/), and that form checks
passwords through the log-in throttle like every other log-in.
"""
from __future__ import annotations

from django.contrib import admin
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.admin import UserAdmin
from django.contrib.auth.models import User
from django.utils import timezone

from vo_services.accounts import tokens
from vo_services.accounts.authentication import AuthenticationFailed, client_ip, verify_password
from vo_services.accounts.models import ApiToken, LoginFailure
from vo_services.admin import AuditedAdmin

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
