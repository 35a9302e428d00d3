"""The cone search endpoint, /scs."""
from __future__ import annotations

from functools import partial

from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt

from vo_services import limits
from vo_services.dali import DaliParams
from vo_services.service_descriptors import descriptors_for
from vo_services.encoders import write_votable
from vo_services.encoders.errors import error_document
from vo_services.identity import principals_for
from vo_services.results.engine import ResultLimits, run_result
from vo_services.scs.cone import Cone, ConeError

CONTENT_TYPE = "text/xml;content=x-votable"  # SCS 1.03 §2
FETCH_ROWS = 10_000
TABLEDATA = partial(write_votable, serialization="TABLEDATA")


def scs_error(message: str, status: int = 400) -> HttpResponse:
    """SCS 1.03 §3 (Erratum 1): an INFO named Error under VOTABLE, with DALI's QUERY_STATUS."""
    return HttpResponse(error_document(message, cone_search=True), status=status, content_type=CONTENT_TYPE)


@csrf_exempt
def cone_search(request: HttpRequest) -> HttpResponse:
    try:
        cone = Cone.from_params(DaliParams.from_request(request))
    except ConeError as exc:
        return scs_error(str(exc))
    maxrec = 0 if cone.sr == 0 else cone.maxrec  # SR=0: metadata only
    # Results that may be read whole (MAXREC up to the default) run as a prepared statement;
    # larger ones from a server-side cursor, a batch at a time.
    whole = maxrec <= limits.OUTPUT_ROWS.default
    result = run_result(cone.prepared() if whole else cone.bound_sql(), cone.fields, TABLEDATA,
                        principals_for(request),
                        ResultLimits(maxrec=maxrec, timeout_s=limits.SYNC_EXECUTION_S.default,
                                     batch=None if whole else FETCH_ROWS),
                        extra_resources=descriptors_for(cone.fields))
    return result.answer(CONTENT_TYPE, scs_error)


def capabilities(request: HttpRequest) -> HttpResponse:
    from archive.config import get_settings
    from vo_services.scs.capabilities import capabilities_xml

    return HttpResponse(capabilities_xml(f"{get_settings().public_url}/scs"), content_type="text/xml")

