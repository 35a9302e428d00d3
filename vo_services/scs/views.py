"""The cone search endpoint, /scs."""
from __future__ import annotations

import itertools

import psycopg2

from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.views.decorators.csrf import csrf_exempt

from vo_services.dali import DaliParams
from vo_services.datalink.descriptor import descriptors_for
from vo_services.identity import principals_for
from vo_services.query import query_session
from vo_services.scs.cone import Cone, ConeError
from vo_services.tap import limits
from vo_services.votable import write_votable
from vo_services.votable.cells import xml_attribute, xml_text

CONTENT_TYPE = "text/xml;content=x-votable"  # SCS 1.03 §2


def scs_error(message: str) -> HttpResponse:
    """SCS 1.03 §3 (Erratum 1): one INFO named Error under VOTABLE; plus DALI's QUERY_STATUS."""
    body = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<VOTABLE version="1.4" xmlns="http://www.ivoa.net/xml/VOTable/v1.3">\n'
        f'<INFO name="Error" value="{xml_attribute(message)}"/>\n'
        '<RESOURCE type="results">\n'
        f'<INFO name="QUERY_STATUS" value="ERROR">{xml_text(message)}</INFO>\n'
        "</RESOURCE>\n</VOTABLE>\n"
    )
    return HttpResponse(body.encode(), status=400, content_type=CONTENT_TYPE)


@csrf_exempt
def cone_search(request: HttpRequest) -> HttpResponse:
    try:
        cone = Cone.from_params(DaliParams.from_request(request))
    except ConeError as exc:
        return scs_error(str(exc))
    maxrec = 0 if cone.sr == 0 else cone.maxrec  # SR=0: metadata only
    sql, params = cone.sql()

    def chunks():
        with query_session(principals_for(request), limits.SYNC_EXECUTION_S.default) as conn:
            cursor = conn.cursor(name="cone")
            first = []
            if maxrec:
                cursor.execute(sql, params)
                first = cursor.fetchmany(10_000)
            yield b""  # the query ran: from here on, errors end the document (DALI §4.4.2)
            batches = itertools.chain([first], iter(lambda: cursor.fetchmany(10_000), [])) if first else iter(())
            yield from write_votable(cone.fields, batches, serialization="TABLEDATA", maxrec=maxrec,
                                     extra_resources=descriptors_for(cone.fields))

    stream = chunks()
    try:
        next(stream)
    except psycopg2.Error as exc:
        return scs_error(f"the search failed: {str(exc).strip().splitlines()[0]}")
    return StreamingHttpResponse(stream, content_type=CONTENT_TYPE)


def capabilities(request: HttpRequest) -> HttpResponse:
    from archive.config import get_settings
    from vo_services.scs.capabilities import capabilities_xml

    return HttpResponse(capabilities_xml(f"{get_settings().public_url}/scs"), content_type="text/xml")


def availability(request: HttpRequest) -> HttpResponse:
    from vo_services.vosi import availability_xml

    return HttpResponse(availability_xml(), content_type="text/xml")
