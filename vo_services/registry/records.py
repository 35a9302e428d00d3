"""The VOResource records of the publishing registry, built from what the archive serves.

One source of truth: capabilities are the very elements the services' ``/capabilities`` serve
(parsed from the same functions' output), tablesets the very schemas ``/tap/tables`` serves, and
data collections come from the public rows of ``ivoa.obscore`` (read through the published view,
as an anonymous caller, so a proprietary pointing never shapes a coverage). Records here carry no
dates: :mod:`vo_services.registry.state` stamps ``created``/``updated`` from the content digest.
"""
from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from urllib.parse import quote, urlsplit

from lxml import etree

from archive.config import Settings
from archive.standards import DATALINK_LINKS, SIA_QUERY, SODA_SYNC

RI = "http://www.ivoa.net/xml/RegistryInterface/v1.0"
NS = {
    "ri": RI,
    "xsi": "http://www.w3.org/2001/XMLSchema-instance",
    "vr": "http://www.ivoa.net/xml/VOResource/v1.0",
    "vs": "http://www.ivoa.net/xml/VODataService/v1.1",
    "vg": "http://www.ivoa.net/xml/VORegistry/v1.0",
    "tr": "http://www.ivoa.net/xml/TAPRegExt/v1.0",
    "cs": "http://www.ivoa.net/xml/ConeSearch/v1.0",
}
XSI_TYPE = f"{{{NS['xsi']}}}type"
SCHEMA_LOCATIONS = " ".join([
    RI, "http://www.ivoa.net/xml/RegistryInterface/v1.0",
    NS["vr"], "http://www.ivoa.net/xml/VOResource/v1.0",
    NS["vs"], "http://www.ivoa.net/xml/VODataService/v1.1",
    NS["vg"], "http://www.ivoa.net/xml/VORegistry/v1.0",
    NS["tr"], "http://www.ivoa.net/xml/TAPRegExt/v1.0",
    NS["cs"], "http://www.ivoa.net/xml/ConeSearch/v1.0",
])
#: MOC order of the collections' spatial coverage (VODataService 1.2 §3.5.1 asks for >= 6).
MOC_ORDER = 6
#: Planck constant times the speed of light, J m: VODataService 1.2 §3.5.3 gives spectral
#: coverage as photon energies in Joules.
HC = 6.62607015e-34 * 299_792_458.0
MOC_STANDARD = "ivo://ivoa.net/std/moc"  # VODataService 1.2 §3.5.1, footprint
TAP_AUX = "ivo://ivoa.net/std/TAP#aux"  # Discovering Data Collections (IVOA Note 2019) §3


@dataclass(frozen=True)
class Record:
    """One resource as the registry describes it, without its dates."""

    identifier: str
    resource_type: str  # the xsi:type, e.g. vs:CatalogService
    title: str
    element: etree._Element  # ri:Resource, without created/updated

    @property
    def digest(self) -> str:
        """What the record says, canonicalised: a change of any of it moves ``updated``."""
        return hashlib.sha256(etree.tostring(self.element, method="c14n")).hexdigest()

    def stamped(self, created: str, updated: str) -> etree._Element:
        element = etree.fromstring(etree.tostring(self.element))
        element.set("created", created)
        element.set("updated", updated)
        # VOResource 1.1 §3.1: the attribute order is irrelevant; status stays last for readers.
        status = element.attrib.pop("status")
        element.set("status", status)
        return element


@dataclass(frozen=True)
class Collection:
    """One instrument collection of ObsCore, summarised over its public rows."""

    name: str  # obs_collection
    instrument: str
    moc: str  # MOC 2.0 ASCII
    t_min: float | None
    t_max: float | None
    em_min: float | None
    em_max: float | None


def _sub(parent: etree._Element, tag: str, text: str | None = None, **attrs: str) -> etree._Element:
    element = etree.SubElement(parent, tag, {k.replace("_", "-"): v for k, v in attrs.items() if v is not None})
    if text is not None:
        element.text = text
    return element


class Identifiers:
    """The IVOA identifiers of the records (IVOA Identifiers 2.0 §2)."""

    def __init__(self, settings: Settings):
        configured = settings.ivoa_authority.rstrip("/")
        self.authority_id = urlsplit(configured).netloc  # vg:managedAuthority takes it bare
        self.authority = f"ivo://{self.authority_id}"
        self.organisation = f"{self.authority}/org"
        self.registry = f"{self.authority}/registry"
        # The ObsCore publisher DIDs are <LICK_IVOA_AUTHORITY>?<obs_id>: that resource is the TAP
        # service that serves them.
        self.tap = configured if configured != self.authority else f"{self.authority}/tap"

    def collection(self, name: str) -> str:
        return f"{self.tap}/collection/{re.sub(r'[^a-z0-9]+', '-', name.lower()).strip('-')}"


def _resource(ids: Identifiers, settings: Settings, resource_type: str, identifier: str, title: str,
              short_name: str | None, description: str, content_type: str | None = None,
              relations: tuple[tuple[str, str, str], ...] = ()) -> etree._Element:
    """The vr:Resource part every record shares: title, identifier, curation, content."""
    curation = settings.registry
    root = etree.Element(f"{{{RI}}}Resource", nsmap=NS)
    root.set(f"{{{NS['xsi']}}}schemaLocation", SCHEMA_LOCATIONS)
    root.set(XSI_TYPE, resource_type)
    root.set("status", "active")
    _sub(root, "title", title)
    if short_name:
        _sub(root, "shortName", short_name)
    _sub(root, "identifier", identifier)
    cur = _sub(root, "curation")
    _sub(cur, "publisher", curation.publisher, ivo_id=ids.organisation)
    contact = _sub(cur, "contact")
    _sub(contact, "name", curation.contact_name)
    _sub(contact, "email", curation.contact_email)
    content = _sub(root, "content")
    for subject in curation.subjects:
        _sub(content, "subject", subject)
    _sub(content, "description", description)
    _sub(content, "referenceURL", curation.reference_url or f"{settings.public_url}/")
    if content_type:
        _sub(content, "type", content_type)
    for level in curation.content_level:
        _sub(content, "contentLevel", level)
    for kind, related_id, name in relations:
        relationship = _sub(content, "relationship")
        _sub(relationship, "relationshipType", kind)
        _sub(relationship, "relatedResource", name, ivo_id=related_id)
    return root


def _capabilities_of(document: bytes, *standard_ids: str) -> list[etree._Element]:
    """The capability elements of a served VOSI capabilities document (all, or those named)."""
    root = etree.fromstring(document)
    return [c for c in root.findall("capability") if not standard_ids or c.get("standardID") in standard_ids]


def _param_http(parent: etree._Element, url: str, use: str = "base", role: str | None = "std") -> None:
    interface = _sub(parent, "interface", role=role)
    interface.set(XSI_TYPE, "vs:ParamHTTP")
    _sub(interface, "accessURL", url, use=use)


def authority(ids: Identifiers, settings: Settings) -> Record:
    """vg:Authority (VORegistry 1.0 §3.2): who may mint identifiers under our authority."""
    root = _resource(ids, settings, "vg:Authority", ids.authority, f"The {ids.authority_id} naming authority",
                     None, f"The IVOA naming authority of the Lick Observatory archive: every resource "
                     f"whose identifier starts with {ids.authority} is registered here.")
    _sub(root, "managingOrg", settings.registry.publisher, ivo_id=ids.organisation)
    return Record(ids.authority, "vg:Authority", root.findtext("title"), root)


def organisation(ids: Identifiers, settings: Settings) -> Record:
    root = _resource(ids, settings, "vr:Organisation", ids.organisation, settings.registry.publisher, None,
                     f"{settings.registry.publisher}, which runs the Lick Observatory archive and manages "
                     f"the {ids.authority_id} naming authority.", content_type="Organisation")
    _sub(root, "facility", "Lick Observatory")
    return Record(ids.organisation, "vr:Organisation", root.findtext("title"), root)


def registry(ids: Identifiers, settings: Settings) -> Record:
    """vg:Registry (VORegistry 1.0 §3.1): a publishing registry, full=false, with its Harvest
    capability on an OAI-PMH interface (role std, RofR rules)."""
    root = _resource(ids, settings, "vg:Registry", ids.registry, "Lick Observatory archive publishing registry",
                     "Lick registry", "The OAI-PMH publishing registry of the Lick Observatory archive: the "
                     "VOResource records of its services and data collections.", content_type="Archive")
    capability = _sub(root, "capability", standardID="ivo://ivoa.net/std/Registry")
    capability.set(XSI_TYPE, "vg:Harvest")
    interface = _sub(capability, "interface", role="std", version="1.0")
    interface.set(XSI_TYPE, "vg:OAIHTTP")
    _sub(interface, "accessURL", f"{settings.public_url}/oai", use="base")
    _sub(capability, "maxRecords", str(settings.registry.max_records))
    _sub(root, "full", "false")
    _sub(root, "managedAuthority", ids.authority_id)
    return Record(ids.registry, "vg:Registry", root.findtext("title"), root)


def _tableset(parent: etree._Element, schema_names: tuple[str, ...] | None = None,
              tables: tuple[str, ...] | None = None) -> None:
    """The tableset /tap/tables serves (VOSI §3.3), as a record's vs:TableSet (VODataService §3.4)."""
    from vo_services.vosi import tableset_xml

    tableset = _sub(parent, "tableset")
    for schema in etree.fromstring(tableset_xml()).findall("schema"):
        if schema_names and schema.findtext("name") not in schema_names:
            continue
        for table in schema.findall("table"):
            if tables and table.findtext("name") not in tables:
                schema.remove(table)
        tableset.append(schema)


def tap_service(ids: Identifiers, settings: Settings) -> Record:
    """The TAP service with its tableset, and the cone search, SIA, SODA and DataLink it offers
    with it."""
    from vo_services.scs.capabilities import capabilities_xml as scs_capabilities
    from vo_services.sia.capabilities import capabilities_xml as sia_capabilities
    from vo_services.soda.capabilities import capabilities_xml as soda_capabilities
    from vo_services.tap.capabilities import capabilities_xml as tap_capabilities

    base = settings.public_url
    root = _resource(ids, settings, "vs:CatalogService", ids.tap, "Lick Observatory archive", "Lick archive",
                     "Every observation taken at Lick Observatory that the archive holds, as ObsCore 1.1 "
                     "and with the instruments' own metadata, queryable with ADQL; with a cone search and an "
                     "SIA 2.0 image search over the observations, DataLink access to the files and SODA "
                     "cutouts of the images.",
                     content_type=settings.registry.content_type)
    _sub(root, "rights", settings.registry.rights)
    for capability in _capabilities_of(tap_capabilities(f"{base}/tap")):
        root.append(capability)
    for capability in _capabilities_of(scs_capabilities(f"{base}/scs"), "ivo://ivoa.net/std/ConeSearch"):
        root.append(capability)
    for capability in _capabilities_of(sia_capabilities(f"{base}/sia"), SIA_QUERY):
        root.append(capability)
    for capability in _capabilities_of(soda_capabilities(f"{base}/soda"), SODA_SYNC):
        root.append(capability)
    # DataLink 1.1 §2.1: the {links} endpoint, whose ID is an ObsCore obs_publisher_did.
    _param_http(_sub(root, "capability", standardID=DATALINK_LINKS), f"{base}/datalink/links")
    _sub(root, "facility", "Lick Observatory")
    _tableset(root)
    return Record(ids.tap, "vs:CatalogService", root.findtext("title"), root)


def collection(ids: Identifiers, settings: Settings, found: Collection) -> Record:
    """A data collection (Discovering Data Collections, IVOA Note §2): a vs:CatalogResource with the
    coverage of its public rows, served by the TAP service through ivoa.obscore."""
    identifier = ids.collection(found.name)
    root = _resource(
        ids, settings, "vs:CatalogResource", identifier, f"Lick Observatory {found.instrument} observations",
        None, f"The observations taken with {found.instrument} at Lick Observatory, as the rows of "
        f"ivoa.obscore with obs_collection = '{found.name}'.", content_type="Archive",
        relations=(("IsServedBy", ids.tap, "Lick Observatory archive"),))
    _sub(root, "rights", settings.registry.rights)
    _param_http(_sub(root, "capability", standardID=TAP_AUX), f"{settings.public_url}/tap")
    _sub(root, "facility", "Lick Observatory")
    _sub(root, "instrument", found.instrument)
    coverage = _sub(root, "coverage")
    _sub(coverage, "spatial", found.moc)
    if found.t_min is not None and found.t_max is not None:
        _sub(coverage, "temporal", f"{found.t_min!r} {found.t_max!r}")
    if found.em_min and found.em_max:
        _sub(coverage, "spectral", f"{HC / found.em_max!r} {HC / found.em_min!r}")
    # VODataService 1.2 §3.5.1: the precise MOC, at the stored order, where spatial has order 6.
    _sub(coverage, "footprint", f"{settings.public_url}/coverage?collection={quote(found.name, safe='')}",
         ivo_id=MOC_STANDARD)
    _tableset(root, ("ivoa",), ("ivoa.obscore",))
    return Record(identifier, "vs:CatalogResource", root.findtext("title"), root)


def public_collections() -> list[Collection]:
    """The collections with public rows and their coverage, as the refresh task last stored them
    (archive.coverage.refresh: computed through ivoa.obscore as an anonymous caller, so only
    public rows shape it), the MOC degraded from its stored order to :data:`MOC_ORDER`."""
    from django.db import connection

    from archive.coverage.refresh import stored_collections

    with connection.cursor() as cursor:
        found = stored_collections(cursor)
    return [Collection(c.collection, c.instrument or c.collection, c.moc.degrade(MOC_ORDER).to_ascii(),
                       c.t_min, c.t_max, c.em_min, c.em_max) for c in found]


def current_records(settings: Settings) -> list[Record]:
    """Every resource the registry describes now, in a stable order."""
    ids = Identifiers(settings)
    records = [registry(ids, settings), authority(ids, settings), organisation(ids, settings),
               tap_service(ids, settings)]
    records += [collection(ids, settings, found) for found in public_collections()]
    return records
