"""The service descriptors that results carry (DataLink 1.1 §4): DataLink's {links} in TAP, cone
search and SIA results, SODA's cutouts in {links} responses.

With the first, TOPCAT and Aladin offer each row's links: the descriptor names the {links} endpoint
and takes its ID parameter from the row's ``obs_publisher_did`` column (§4.3, ``ref`` to the FIELD).

A decoration of results, made from the columns and the public URL only, so it lives below every
service that attaches it (TAP, SCS, SIA, DataLink): TAP's execution must not import the DataLink
service, which itself reads TAP's jobs (bundles of a job's result).
"""
from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

from archive.columns import Column
from archive.config import get_settings
from archive.standards import DATALINK_LINKS, DATALINK_MIME, FITS_MIME, SODA_SYNC
from vo_services.encoders.cells import xml_attribute
from vo_services.encoders.fields import xml_ids

ID_COLUMN = "obs_publisher_did"


def service_descriptor(field_id: str) -> str:
    url = f"{get_settings().public_url}/datalink/links"
    return (
        '<RESOURCE type="meta" utype="adhoc:service" ID="datalink_service" name="DataLink">\n'
        "<DESCRIPTION>Links to the file, its preview, header, calibration frames and (Kast) the other "
        "arm's frame</DESCRIPTION>\n"
        f'<PARAM name="standardID" datatype="char" arraysize="*" value="{DATALINK_LINKS}"/>\n'
        f'<PARAM name="accessURL" datatype="char" arraysize="*" value="{xml_attribute(url)}"/>\n'
        f'<PARAM name="contentType" datatype="char" arraysize="*" value="{DATALINK_MIME}"/>\n'
        '<GROUP name="inputParams">\n'
        f'<PARAM name="ID" datatype="char" arraysize="*" value="" ref="{field_id}" ucd="meta.id;meta.main"/>\n'
        "</GROUP>\n</RESOURCE>\n"
    )


def soda_descriptor(resource_id: str, *, id_value: str | None = None, id_ref: str | None = None) -> str:
    """The SODA sync service descriptor (DataLink 1.1 §4, SODA 1.0 §4.2): cutouts of an image
    by CIRCLE, POLYGON or POS (CIRCLE, POLYGON or RANGE; SODA 1.0 §3.3), ICRS degrees.

    ``id_value`` fixes the ID (a {links} response, one descriptor per image, so that any client
    record leads to its own image); ``id_ref`` takes it from a FIELD of the result instead
    (DataLink 1.1 §4.3).
    """
    url = f"{get_settings().public_url}/soda/sync"
    id_source = f'value="{xml_attribute(id_value or "")}"' + (f' ref="{id_ref}"' if id_ref else "")
    return (
        f'<RESOURCE type="meta" utype="adhoc:service" ID="{resource_id}" name="SODA cutout">\n'
        "<DESCRIPTION>A cutout of the image by sky region (ICRS, degrees), with the frame's WCS; "
        "HTTP 204 when the region misses the frame</DESCRIPTION>\n"
        f'<PARAM name="standardID" datatype="char" arraysize="*" value="{SODA_SYNC}"/>\n'
        f'<PARAM name="accessURL" datatype="char" arraysize="*" value="{xml_attribute(url)}"/>\n'
        f'<PARAM name="contentType" datatype="char" arraysize="*" value="{FITS_MIME}"/>\n'
        '<GROUP name="inputParams">\n'
        f'<PARAM name="ID" datatype="char" arraysize="*" {id_source} ucd="meta.ref.url;meta.curation"/>\n'
        '<PARAM name="CIRCLE" datatype="double" arraysize="3" xtype="circle" unit="deg" value="" '
        'ucd="phys.angArea;obs"><DESCRIPTION>ra dec radius</DESCRIPTION></PARAM>\n'
        '<PARAM name="POLYGON" datatype="double" arraysize="*" xtype="polygon" unit="deg" value="" '
        'ucd="pos.outline;obs"><DESCRIPTION>ra1 dec1 ra2 dec2 ... (at least 3 vertices)</DESCRIPTION></PARAM>\n'
        '<PARAM name="POS" datatype="char" arraysize="*" value="" ucd="pos.outline;obs">'
        "<DESCRIPTION>CIRCLE ra dec radius, POLYGON ra1 dec1 ..., or RANGE ra_min ra_max dec_min dec_max"
        "</DESCRIPTION></PARAM>\n"
        "</GROUP>\n</RESOURCE>\n"
    )


@lru_cache(maxsize=256)
def descriptors_for(fields: Sequence[Column]) -> tuple[str, ...]:
    """The descriptor when the result has an obs_publisher_did column, else nothing.

    Services that serve ObsCore rows (TAP, the cone search) attach it to their results; the
    result engine knows nothing of DataLink. Made once per column set: it depends only on the
    columns and the public URL, which are fixed for the process.
    """
    for field, field_id in zip(fields, xml_ids(fields)):
        if field.name.lower() == ID_COLUMN:
            return (service_descriptor(field_id),)
    return ()
