"""The serialisations ``/coverage`` offers for a stored MOC (IVOA MOC 2.0 §4)."""
from __future__ import annotations

import io
import json
from dataclasses import dataclass
from collections.abc import Callable

import numpy as np
from astropy.io import fits

from archive.coverage.moc import Moc


def moc_fits(moc: Moc, name: str = "") -> bytes:
    """FITS MOC 2.0 (§4.1): an empty primary HDU and a binary table of NUNIQ cells, ``1J`` up to
    order 13 and ``1K`` deeper, with the MOC 2.0 cards (MOCVERS, MOCDIM, ORDERING, COORDSYS,
    MOCORD_S) and MOC 1.1's MOCORDER for the readers that know only it."""
    uniq = moc.nuniq()
    wide = moc.order > 13
    column = fits.Column(name="UNIQ", format="1K" if wide else "1J",
                         array=uniq.astype(np.int64 if wide else np.int32))
    table = fits.BinTableHDU.from_columns([column])
    header = table.header
    header["PIXTYPE"] = ("HEALPIX", "HEALPix magic code")
    header["ORDERING"] = ("NUNIQ", "NUNIQ coding method")
    header["COORDSYS"] = ("C", "ICRS reference frame")
    header["MOCVERS"] = ("2.0", "MOC version")
    header["MOCDIM"] = ("SPACE", "Physical dimension")
    header["MOCORD_S"] = (moc.order, "MOC resolution (best order)")
    header["MOCORDER"] = (moc.order, "MOC resolution (MOC 1.1)")
    header["MOCTOOL"] = ("lick-archive", "Name of the MOC generator")
    header["EXTNAME"] = "MOC"
    if name:
        header["MOCID"] = (name, "Identifier of the collection")
    out = io.BytesIO()
    fits.HDUList([fits.PrimaryHDU(), table]).writeto(out)
    return out.getvalue()


def moc_ascii(moc: Moc, name: str = "") -> bytes:
    return (moc.to_ascii() + "\n").encode()


def moc_json(moc: Moc, name: str = "") -> bytes:
    return json.dumps(moc.to_json(), separators=(",", ":")).encode()


@dataclass(frozen=True)
class Format:
    name: str
    content_type: str
    suffix: str
    write: Callable[[Moc, str], bytes]


FORMATS = (
    Format("fits", "application/fits", "fits", moc_fits),
    Format("ascii", "text/plain; charset=utf-8", "txt", moc_ascii),
    Format("json", "application/json", "json", moc_json),
)
#: FORMAT values (case-insensitive): the short names, and the MIME types for clients that send those.
BY_VALUE = {f.name: f for f in FORMATS} | {f.content_type.split(";")[0]: f for f in FORMATS}
