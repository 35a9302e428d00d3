"""SIA 2.0 §3.1: the result describes the service that made it, ``adhoc:service`` named "this".

With it a client (TOPCAT's, Aladin's form builders) can ask again with other values without
reading the capabilities; the input parameters are those of :data:`~vo_services.sia.search.PARAMETERS`.
"""
from __future__ import annotations

from functools import lru_cache

from archive.config import get_settings
from archive.standards import SIA_QUERY
from vo_services.encoders.cells import xml_attribute
from vo_services.sia.search import PARAMETERS

# SIA 2.0 §2.1 units of the parameters that have one.
_UNITS = {"POS": "deg", "BAND": "m", "TIME": "d", "FOV": "deg", "SPATRES": "arcsec", "EXPTIME": "s",
          "TIMERES": "s"}


@lru_cache(maxsize=1)
def self_descriptor() -> str:
    url = f"{get_settings().public_url}/sia/query"
    params = "".join(
        f'<PARAM name="{name}" datatype="char" arraysize="*" value=""'
        + (f' unit="{_UNITS[name]}"' if name in _UNITS else "") + "/>\n"
        for name in (*PARAMETERS, "MAXREC", "RESPONSEFORMAT"))
    return (
        '<RESOURCE type="meta" utype="adhoc:service" name="this">\n'
        "<DESCRIPTION>The SIA 2.0 search that made this result</DESCRIPTION>\n"
        f'<PARAM name="standardID" datatype="char" arraysize="*" value="{SIA_QUERY}"/>\n'
        f'<PARAM name="accessURL" datatype="char" arraysize="*" value="{xml_attribute(url)}"/>\n'
        f'<GROUP name="inputParams">\n{params}</GROUP>\n</RESOURCE>\n'
    )
