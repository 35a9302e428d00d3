"""SODA's VOSI capabilities (SODA 1.0 §2, VOSI 1.1 §2): the sync endpoint, then capabilities and
availability, through the same document builder as the cone search and SIA."""
from __future__ import annotations

from archive.standards import SODA_SYNC
from vo_services.vosi import capabilities_document, capability_element


def _sync(root, base: str) -> None:
    capability_element(root, SODA_SYNC, f"{base}/sync", role="std")


def capabilities_xml(base: str) -> bytes:
    return capabilities_document(base, _sync)
