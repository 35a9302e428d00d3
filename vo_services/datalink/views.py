"""DataLink endpoints: /datalink/links (DataLink 1.1 §2), and the file services it points to."""
from __future__ import annotations

from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.views.decorators.csrf import csrf_exempt

from archive.config import get_settings
from archive.standards import DATALINK_LINKS, DATALINK_MIME
from vo_services.dali import DaliParameterError, DaliParams
from vo_services.datalink.files import exists, locate_one
from vo_services.datalink.links import FIELDS, MAX_IDS, links_for, service_descriptors
from vo_services.datalink.transfer import file_response
from vo_services.errors import allow_methods, error_response, refusal_status
from vo_services.identity import principals_for
from vo_services.encoders import write_votable



@csrf_exempt
@allow_methods("GET", "POST")
def links(request: HttpRequest) -> HttpResponse:
    params = DaliParams.from_request(request)
    try:
        fmt = (params.get("RESPONSEFORMAT") or "").split(";")[0].strip().lower()
    except DaliParameterError as exc:
        return error_response(f"UsageFault: {exc}", 400)
    # DataLink 1.1 §2.1.2: VOTable is the format; MIME parameters do not matter.
    if fmt not in ("", "votable", "application/x-votable+xml", "text/xml"):
        return error_response(f"UsageFault: RESPONSEFORMAT '{fmt}' is not supported; use votable", 400)
    ids = [i.strip() for i in params.getlist("ID") if i.strip()]
    # DataLink 1.1 §2.1.1: a service may cap the IDs it takes; it answers the first ones, whole,
    # and says OVERFLOW (DALI §4.4.1).
    found = links_for(ids[:MAX_IDS], principals_for(request))
    rows = [link.row() for link in found]
    document = write_votable(FIELDS, [rows] if rows else [], serialization="TABLEDATA",
                             infos=[("standardID", DATALINK_LINKS)], truncated=len(ids) > MAX_IDS,
                             extra_resources=service_descriptors(found))
    return StreamingHttpResponse(document, content_type=DATALINK_MIME)


def withheld(request: HttpRequest, obs_id: str) -> tuple[int, str]:
    """(status, reason) for an observation whose file the caller does not get: 404 for what the
    archive does not hold; for a file in its proprietary period 401 (log in) or 403 (logged in,
    no right to it). Every service that serves a file's bytes (downloads, previews, headers,
    SODA cutouts) answers by this rule, each in its own error format."""
    if exists(obs_id):
        return refusal_status(request), f"{obs_id} is proprietary; you may not see it yet"
    return 404, f"no observation {obs_id}"


def _not_found(request: HttpRequest, obs_id: str) -> HttpResponse:
    """The refusal of :func:`withheld` as a DALI error document. No byte of the file or its
    header is sent."""
    status, reason = withheld(request, obs_id)
    return error_response(f"{'NotFoundFault' if status == 404 else 'AuthorizationFault'}: {reason}", status)


@allow_methods("GET")
def download(request: HttpRequest, obs_id: str) -> HttpResponse:
    """One file: ETag, Last-Modified, Content-Disposition and single-range requests (RFC 9110 §14)."""
    found = locate_one(obs_id, principals_for(request))
    if found is None:
        return _not_found(request, obs_id)
    if not found.path.is_file():
        return error_response(f"NotFoundFault: the file of {obs_id} is missing from the archive's disk", 404)
    return file_response(request, found, get_settings().sendfile)


@allow_methods("GET")
def header(request: HttpRequest, obs_id: str) -> HttpResponse:
    """The primary header as text, one card a line (``#detached-header``)."""
    found = locate_one(obs_id, principals_for(request))
    if found is None:
        return _not_found(request, obs_id)
    return HttpResponse(found.header + "\n", content_type="text/plain; charset=utf-8")


@allow_methods("GET")
def preview(request: HttpRequest, obs_id: str) -> HttpResponse:
    """A PNG quick-look (``#preview``): the one made after ingest, or made now if it is missing."""
    from ingest.previews import NoPreview, cached_preview

    found = locate_one(obs_id, principals_for(request))
    if found is None:
        return _not_found(request, obs_id)
    if not found.path.is_file():
        return error_response(f"NotFoundFault: the file of {obs_id} is missing from the archive's disk", 404)
    try:
        data = cached_preview(get_settings().preview_dir, obs_id, found.path, found.dataproduct_type)
    except NoPreview as exc:
        return error_response(f"NotFoundFault: no preview of {obs_id}: {exc}", 404)
    response = HttpResponse(data, content_type="image/png")
    response["Cache-Control"] = "private, max-age=86400"
    return response
