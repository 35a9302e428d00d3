"""UWS 1.1 resources of /tap/async: thin views over :mod:`vo_services.tap.jobs`."""
from __future__ import annotations

import time

from django.http import FileResponse, HttpRequest, HttpResponse, HttpResponseRedirect
from django.views.decorators.csrf import csrf_exempt

from vo_services.dali import DaliParameterError, DaliParams
from vo_services.errors import allow_methods, error_response, owned_or_refusal
from vo_services.identity import caller_name
from vo_services.tap import jobs, results, uws
from vo_services.tap.models import ACTIVE_PHASES, Job, Phase
from vo_services.tap.views import tap_base
from vo_services.tap.admission import job_admission
from vo_services.usage_limits import client_address

XML = "text/xml; charset=utf-8"
TEXT = "text/plain; charset=utf-8"
MAX_WAIT_S = 60  # UWS §2.2.1.2: a server may end a blocking WAIT early


def _see_other(url: str) -> HttpResponse:
    return HttpResponseRedirect(url, status=303)


def _job_or_error(request: HttpRequest, job_id: str) -> Job | HttpResponse:
    """The job, or a 404 (unknown) / 401 or 403 (someone else's) error document (UWS §3, DALI §4.2)."""
    return owned_or_refusal(request, Job, job_id, "job")


def _job_url(job: Job) -> str:
    return uws.job_url(tap_base(), job)


def _params(request: HttpRequest) -> DaliParams:
    return DaliParams.from_request(request)


def _run_or_refusal(request: HttpRequest, job: Job) -> HttpResponse | None:
    """Run the job, unless its owner (or anonymous address) has too many jobs in flight: then
    the job stays PENDING, to be run later, and the caller gets a 429 naming the limit. The count
    and the queueing are one step (:func:`~vo_services.tap.admission.job_admission`)."""
    if job.phase != Phase.PENDING:
        jobs.run(job)  # nothing new in flight: running a running job changes nothing
        return None
    with job_admission(job.owner, client_address(request)) as refused:
        if not refused:
            jobs.run(job)
            return None
    response = error_response(f"{refused}; job {job.id} stays PENDING", 429)
    response["Retry-After"] = "10"
    return response


@csrf_exempt
@allow_methods("GET", "HEAD", "POST")
def job_list(request: HttpRequest) -> HttpResponse:
    params = _params(request)
    if request.method == "POST":
        try:
            job = jobs.create(caller_name(request), [(k, v) for k, v in params.items()], client_address(request))
        except ValueError as exc:  # EXECUTIONDURATION or DESTRUCTION unreadable (UWS §2.2.3.1)
            return error_response(str(exc), 400)
        results.store_uploads(job, request.FILES)
        if (params.get("PHASE") or "").upper() == "RUN":  # UWS §2.2.3.1: run at creation
            if refused := _run_or_refusal(request, job):
                return refused
        return _see_other(_job_url(job))
    mine = Job.objects.filter(owner=caller_name(request)) if caller_name(request) else Job.objects.none()
    try:
        listed = uws.filter_jobs(mine, params.getlist("PHASE"), params.get("AFTER"), params.get("LAST"))
    except (ValueError, DaliParameterError) as exc:
        return error_response(str(exc), 400)
    return HttpResponse(uws.job_list_document(listed, tap_base()), content_type=XML)


def _wait(job: Job, params: DaliParams) -> Job:
    """UWS §2.2.1.2: block while the job is active and its phase unchanged, up to WAIT seconds."""
    try:
        wait = float(params.get("WAIT", "0") or 0)
    except (ValueError, DaliParameterError):
        return job
    expected = params.get("PHASE")
    if wait == 0 or job.phase not in (Phase.PENDING, *ACTIVE_PHASES) or (expected and expected != job.phase):
        return job
    deadline = time.monotonic() + (MAX_WAIT_S if wait < 0 else min(wait, MAX_WAIT_S))
    delay = 0.05
    start_phase = job.phase
    while time.monotonic() < deadline:
        time.sleep(delay)
        delay = min(delay * 1.5, 1.0)
        job.refresh_from_db()
        if job.phase != start_phase:
            break
    return job


@csrf_exempt
@allow_methods("GET", "HEAD", "POST", "DELETE")
def job_detail(request: HttpRequest, job_id: str) -> HttpResponse:
    job = _job_or_error(request, job_id)
    if isinstance(job, HttpResponse):
        return job
    if request.method == "DELETE":
        jobs.delete(job)
        return _see_other(f"{tap_base()}/async")
    params = _params(request)
    if request.method == "POST":
        if (params.get("ACTION") or "").upper() == "DELETE":
            jobs.delete(job)
            return _see_other(f"{tap_base()}/async")
        # DALI §2.1: parameters are not posted to the job itself.
        return error_response("POST ACTION=DELETE here; parameters go to .../parameters, "
                              "phase changes to .../phase", 400)
    return HttpResponse(uws.job_document(_wait(job, params), tap_base()), content_type=XML)


@csrf_exempt
@allow_methods("GET", "HEAD", "POST")
def phase(request: HttpRequest, job_id: str) -> HttpResponse:
    job = _job_or_error(request, job_id)
    if isinstance(job, HttpResponse):
        return job
    if request.method == "GET" or request.method == "HEAD":
        return HttpResponse(job.phase, content_type=TEXT)
    action = (_params(request).get("PHASE") or "").upper()
    try:
        if action == "RUN":
            if refused := _run_or_refusal(request, job):
                return refused
        elif action == "ABORT":
            jobs.abort(job)
        else:
            return error_response("PHASE must be RUN or ABORT", 400)
    except jobs.JobStateError as exc:
        return error_response(str(exc), 403)
    return _see_other(_job_url(job))


def _simple_value(request: HttpRequest, job_id: str, name: str, getter, setter=None) -> HttpResponse:
    job = _job_or_error(request, job_id)
    if isinstance(job, HttpResponse):
        return job
    if request.method == "POST":
        if setter is None:
            return error_response(f"{name} cannot be changed", 403)
        value = _params(request).get(name.upper())
        if value is None:
            return error_response(f"POST {name.upper()}=<value>", 400)
        try:
            setter(job, value)
        except jobs.JobStateError as exc:
            return error_response(str(exc), 403)
        except (ValueError, DaliParameterError) as exc:
            return error_response(str(exc), 400)
        return _see_other(_job_url(job))
    return HttpResponse(getter(job), content_type=TEXT)


def _timestamp(value) -> str:
    """UWS §2.2.1: ISO 8601 in UTC ending in Z; empty when unset."""
    return value.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z" if value else ""


@csrf_exempt
@allow_methods("GET", "HEAD", "POST")
def execution_duration(request: HttpRequest, job_id: str) -> HttpResponse:
    return _simple_value(request, job_id, "executionduration", lambda j: str(j.execution_duration),
                         jobs.set_execution_duration)


@csrf_exempt
@allow_methods("GET", "HEAD", "POST")
def destruction(request: HttpRequest, job_id: str) -> HttpResponse:
    return _simple_value(request, job_id, "destruction", lambda j: _timestamp(j.destruction),
                         jobs.set_destruction)


@allow_methods("GET", "HEAD")
def quote(request: HttpRequest, job_id: str) -> HttpResponse:
    return _simple_value(request, job_id, "quote", lambda j: _timestamp(j.quote))


@allow_methods("GET", "HEAD")
def owner(request: HttpRequest, job_id: str) -> HttpResponse:
    return _simple_value(request, job_id, "owner", lambda j: j.owner or "")


@csrf_exempt
@allow_methods("GET", "HEAD", "POST")
def parameters(request: HttpRequest, job_id: str) -> HttpResponse:
    job = _job_or_error(request, job_id)
    if isinstance(job, HttpResponse):
        return job
    if request.method == "POST":
        try:
            jobs.add_parameters(job, [(k, v) for k, v in _params(request).items()])
        except jobs.JobStateError as exc:
            return error_response(str(exc), 403)
        except ValueError as exc:
            return error_response(str(exc), 400)
        return _see_other(_job_url(job))
    return HttpResponse(uws.parameters_document(job, tap_base()), content_type=XML)


@allow_methods("GET", "HEAD")
def error(request: HttpRequest, job_id: str) -> HttpResponse:
    """DALI §4.2: the error document of a failed job, with status 200; 404 for any other job."""
    job = _job_or_error(request, job_id)
    if isinstance(job, HttpResponse):
        return job
    if job.phase != Phase.ERROR:
        return error_response(f"job {job_id} is {job.phase}, not ERROR: it has no error", 404)
    return error_response(job.error_summary or "the job failed", 200)


@allow_methods("GET", "HEAD")
def result_list(request: HttpRequest, job_id: str) -> HttpResponse:
    job = _job_or_error(request, job_id)
    if isinstance(job, HttpResponse):
        return job
    return HttpResponse(uws.results_document(job, tap_base()), content_type=XML)


@allow_methods("GET", "HEAD")
def result(request: HttpRequest, job_id: str, result_id: str) -> HttpResponse:
    job = _job_or_error(request, job_id)
    if isinstance(job, HttpResponse):
        return job
    path = results.result_path(job) if job.phase == Phase.COMPLETED and result_id == "result" else None
    if path is None or not path.exists():
        return error_response(f"job {job_id} has no result '{result_id}'", 404)
    return FileResponse(path.open("rb"), content_type=job.result_mime)
