"""What the encoders add to result columns: the text rule and the FIELDs' XML IDs.

A result's columns are :class:`archive.columns.Column` objects, the one column type, whose
``votable`` reads the ADQL → VOTable mapping (ADQL 2.1 §3, DALI 1.1 §3.3) kept once in
:data:`archive.columns.VOTABLE_TYPES`; TAP_SCHEMA, VOSI and the FIELDs all read it, so a
result's FIELD always agrees with the column's TAP_SCHEMA row (TAP 1.1 §3.2).

One rule for text: a FIELD's datatype is what the mapping declares (``char`` today), because
a result must agree with TAP_SCHEMA. ``char`` is ASCII (VOTable 1.4 §2.1), and astropy fails
on any other byte in a binary ``char`` cell (pyvo#346, astroquery#2916), so in BINARY2 a
character outside ASCII is written as ``?``; the Unicode containers (TABLEDATA, CSV, TSV,
JSON) and FITS (UTF-8, which astropy and STIL read) keep it. A column declared
``unicodeChar`` (in the mapping, or ``Column.votable_datatype``) keeps it in BINARY2 as well,
as UTF-16.
"""
from __future__ import annotations

import re
from collections.abc import Iterable

from archive.columns import Column
from vo_services.names import unique_names

TEXT_TYPES = frozenset({"CHAR", "VARCHAR", "CLOB"})
_NOT_NAME_CHAR = re.compile(r"[^A-Za-z0-9_.-]")


def xml_ids(fields: Iterable[Column]) -> list[str]:
    """A valid, unique XML ID per field (XML 1.0 NCName; VOTable 1.4 §3.1), from its name.

    Names are kept verbatim in ``name``; only the ID is mangled, and only when it must be.
    """
    candidates = []
    for field in fields:
        candidate = field.id or _NOT_NAME_CHAR.sub("_", field.name)
        candidates.append(candidate if re.match(r"[A-Za-z_]", candidate) else "_" + candidate)
    return unique_names(candidates)
