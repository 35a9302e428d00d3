"""SIA 2.0's VOSI capabilities (SIA 2.0 §2: the {query} resource beside /capabilities).

The capability is a plain ``vr:Capability`` with the ``ivo://ivoa.net/std/SIA#query-2.0``
standardID, as SIA 2.0 services register it (SimpleDALRegExt's ``sia:SimpleImageAccess`` type
describes SIA 1's image service). Its interface declares anonymous use beside the log-ins, as
TAP's does: pyvo's SIA2Service skips an interface whose only security method is BasicAA.
"""
from __future__ import annotations

from archive.standards import SIA_QUERY, VOTABLE_MIME
from vo_services.vosi import capabilities_document, capability_element, sub_element


def _image_access(root, base: str) -> None:
    # No '?' at the end of the accessURL: pyvo appends the parameters itself (pyvo #450, #500).
    capability = capability_element(root, SIA_QUERY, f"{base}/query", role="std", version="2.0")
    # GET and POST both work (DALI 1.1 §2.3), but pyvo's parser takes one queryType only, and
    # warns on two: none is declared.
    sub_element(capability.find("interface"), "resultType", VOTABLE_MIME)


def capabilities_xml(base: str) -> bytes:
    return capabilities_document(base, _image_access)
