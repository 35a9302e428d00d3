"""Download bundles over HTTP: POST /datalink/bundles, its status, and its result file.

Thin views over :mod:`vo_services.datalink.bundle_jobs`. Errors are DALI error documents
(DALI 1.1 §4.2) whose messages start with a DataLink 1.1 §3.4 fault code.
"""
from __future__ import annotations

import xml.etree.ElementTree as ET

from django.http import FileResponse, HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.utils import timezone as djtz
from django.views.decorators.csrf import csrf_exempt

from archive.config import get_settings
from vo_services.dali import DaliParameterError, DaliParams
from vo_services.datalink import bundle_jobs
from vo_services.datalink.bundles import BundleError, bundle_format, format_named
from vo_services.datalink.models import Bundle, Phase
from vo_services.errors import allow_methods, error_response, owned_or_refusal
from vo_services.identity import caller_name, principals_for


def _bundle_or_error(request: HttpRequest, bundle_id: str) -> Bundle | HttpResponse:
    """A bundle with no owner is readable by whoever has its unguessable URL."""
    return owned_or_refusal(request, Bundle, bundle_id, "bundle")


@csrf_exempt
@allow_methods("POST")
def bundles(request: HttpRequest) -> HttpResponse:
    """POST ID (repeated) and/or JOB (a TAP async job), FORMAT or RESPONSEFORMAT (zip, tar.gz):
    303 See Other to the new bundle's status, as a UWS job creation answers (UWS 1.1 §2.2.3.1)."""
    params = DaliParams.from_request(request)
    try:
        fmt = bundle_format(params.get("RESPONSEFORMAT") or params.get("FORMAT"))
        identifiers = params.getlist("ID")
        for job in params.getlist("JOB"):
            identifiers += bundle_jobs.ids_from_tap_job(job, caller_name(request))
        bundle = bundle_jobs.submit(caller_name(request), principals_for(request), identifiers, fmt)
    except DaliParameterError as exc:
        return error_response(f"UsageFault: {exc}", 400)
    except BundleError as exc:
        return error_response(str(exc), exc.status)
    return HttpResponseRedirect(_bundle_url(bundle), status=303)


def _bundle_url(bundle: Bundle) -> str:
    return f"{get_settings().public_url}/datalink/bundles/{bundle.id}"


def _timestamp(value) -> str | None:
    """DALI 1.1 §3.3.3: ISO 8601 in UTC."""
    return value.strftime("%Y-%m-%dT%H:%M:%SZ") if value else None


def _expired(bundle: Bundle) -> bool:
    return bundle.phase == Phase.ARCHIVED or (
        bundle.phase == Phase.COMPLETED and bundle.expires is not None and bundle.expires <= djtz.now())


def _status(bundle: Bundle) -> dict:
    fmt = format_named(bundle.format)
    ready = bundle.phase == Phase.COMPLETED and not _expired(bundle)
    return {
        "id": bundle.id,
        "phase": Phase.ARCHIVED.value if _expired(bundle) else bundle.phase,
        "owner": bundle.owner,
        "format": fmt.name,
        "files": {"done": bundle.files_done, "total": bundle.files_total},
        "bytes": {"done": bundle.bytes_done, "total": bundle.bytes_total},
        "refused": list(bundle.refused),
        "error": bundle.error_summary,
        "creation_time": _timestamp(bundle.creation_time),
        "start_time": _timestamp(bundle.start_time),
        "end_time": _timestamp(bundle.end_time),
        "expires": _timestamp(bundle.expires),
        "result": {"url": f"{_bundle_url(bundle)}/result", "size": bundle.result_size,
                   "content_type": fmt.mime} if ready else None,
    }


def _xml(name: str, value) -> "ET.Element":
    """The status as XML: a dict is an element with children, a list repeats <id>."""
    element = ET.Element(name)
    if isinstance(value, dict):
        element.extend(_xml(key, item) for key, item in value.items())
    elif isinstance(value, list):
        element.extend(_xml("id", item) for item in value)
    elif value is not None:
        element.text = str(value)
    return element


@allow_methods("GET")
def bundle_status(request: HttpRequest, bundle_id: str) -> HttpResponse:
    """Phase, files and bytes done of total, refused IDs, error and result URL: JSON, or XML
    when RESPONSEFORMAT=xml or the Accept header prefers XML."""
    bundle = _bundle_or_error(request, bundle_id)
    if isinstance(bundle, HttpResponse):
        return bundle
    try:
        wanted = (DaliParams.from_request(request).get("RESPONSEFORMAT") or "").strip().lower()
    except DaliParameterError as exc:
        return error_response(f"UsageFault: {exc}", 400)
    if wanted not in ("", "json", "xml", "application/json", "application/xml", "text/xml"):
        return error_response(f"UsageFault: RESPONSEFORMAT '{wanted}' is not supported; use json or xml", 400)
    if not wanted:
        wanted = request.get_preferred_type(["application/json", "application/xml", "text/xml"]) or "json"
    if "xml" in wanted:
        document = ET.tostring(_xml("bundle", _status(bundle)), encoding="utf-8", xml_declaration=True)
        return HttpResponse(document, content_type="application/xml; charset=utf-8")
    return JsonResponse(_status(bundle))


@allow_methods("GET")
def bundle_result(request: HttpRequest, bundle_id: str) -> HttpResponse:
    """The archive file: 404 until it is COMPLETED (or when it failed), 410 once it expired."""
    bundle = _bundle_or_error(request, bundle_id)
    if isinstance(bundle, HttpResponse):
        return bundle
    if _expired(bundle):
        return error_response(f"NotFoundFault: bundle {bundle_id} expired at {_timestamp(bundle.expires)}; "
                              "ask for a new one", 410)
    if bundle.phase != Phase.COMPLETED:
        reason = bundle.error_summary if bundle.phase == Phase.ERROR else "not finished yet"
        return error_response(f"NotFoundFault: bundle {bundle_id} is {bundle.phase}: {reason}", 404)
    path = bundle_jobs.result_path(bundle)
    try:
        source = path.open("rb")
    except FileNotFoundError:
        return error_response(f"NotFoundFault: bundle {bundle_id} has no file any more", 410)
    return FileResponse(source, as_attachment=True, filename=path.name,
                        content_type=format_named(bundle.format).mime)
