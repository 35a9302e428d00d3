"""The SIA 2.0 endpoints: /sia/query (DALI sync, GET and POST) and /sia/capabilities."""
from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt

from archive.config import get_settings
from vo_services import limits
from vo_services.dali import DaliParameterError, DaliParams
from vo_services.service_descriptors import descriptors_for
from vo_services.errors import allow_methods, error_response
from vo_services.identity import principals_for
from vo_services.results.engine import ResultLimits, run_result
from vo_services.sia.descriptor import self_descriptor
from vo_services.sia.search import FIELDS, SiaSearch

FETCH_ROWS = 10_000


def usage_fault(message: str, status: int = 400) -> HttpResponse:
    """DALI 1.1 §4.4.2: the error VOTable; SIA 2.0 §2.2 names bad parameter values UsageFault."""
    if not message.startswith(("UsageFault", "ServiceUnavailable", "Error")):
        message = f"{'UsageFault' if status < 500 else 'Error'}: {message}"
    return error_response(message, status)


@csrf_exempt
@allow_methods("GET", "POST")
def query(request: HttpRequest) -> HttpResponse:
    """Run the search as the caller, through the one result engine, with the DataLink service
    descriptor of the rows and the search's own (SIA 2.0 §3.1, DataLink 1.1 §4)."""
    try:
        search = SiaSearch.from_params(DaliParams.from_request(request))
    except DaliParameterError as exc:  # SiaUsageError, a value's or a repeated parameter's
        return usage_fault(str(exc))
    # Results that may be read whole (MAXREC up to the default) come in one round trip; larger
    # ones from a server-side cursor, a batch at a time. MAXREC=0 runs no query (DALI §3.4.4).
    whole = search.maxrec <= limits.OUTPUT_ROWS.default
    result = run_result(search.sql(), FIELDS, search.output, principals_for(request),
                        ResultLimits(maxrec=search.maxrec, timeout_s=limits.SYNC_EXECUTION_S.default,
                                     batch=None if whole else FETCH_ROWS),
                        extra_resources=(*descriptors_for(FIELDS), self_descriptor()))
    return result.answer(search.content_type, usage_fault)


@allow_methods("GET")
def capabilities(request: HttpRequest) -> HttpResponse:
    from vo_services.sia.capabilities import capabilities_xml

    return HttpResponse(capabilities_xml(f"{get_settings().public_url}/sia"), content_type="text/xml")
