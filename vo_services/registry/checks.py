"""The checks a registry's records must pass: the IVOA schemas and the Registry of Registries'
validation rules (IVOA RofR; Registry Interfaces 1.1 §2). ``lick-admin registry`` and the tests
run these same checks, on records as built or as harvested."""
from __future__ import annotations

from datetime import datetime, timezone
from urllib.parse import urlsplit

from lxml import etree

from vo_services.registry.validation import schema_errors

XSI_TYPE = "{http://www.w3.org/2001/XMLSchema-instance}type"
PARAM_HTTP_SERVICES = ("ivo://ivoa.net/std/conesearch", "ivo://ivoa.net/std/sia")


def _when(value: str | None) -> datetime | None:
    try:
        return datetime.strptime(value or "", "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)
    except ValueError:
        return None


def _local(xsi_type: str | None) -> str:
    return (xsi_type or "").split(":")[-1]


def record_problems(resource: etree._Element, public_url: str) -> list[str]:
    """What is wrong with one ri:Resource: schema errors, dates, capabilities, URLs."""
    identifier = resource.findtext("identifier")
    problems = [f"{identifier}: {e}" for e in schema_errors(etree.fromstring(etree.tostring(resource)))]
    now = datetime.now(timezone.utc)
    for name in ("created", "updated"):
        moment = _when(resource.get(name))
        if moment is None or moment > now:  # RofR: present, and not in the future
            problems.append(f"{identifier}: {name}={resource.get(name)!r} is missing, malformed or in the future")
    for capability in resource.findall("capability"):
        standard = (capability.get("standardID") or "").lower()
        interfaces = capability.findall("interface")
        if not interfaces:
            problems.append(f"{identifier}: capability {standard} has no interface")
        if _local(capability.get(XSI_TYPE)) == "Harvest" and not any(
                _local(i.get(XSI_TYPE)) == "OAIHTTP" and i.get("role") == "std" for i in interfaces):
            problems.append(f"{identifier}: the Harvest capability has no vg:OAIHTTP interface with role std")
        if standard.startswith(PARAM_HTTP_SERVICES) and not any(
                _local(i.get(XSI_TYPE)) == "ParamHTTP" and i.get("role") == "std" for i in interfaces):
            problems.append(f"{identifier}: {standard} has no vs:ParamHTTP interface with role std")
    for url in resource.iter("accessURL", "referenceURL"):
        if not (url.text or "").startswith(public_url):  # behind a proxy: the public URL only
            problems.append(f"{identifier}: {url.tag} {url.text} is not under {public_url}")
    return problems


def registry_problems(resources: list[etree._Element], public_url: str) -> list[str]:
    """The RofR's rules over the whole harvest: the Registry record, an Authority record for
    every authority used, nothing under an authority the registry does not manage."""
    problems = [p for r in resources for p in record_problems(r, public_url)]
    by_type: dict[str, list[etree._Element]] = {}
    for resource in resources:
        by_type.setdefault(_local(resource.get(XSI_TYPE)), []).append(resource)
    registries = by_type.get("Registry", [])
    if len(registries) != 1:
        return problems + [f"there must be one vg:Registry record, not {len(registries)}"]
    managed = {m.text for m in registries[0].findall("managedAuthority")}
    authorities = {urlsplit(a.findtext("identifier")).netloc for a in by_type.get("Authority", [])}
    used = {urlsplit(r.findtext("identifier")).netloc for r in resources}
    problems += [f"no vg:Authority record for the authority {a}" for a in sorted(used - authorities)]
    problems += [f"records under {a}, which the registry does not manage" for a in sorted(used - managed)]
    if registries[0].findtext("full") != "false":
        problems.append("a publishing registry is full=false")
    if registries[0].find("capability/maxRecords") is None:
        problems.append("the Harvest capability declares no maxRecords")
    return problems
