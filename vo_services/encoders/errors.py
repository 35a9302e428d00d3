"""The DALI error document: what every VO endpoint answers when a request fails.

DALI 1.1 §4.2 and §4.4.2 (TAP 1.1 §3.3): a VOTable whose ``RESOURCE type="results"`` holds
``INFO name="QUERY_STATUS" value="ERROR"`` with the message as its content, and no TABLE.
Simple Cone Search 1.03 §3 (Erratum 1) wants the message also in an ``INFO name="Error"`` right
under VOTABLE: ``error_document(message, cone_search=True)`` holds both.
"""
from __future__ import annotations

from vo_services.encoders.cells import xml_attribute, xml_text

_DOCUMENT = (
    '<?xml version="1.0" encoding="UTF-8"?>\n'
    '<VOTABLE version="1.4" xmlns="http://www.ivoa.net/xml/VOTable/v1.3">\n'
    "{scs_error}"
    '<RESOURCE type="results">\n'
    '<INFO name="QUERY_STATUS" value="ERROR">{message}</INFO>\n'
    "</RESOURCE>\n"
    "</VOTABLE>\n"
)


def error_document(message: str, *, cone_search: bool = False) -> bytes:
    """The error document for ``message``; an empty message still gives a non-empty INFO,
    because taplint and pyvo treat an empty error text as a broken service."""
    text = message.strip() or "unknown error"
    scs_error = f'<INFO name="Error" value="{xml_attribute(text)}"/>\n' if cone_search else ""
    return _DOCUMENT.format(message=xml_text(text), scs_error=scs_error).encode("utf-8")
