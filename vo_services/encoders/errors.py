"""The DALI error document: what every VO endpoint answers when a request fails.

DALI 1.1 §4.2 and §4.4.2 (TAP 1.1 §3.3): a VOTable whose ``RESOURCE type="results"`` holds
``INFO name="QUERY_STATUS" value="ERROR"`` with the message as its content, and no TABLE.
"""
from __future__ import annotations

from vo_services.encoders.cells import xml_text

_DOCUMENT = (
    '<?xml version="1.0" encoding="UTF-8"?>\n'
    '<VOTABLE version="1.4" xmlns="http://www.ivoa.net/xml/VOTable/v1.3">\n'
    '<RESOURCE type="results">\n'
    '<INFO name="QUERY_STATUS" value="ERROR">{message}</INFO>\n'
    "</RESOURCE>\n"
    "</VOTABLE>\n"
)


def error_document(message: str) -> bytes:
    """The error document for ``message``; an empty message still gives a non-empty INFO,
    because taplint and pyvo treat an empty error text as a broken service."""
    return _DOCUMENT.format(message=xml_text(message.strip() or "unknown error")).encode("utf-8")
