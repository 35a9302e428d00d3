"""The ADQL page (/query) and its async jobs' pages: thin views over :mod:`.adql_page`."""
from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from vo_services import limits
from vo_services.errors import owned_by_another
from vo_services.identity import caller_name, principals_for
from vo_services.portal import adql_page
from vo_services.tap.examples import EXAMPLES
from vo_services.tap.models import ACTIVE_PHASES, Job, Phase
from vo_services.usage_limits import client_address, page_rate_limited

JOBS_LISTED = 25


def _my_jobs(request: HttpRequest) -> list[dict]:
    """The logged-in caller's jobs, newest first (UWS 1.1 §2.2: a user lists only their own)."""
    owner = caller_name(request)
    if owner is None:
        return []
    return [_job_view(job) for job in Job.objects.filter(owner=owner).order_by("-creation_time")[:JOBS_LISTED]]


def _job_view(job: Job) -> dict:
    """What the pages show of a job; ``active``: it may still change by itself (the job page
    reloads itself meanwhile); ``abortable``: it has not ended."""
    return {"job": job, "query": job.parameter("QUERY") or "", "urls": adql_page.job_urls(job),
            "active": job.phase in ACTIVE_PHASES,
            "abortable": job.phase in (Phase.PENDING, Phase.HELD, *ACTIVE_PHASES)}


@require_http_methods(["GET", "HEAD", "POST"])
def query(request: HttpRequest) -> HttpResponse:
    """GET: the box (``?query=`` or ``?example=<id>`` fill it; ``run=1`` also runs it, so that a
    short query's result has a link). POST (the form, with its CSRF token): ``action=run`` runs
    the query here, ``action=async`` submits it as a TAP async job."""
    data = request.POST if request.method == "POST" else request.GET
    chosen = adql_page.example(request.GET.get("example"))
    asynchronous = request.method == "POST" and data.get("action") == "async"
    largest = limits.OUTPUT_ROWS.hard if asynchronous else adql_page.PAGE_ROWS
    form = adql_page.QueryForm.read(data, largest=largest)
    if chosen is not None and not data.get("query"):
        form.query = chosen.query
    running = request.method == "POST" or bool(data.get("run"))
    context = {"form": form, "examples": EXAMPLES, "page_rows": adql_page.PAGE_ROWS,
               "running": running, "jobs": _my_jobs(request), "status": 200,
               "permalink": adql_page.permalink(form)}
    if running and form.query.strip() and not form.errors:
        context |= _run(request, form, asynchronous)
        if "job_redirect" in context:
            return context["job_redirect"]
    elif running and form.errors:
        context["status"] = 400
    if not running:
        form.errors.pop("query", None)  # an empty box is not an error until it is run
    return render(request, "portal/query.html", context, status=context["status"])


def _run(request: HttpRequest, form: adql_page.QueryForm, asynchronous: bool) -> dict:
    if (limited := page_rate_limited(request)) is not None:
        return {"notice": limited, "status": 429}
    if asynchronous:
        error = adql_page.check(form)
        if error is not None:
            return {"error": error, "marked": error.marked_lines(form.query), "status": 400}
        # Refused to run (too many jobs in flight), the job waits PENDING: its page says so.
        job, _ = adql_page.submit_job(form, caller_name(request), client_address(request))
        return {"job_redirect": redirect("query_job", job_id=job.id)}
    result = adql_page.run_sync(form, principals_for(request))
    if result.error is not None:
        return {"error": result.error, "marked": result.error.marked_lines(form.query), "status": 400}
    return {"result": result, "samp_url": adql_page.sync_url(form)}


def _job_or_page(request: HttpRequest, job_id: str) -> Job | HttpResponse:
    """The job if the caller may see it: one made by a logged-in user is theirs alone, an
    anonymous one anyone's who has its URL (UWS 1.1 §3, as /tap/async answers)."""
    job = Job.objects.filter(id=job_id).first()
    if job is None:
        return render(request, "portal/404.html", status=404)
    if owned_by_another(request, job.owner):
        return render(request, "portal/refused.html", {
            "message": "This job belongs to another user." if caller_name(request)
            else "This job belongs to a user: log in as that user to see it."}, status=403)
    return job


@require_http_methods(["GET", "HEAD"])
def query_job(request: HttpRequest, job_id: str) -> HttpResponse:
    """One async job: phase (the page reloads itself while the job is active), result, abort."""
    job = _job_or_page(request, job_id)
    if isinstance(job, HttpResponse):
        return job
    return render(request, "portal/query_job.html", _job_view(job))


@require_http_methods(["POST"])
def query_job_run(request: HttpRequest, job_id: str) -> HttpResponse:
    """Run a job left PENDING because its owner had too many in flight (UWS 1.1 §2.2.3.6)."""
    from vo_services.tap import jobs
    from vo_services.tap.admission import too_many_jobs

    job = _job_or_page(request, job_id)
    if isinstance(job, HttpResponse):
        return job
    if job.phase == Phase.PENDING and (refused := too_many_jobs(job.owner, client_address(request))):
        return render(request, "portal/query_job.html", _job_view(job) | {"notice": refused}, status=429)
    try:
        jobs.run(job)
    except jobs.JobStateError as exc:
        return render(request, "portal/refused.html", {"message": str(exc)}, status=409)
    return redirect("query_job", job_id=job.id)


@require_http_methods(["POST"])
def query_job_abort(request: HttpRequest, job_id: str) -> HttpResponse:
    """UWS 1.1 §2.2.3.6: abort, through the job core, a job the caller may use."""
    from vo_services.tap import jobs

    job = _job_or_page(request, job_id)
    if isinstance(job, HttpResponse):
        return job
    try:
        jobs.abort(job)
    except jobs.JobStateError as exc:
        return render(request, "portal/refused.html", {"message": str(exc)}, status=409)
    return redirect("query_job", job_id=job.id)
