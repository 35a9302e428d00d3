"""The logged-in user's own things: "my jobs" (TAP async jobs) and "my bundles" (downloads).

Both list only rows whose owner is the caller (the same owner rule as the UWS and bundle
end points); an anonymous visitor is sent to log in first. Aborting a job goes through the job
core (``tap.jobs.abort``), exactly as ``POST /tap/async/<id>/phase PHASE=ABORT`` does.
"""
from __future__ import annotations

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.http import urlencode
from django.views.decorators.http import require_http_methods

from vo_services.datalink.models import Bundle
from vo_services.identity import caller_name
from vo_services.jobs.persistence import ACTIVE_PHASES
from vo_services.tap import jobs
from vo_services.tap.models import Job

SHOWN = 200  # the newest ones; older ones stay reachable through /tap/async
ABORTABLE = ("PENDING", "QUEUED", "EXECUTING", "HELD")  # UWS §2.2.3.6


def _log_in_first(request: HttpRequest) -> HttpResponse:
    return HttpResponseRedirect(f"{reverse('account')}?{urlencode({'next': request.get_full_path()})}")


def _no_store(response: HttpResponse) -> HttpResponse:
    response["Cache-Control"] = "no-store"
    return response


@require_http_methods(["GET", "HEAD", "POST"])
def my_jobs(request: HttpRequest) -> HttpResponse:
    """The caller's TAP async jobs: phase, times, query, abort, result link."""
    owner = caller_name(request)
    if owner is None:
        return _log_in_first(request)
    message = None
    if request.method == "POST" and request.POST.get("action") == "abort":
        job = Job.objects.filter(id=request.POST.get("job", ""), owner=owner).first()
        if job is None:
            message = "There is no such job of yours."
        else:
            try:
                jobs.abort(job)
                message = f"Job {job.id} aborted."
            except jobs.JobStateError as exc:
                message = str(exc)
    rows = list(Job.objects.filter(owner=owner).order_by("-creation_time")[:SHOWN])
    return _no_store(render(request, "portal/my_jobs.html", {
        "jobs": rows, "message": message, "abortable": ABORTABLE,
        "refresh": any(j.phase in ACTIVE_PHASES for j in rows)}))


def my_bundles(request: HttpRequest) -> HttpResponse:
    """The caller's download bundles: phase, progress, result link; refreshes while one builds."""
    owner = caller_name(request)
    if owner is None:
        return _log_in_first(request)
    rows = list(Bundle.objects.filter(owner=owner).order_by("-creation_time")[:SHOWN])
    return _no_store(render(request, "portal/my_bundles.html", {
        "bundles": rows,
        "refresh": any(b.phase in ACTIVE_PHASES for b in rows)}))
