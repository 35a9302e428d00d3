"""Log-in end points and personal tokens: thin views over :mod:`tokens` and :mod:`authentication`.

``/auth/login`` is the ``ivoa_bearer`` end point and ``/auth/cookie`` the ``ivoa_cookie`` one:
both take ``username`` and ``password`` POSTed as a form (``ivo://ivoa.net/sso#tls-with-password``)
and answer 200 with the permit (``X-VO-Bearer`` header or session cookie), or 401.
"""
from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlsplit

from django.contrib.auth import login as session_login, logout as session_logout
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.middleware.csrf import CsrfViewMiddleware
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.csrf import csrf_exempt

from archive.config import get_settings
from vo_services.accounts import preauth, tokens
from vo_services.accounts.authentication import AuthenticationFailed, client_ip, verify_password
from vo_services.accounts.middleware import throttled
from vo_services.accounts.models import ApiToken
from vo_services.accounts.throttle import Throttled
from vo_services.errors import allow_methods, error_for

MAX_TOKEN_DAYS = 366


def _credentials_login(request: HttpRequest):
    """The user of the POSTed username and password, or the error response to send."""
    username, password = request.POST.get("username", ""), request.POST.get("password", "")
    if not username or not password:
        return error_for(request, "username and password are required", 400)
    try:
        return verify_password(username, password, client_ip(request))
    except AuthenticationFailed as exc:
        return error_for(request, str(exc), 401)
    except Throttled as exc:
        return throttled(request, exc)


def _ours(target: str) -> bool:
    """A post-log-in redirect goes only to the archive's public URL (no open redirect)."""
    public = urlsplit(get_settings().public_url)
    return url_has_allowed_host_and_scheme(target, allowed_hosts={public.netloc},
                                           require_https=public.scheme == "https")


def _logged_in(request: HttpRequest, user) -> HttpResponse:
    request.user = user  # so that the response says X-VO-Authenticated
    target = request.POST.get("next", "")
    if target and _ours(target):
        return HttpResponseRedirect(target, status=303)
    return HttpResponse("OK\n", content_type="text/plain; charset=utf-8")


@csrf_exempt  # credentials in the body; nothing is done on behalf of an existing session
@allow_methods("POST")
def bearer_login(request: HttpRequest) -> HttpResponse:
    user = _credentials_login(request)
    if isinstance(user, HttpResponse):
        return user
    response = _logged_in(request, user)
    response["X-VO-Bearer"] = tokens.issue_login_token(user)
    response["Cache-Control"] = "no-store"
    return response


@csrf_exempt
@allow_methods("POST")
def cookie_login(request: HttpRequest) -> HttpResponse:
    user = _credentials_login(request)
    if isinstance(user, HttpResponse):
        return user
    session_login(request, user, backend="django.contrib.auth.backends.ModelBackend")
    return _logged_in(request, user)


@csrf_exempt
@allow_methods("POST")
def logout(request: HttpRequest) -> HttpResponse:
    """Ends the session; with a log-in Bearer token, revokes it."""
    if getattr(request, "auth_method", None) == "bearer":
        tokens.revoke_token(request.META["HTTP_AUTHORIZATION"].partition(" ")[2].strip())
    session_logout(request)
    return HttpResponse("logged out\n", content_type="text/plain; charset=utf-8")


def _token_json(record: ApiToken) -> dict:
    return {"id": record.pk, "name": record.name, "kind": record.kind, "prefix": record.prefix,
            "created": record.created_at.isoformat(),
            "expires": record.expires_at.isoformat() if record.expires_at else None,
            "last_used": record.last_used_at.isoformat() if record.last_used_at else None,
            "revoked": record.revoked_at.isoformat() if record.revoked_at else None}


def _csrf_refusal(request: HttpRequest) -> HttpResponse | None:
    """Session-authenticated changes need Django's CSRF token; header credentials do not."""
    if request.auth_method != "session":
        return None
    return CsrfViewMiddleware(lambda r: None).process_view(request, None, (), {})


def _expiry(days: str | None):
    """When a token asked to live ``days`` days expires (None: never); ValueError if out of range."""
    if not days:
        return None
    if not days.strip().isdigit() or not 1 <= int(days) <= MAX_TOKEN_DAYS:
        raise ValueError(f"expires_days must be a whole number from 1 to {MAX_TOKEN_DAYS}")
    return timezone.now() + timedelta(days=int(days))


@csrf_exempt
@allow_methods("GET", "POST")
def token_list(request: HttpRequest) -> HttpResponse:
    """GET: the caller's tokens (never their values). POST name[, expires_days]: a new token, shown once."""
    if not request.user.is_authenticated:
        return error_for(request, "log in to manage your tokens", 401)
    if request.method in ("GET", "HEAD"):
        return JsonResponse({"tokens": [_token_json(t) for t in request.user.api_tokens.all()]})
    refused = _csrf_refusal(request)
    if refused is not None:
        return refused
    name = request.POST.get("name", "").strip()
    if not name:
        return error_for(request, "a token needs a name", 400)
    try:
        expires_at = _expiry(request.POST.get("expires_days"))
    except ValueError as exc:
        return error_for(request, str(exc), 400)
    record, token = tokens.issue(request.user, name, expires_at=expires_at)
    return JsonResponse({**_token_json(record), "token": token}, status=201)


@csrf_exempt
@allow_methods("GET", "POST", "DELETE")
def token_detail(request: HttpRequest, token_id: int) -> HttpResponse:
    """DELETE (or POST): revoke one of the caller's tokens."""
    if not request.user.is_authenticated:
        return error_for(request, "log in to manage your tokens", 401)
    record = request.user.api_tokens.filter(pk=token_id).first()
    if record is None:
        return error_for(request, f"you have no token {token_id}", 404)
    if request.method in ("GET", "HEAD"):  # HEAD too: it must never revoke
        return JsonResponse(_token_json(record))
    refused = _csrf_refusal(request)
    if refused is not None:
        return refused
    tokens.revoke(record)
    return HttpResponse(status=204)


@csrf_exempt
@allow_methods("POST")
def preauthorise(request: HttpRequest) -> HttpResponse:
    """POST url: a pre-authorised copy of one of this archive's read URLs for the caller, to hand
    to a SAMP hub, which fetches it without the browser's credentials (:mod:`.preauth`).

    Only a caller logged in by a real credential gets one (never by a grant: a grant cannot
    extend itself); a session needs Django's CSRF token, as every change made with it does.
    """
    if not request.user.is_authenticated or request.auth_method == "preauth":
        return error_for(request, "log in to send your own data by SAMP", 401)
    refused = _csrf_refusal(request)
    if refused is not None:
        return refused
    try:
        made = preauth.grant(request.POST.get("url", ""), request.user.get_username())
    except ValueError as exc:
        return error_for(request, str(exc), 400)
    response = JsonResponse({"url": made.url, "expires": made.expires})
    response["Cache-Control"] = "no-store"
    return response


def account(request: HttpRequest) -> HttpResponse:
    """The web page: log in and out (session cookie), see your programs, make and revoke tokens.

    A failed log-in shows its reason beside the form (the same wording and throttling as the
    IVOA log-in end points); a successful one goes on to ``next`` when it is a page of ours.
    """
    from vo_services.identity import principals_for

    new_token = None
    context: dict = {"next": request.GET.get("next", "") or request.path}
    action = request.POST.get("action") if request.method == "POST" else None
    if action == "login" and not request.user.is_authenticated:
        outcome = _form_login(request)
        if isinstance(outcome, HttpResponse):
            return outcome
        context.update(login_error=outcome, username=request.POST.get("username", "")[:150],
                       next=request.POST.get("next", ""))
    elif action == "logout":
        session_logout(request)
        return HttpResponseRedirect(reverse("home"), status=303)
    elif request.method == "POST" and request.user.is_authenticated:
        if action == "create" and request.POST.get("name", "").strip():
            new_token = tokens.issue(request.user, request.POST["name"].strip()[:100])[1]
        elif action == "revoke":
            token_id = request.POST.get("token_id", "")
            record = request.user.api_tokens.filter(pk=int(token_id) if token_id.isdigit() else 0).first()
            if record is not None:
                tokens.revoke(record)
    context["new_token"] = new_token
    if request.user.is_authenticated:
        context["principals"] = principals_for(request)
        context["api_tokens"] = request.user.api_tokens.filter(revoked_at__isnull=True)
    response = render(request, "accounts/account.html", context, status=401 if context.get("login_error") else 200)
    response["Cache-Control"] = "no-store"
    return response


def _form_login(request: HttpRequest) -> HttpResponse | str:
    """Log in from the account page's form: the redirect to follow, or the message to show."""
    username, password = request.POST.get("username", ""), request.POST.get("password", "")
    if not username or not password:
        return "Enter your user name and password."
    try:
        user = verify_password(username, password, client_ip(request))
    except AuthenticationFailed as exc:
        return str(exc)
    except Throttled as exc:
        return f"Too many attempts: try again in {exc.retry_after_s} seconds."
    session_login(request, user, backend="django.contrib.auth.backends.ModelBackend")
    target = request.POST.get("next", "")
    return HttpResponseRedirect(target if target and _ours(target) else request.path, status=303)
