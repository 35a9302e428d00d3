"""Offline validation of what the registry serves, against the OAI-PMH and IVOA schemas.

Used by ``lick-admin registry`` and by the tests alike. The schemas are the files in
``<repo>/../shared/xsd`` (or ``LICK_XSD_DIR``); every ``schemaLocation`` inside them points at the
network, so imports are resolved by namespace (or file name) to the local files instead.
"""
from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

from lxml import etree

from archive.config import REPO_ROOT

#: namespace -> schema file (the table in shared/xsd/README.md).
SCHEMA_FILES = {
    "http://www.openarchives.org/OAI/2.0/": "OAI-PMH.xsd",
    "http://www.openarchives.org/OAI/2.0/oai_dc/": "oai_dc.xsd",
    "http://purl.org/dc/elements/1.1/": "simpledc20021212.xsd",
    "http://www.w3.org/XML/1998/namespace": "xml.xsd",
    "http://www.ivoa.net/xml/RegistryInterface/v1.0": "RegistryInterface-v1.0.xsd",
    "http://www.ivoa.net/xml/VOResource/v1.0": "VOResource-v1.1-with-erratum1.xsd",
    "http://www.ivoa.net/xml/VODataService/v1.1": "VODataService-v1.2.xsd",
    "http://www.ivoa.net/xml/VORegistry/v1.0": "VORegistry-v1.0.xsd",
    "http://www.ivoa.net/xml/TAPRegExt/v1.0": "TAPRegExt-v1.0-with-erratum1.xsd",
    "http://www.ivoa.net/xml/ConeSearch/v1.0": "SCS-v1.1.xsd",
    "http://www.ivoa.net/xml/VOSICapabilities/v1.0": "VOSICapabilities-v1.0.xsd",
    "http://www.ivoa.net/xml/STC/stc-v1.30.xsd": "STC-v1.3.xsd",
    "http://www.w3.org/1999/xlink": "XLINK.xsd",
}
# What the files' own schemaLocation URLs name, by their last path segment.
_BY_URL_NAME = {"stc-v1.30.xsd": "STC-v1.3.xsd", "xlink.xsd": "XLINK.xsd", "v1.0": SCHEMA_FILES[
    "http://www.ivoa.net/xml/VOResource/v1.0"], "VOResource-v1.0.xsd": "VOResource-v1.1-with-erratum1.xsd"}


class SchemaFilesMissing(RuntimeError):
    pass


def xsd_dir() -> Path:
    directory = Path(os.environ.get("LICK_XSD_DIR") or REPO_ROOT.parent / "shared" / "xsd")
    if not (directory / "OAI-PMH.xsd").is_file():
        raise SchemaFilesMissing(
            f"the OAI-PMH and IVOA schemas are not in {directory}: put the shared/ directory beside the "
            "clone (it holds xsd/), or point LICK_XSD_DIR at a copy")
    return directory


class _LocalSchemas(etree.Resolver):
    def __init__(self, directory: Path):
        super().__init__()
        self.directory = directory

    def resolve(self, url, public_id, context):
        name = SCHEMA_FILES.get(url) or _BY_URL_NAME.get(url.rstrip("/").rsplit("/", 1)[-1])
        if name is None and (self.directory / url.rsplit("/", 1)[-1]).is_file():
            name = url.rsplit("/", 1)[-1]
        if name is None:
            raise SchemaFilesMissing(f"no local copy of the schema {url}")
        return self.resolve_filename(str(self.directory / name), context)


@lru_cache(maxsize=1)
def _schema() -> etree.XMLSchema:
    """One schema importing every namespace, so that any element (and xsi:type) is checked."""
    directory = xsd_dir()
    imports = "".join(f'<xs:import namespace="{ns}" schemaLocation="{ns}"/>'
                      for ns in SCHEMA_FILES if ns != "http://www.w3.org/XML/1998/namespace")
    driver = (f'<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" '
              f'targetNamespace="urn:lick:all-schemas">{imports}</xs:schema>')
    parser = etree.XMLParser(no_network=True)
    parser.resolvers.add(_LocalSchemas(directory))
    return etree.XMLSchema(etree.fromstring(driver.encode(), parser, base_url=str(directory / "driver.xsd")))


def schema_errors(document: bytes | etree._Element) -> list[str]:
    """Every schema violation in ``document`` (an OAI-PMH response or a bare record); [] if valid."""
    tree = etree.fromstring(document) if isinstance(document, bytes) else document
    schema = _schema()
    if schema.validate(tree):
        return []
    return [f"line {e.line}: {e.message}" for e in schema.error_log]
