"""Error answers of the VO endpoints: a VOTable error document with the right HTTP status.

DALI 1.1 §4.2 and §4.4.2: the document is a VOTable whose RESOURCE type="results" holds an
``INFO name="QUERY_STATUS" value="ERROR"`` with the message; never an HTML page.
"""
from __future__ import annotations

from xml.sax.saxutils import escape

from django.http import HttpResponse

VOTABLE_MIME = "application/x-votable+xml"


def error_document(message: str) -> bytes:
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<VOTABLE version="1.4" xmlns="http://www.ivoa.net/xml/VOTable/v1.3">\n'
        '<RESOURCE type="results">\n'
        f'<INFO name="QUERY_STATUS" value="ERROR">{escape(message)}</INFO>\n'
        "</RESOURCE>\n</VOTABLE>\n"
    ).encode()


def error_response(message: str, status: int = 400, content_type: str = VOTABLE_MIME) -> HttpResponse:
    return HttpResponse(error_document(message), status=status, content_type=content_type)
