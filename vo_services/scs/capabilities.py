"""The cone search's VOSI capabilities: ``cs:ConeSearch`` (SimpleDALRegExt 1.1 §2.1, SCS 1.03 §3)."""
from __future__ import annotations

from vo_services import limits
from vo_services.scs.cone import MAX_SR_DEG
from vo_services.vosi import capabilities_document, capability_element, sub_element

TEST_POSITION = (150.0, 20.0, 0.1)


def _cone_search(root, base: str) -> None:
    cone = capability_element(root, "ivo://ivoa.net/std/ConeSearch", f"{base}?", "cs:ConeSearch",
                              role="std")
    sub_element(cone, "maxSR", str(MAX_SR_DEG))
    sub_element(cone, "maxRecords", str(limits.OUTPUT_ROWS.hard))
    sub_element(cone, "verbosity", "true")
    test = sub_element(cone, "testQuery")
    for name, value in zip(("ra", "dec", "sr"), TEST_POSITION):
        sub_element(test, name, str(value))


def capabilities_xml(base: str) -> bytes:
    return capabilities_document(base, _cone_search, prefixes=("vr", "vs", "cs"))
