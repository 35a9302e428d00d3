"""OAI-PMH 2.0 at /oai, on the real server and the demo data: every verb, every error, validated
against OAI-PMH.xsd and the IVOA schemas offline (OAI-PMH 2.0 §3-4, Registry Interfaces 1.1 §2)."""
from __future__ import annotations

import pytest
import requests
from lxml import etree

from vo_services.registry.validation import schema_errors

OAI = "{http://www.openarchives.org/OAI/2.0/}"
RI = "{http://www.ivoa.net/xml/RegistryInterface/v1.0}"
XSI_TYPE = "{http://www.w3.org/2001/XMLSchema-instance}type"


def oai(base: str, method: str = "GET", **params) -> etree._Element:
    """One OAI-PMH request; the answer must be HTTP 200 and valid (records included)."""
    url = f"{base}/oai"
    response = (requests.post(url, data=params, timeout=60) if method == "POST"
                else requests.get(url, params=params, timeout=60))
    assert response.status_code == 200, response.text[:500]
    assert response.headers["Content-Type"].startswith("text/xml")
    errors = schema_errors(response.content)
    assert not errors, errors[:5]
    return etree.fromstring(response.content)


def error_code(root: etree._Element) -> str | None:
    error = root.find(f"{OAI}error")
    return None if error is None else error.get("code")


def test_identify(live_archive):
    root = oai(live_archive, verb="Identify")
    identify = root.find(f"{OAI}Identify")
    print(etree.tostring(root, pretty_print=True).decode())
    assert identify.findtext(f"{OAI}baseURL") == f"{live_archive}/oai"
