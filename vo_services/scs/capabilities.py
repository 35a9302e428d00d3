"""The cone search's VOSI capabilities: ``cs:ConeSearch`` (SimpleDALRegExt 1.1 §2.1, SCS 1.03 §3)."""
from __future__ import annotations

import xml.etree.ElementTree as ET

from archive.standards import VOSI_AVAILABILITY, VOSI_CAPABILITIES
from vo_services.accounts.challenges import INTERFACE_SECURITY_METHODS
from vo_services.scs.cone import MAX_SR_DEG
from vo_services import limits

NS = {
    "vosi": "http://www.ivoa.net/xml/VOSICapabilities/v1.0",
    "vr": "http://www.ivoa.net/xml/VOResource/v1.0",
    "vs": "http://www.ivoa.net/xml/VODataService/v1.1",
    "cs": "http://www.ivoa.net/xml/ConeSearch/v1.0",
    "xsi": "http://www.w3.org/2001/XMLSchema-instance",
}
XSI_TYPE = f"{{{NS['xsi']}}}type"
TEST_POSITION = (150.0, 20.0, 0.1)


def _sub(parent: ET.Element, tag: str, text: str | None = None, **attrs) -> ET.Element:
    element = ET.SubElement(parent, tag, {k.replace("_", ":"): v for k, v in attrs.items()})
    if text is not None:
        element.text = text
    return element


def _capability(root: ET.Element, standard_id: str, url: str, xsi_type: str | None = None,
                role: str | None = None) -> ET.Element:
    capability = _sub(root, "capability", standardID=standard_id)
    if xsi_type:
        capability.set(XSI_TYPE, xsi_type)
    interface = _sub(capability, "interface")
    interface.set(XSI_TYPE, "vs:ParamHTTP")
    if role:
        interface.set("role", role)
    _sub(interface, "accessURL", url, use="base" if role else "full")
    if role == "std":  # the search itself may be used logged in; VOSI resources are anonymous
        for method in INTERFACE_SECURITY_METHODS:
            _sub(interface, "securityMethod", **({"standardID": method} if method else {}))
    return capability


def capabilities_xml(base: str) -> bytes:
    for prefix, uri in NS.items():
        ET.register_namespace(prefix, uri)
    root = ET.Element(f"{{{NS['vosi']}}}capabilities")
    # Prefixes used only inside xsi:type values must still be declared.
    for prefix in ("vr", "vs", "cs"):
        root.set(f"xmlns:{prefix}", NS[prefix])
    cone = _capability(root, "ivo://ivoa.net/std/ConeSearch", f"{base}?", "cs:ConeSearch", role="std")
    _sub(cone, "maxSR", str(MAX_SR_DEG))
    _sub(cone, "maxRecords", str(limits.OUTPUT_ROWS.hard))
    _sub(cone, "verbosity", "true")
    test = _sub(cone, "testQuery")
    for name, value in zip(("ra", "dec", "sr"), TEST_POSITION):
        _sub(test, name, str(value))
    _capability(root, VOSI_CAPABILITIES, f"{base}/capabilities")
    _capability(root, VOSI_AVAILABILITY, f"{base}/availability")
    return ET.tostring(root, encoding="UTF-8", xml_declaration=True)
