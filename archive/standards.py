"""IVOA standard identifiers and MIME types that several modules name: each written once here.

The lowest layer holds them because the published ObsCore view (archive/published.py) already
needs DataLink's MIME type; the VO services take the rest from here.
"""
from __future__ import annotations

VOTABLE_MIME = "application/x-votable+xml"
#: What a DataLink {links} endpoint answers, and ObsCore's access_format for it (DataLink 1.1 §3.3).
DATALINK_MIME = "application/x-votable+xml;content=datalink"
FITS_MIME = "application/fits"

#: The {links} capability (DataLink 1.1 §2.1; its service descriptors, §4).
DATALINK_LINKS = "ivo://ivoa.net/std/DataLink#links-1.1"
#: VOSI 1.1 §2 capabilities and availability, which every service of the archive has.
VOSI_CAPABILITIES = "ivo://ivoa.net/std/VOSI#capabilities"
VOSI_AVAILABILITY = "ivo://ivoa.net/std/VOSI#availability"
#: SODA 1.0 §2: synchronous cutouts.
SODA_SYNC = "ivo://ivoa.net/std/SODA#sync-1.0"
#: The SIA 2.0 {query} capability (SIA 2.0 §2; pyvo's SIA2Service looks for it, case-insensitively).
SIA_QUERY = "ivo://ivoa.net/std/SIA#query-2.0"
