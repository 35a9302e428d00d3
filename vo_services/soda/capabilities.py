"""SODA's VOSI capabilities (SODA 1.0 §2, VOSI 1.1 §2): the sync endpoint, capabilities and
availability, written as the cone search writes its own."""
from __future__ import annotations

import xml.etree.ElementTree as ET

from archive.standards import SODA_SYNC, VOSI_AVAILABILITY, VOSI_CAPABILITIES
from vo_services.scs.capabilities import NS, _capability


def capabilities_xml(base: str) -> bytes:
    for prefix, uri in NS.items():
        ET.register_namespace(prefix, uri)
    root = ET.Element(f"{{{NS['vosi']}}}capabilities")
    for prefix in ("vr", "vs"):  # used only inside xsi:type values, still declared
        root.set(f"xmlns:{prefix}", NS[prefix])
    _capability(root, SODA_SYNC, f"{base}/sync", role="std")
    _capability(root, VOSI_CAPABILITIES, f"{base}/capabilities")
    _capability(root, VOSI_AVAILABILITY, f"{base}/availability")
    return ET.tostring(root, encoding="UTF-8", xml_declaration=True)
