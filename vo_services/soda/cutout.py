"""Cutting an image frame: the pixels of a sky region, with a valid WCS, as a FITS file.

The frame's celestial WCS is the one ingest knows (:func:`ingest.mapping.frame_wcs`: the
header's, else derived from the pointing and plate scale). The region becomes a box of pixels:

* a CIRCLE, the box astropy's :class:`~astropy.nddata.Cutout2D` cuts for its centre and a side of
  twice the radius (at least one pixel), so a cutout matches what a user would make with astropy;
  a circle reaching farther than half a degree from the frame's tangent point, where TAN
  stretches it out of round, is instead the box of the frame's pixels inside it, found on a grid
  of at most 257 x 257 pixels and widened by one grid step;
* a POLYGON, the smallest box that holds it (its edges are great circles, which the TAN
  projection maps to straight lines: the box of the projected vertices is exact);
* a POS RANGE under a degree, the box of its edges (33 points each: its parallels are no great
  circles); a larger one, the frame's pixels inside it, on the grid large circles use.

The box is trimmed to the frame; no pixel left means no overlap (SODA 1.0 §5.1: HTTP 204). Only
the box's rows are read, from a memory map of the file (a gzip file is decompressed up to them).

The served file keeps every card of the primary header (the provenance: observer, program,
times, instrument set-up) except the old primary WCS and the sizes; it gets the frame's WCS as
its primary WCS with the reference pixel moved by the cut, the other (alternate) WCSs' reference
pixels moved alike, IRAF's LTV offsets and a HISTORY card naming the frame and the pixels.
"""
from __future__ import annotations

import gzip
import math
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from astropy.io import fits
from astropy.nddata import Cutout2D, NoOverlapError
from astropy.wcs import WCS

from ingest.cards import parse_value
from ingest.fitsread import BLOCK, CARD, PrimaryHeader, UnreadableFile, read_primary_header
from ingest.instruments.sky import Wcs, separation
from ingest.mapping import FrameWcs, frame_wcs
from vo_services.dali.values import Circle, Range, Shape

_DTYPES = {8: "u1", 16: ">i2", 32: ">i4", 64: ">i8", -32: ">f4", -64: ">f8"}
#: Cards of the primary WCS (and the sizes and checksums) that a cutout replaces or drops.
_REPLACED = re.compile(r"^(?:NAXIS[12]|WCSAXES|CTYPE[12]|CRVAL[12]|CRPIX[12]|CDELT[12]|CUNIT[12]|CROTA[12]"
                       r"|CD[12]_[12]|PC[12]_[12]|PV[12]_\d+|PS[12]_\d+|LONPOLE|LATPOLE|RADESYS|RADECSYS"
                       r"|LTV[12]|LTM[12]_[12]|CHECKSUM|DATASUM|END)$")
_ALTERNATE_CRPIX = re.compile(r"^CRPIX([12])[A-Z]$")
#: Vertices this far from the frame's tangent point project badly (TAN reaches infinity at 90).
_MAX_PROJECTED_DEG = 80.0
#: Within this of the tangent point TAN keeps a circle round to a small fraction of a pixel.
_ROUND_WITHIN_DEG = 0.5


class NotAnImage(Exception):
    """The observation is no image frame with a celestial WCS: nothing to cut by sky region."""


class UnreadableFrame(Exception):
    """The frame's file cannot be read as a 2-D image (truncated, odd BITPIX, no header END)."""


class RegionTooLarge(ValueError):
    """A polygon reaching too far from the frame for its projection."""


@dataclass(frozen=True)
class Frame:
    path: Path
    obs_id: str
    header: PrimaryHeader
    sky: FrameWcs

    @property
    def size(self) -> tuple[int, int]:
        """(NAXIS1, NAXIS2)."""
        return self.header.shape[0], self.header.shape[1]


def open_frame(path: Path, rel_path: str, obs_id: str) -> Frame:
    """The frame at ``path`` with its WCS, or :class:`NotAnImage` / :class:`UnreadableFrame`."""
    try:
        header = read_primary_header(path)
    except UnreadableFile as exc:
        raise UnreadableFrame(exc.reason) from None
    if len(header.shape) != 2:
        raise NotAnImage(f"{obs_id} is not a 2-D image (NAXIS = {len(header.shape)})")
    sky = frame_wcs(header.header, rel_path, header.shape)
    if sky is None:
        raise NotAnImage(f"{obs_id} has no sky WCS to cut by: none in its header, and no pointing or "
                         "known plate scale to derive one from")
    return Frame(path, obs_id, header, sky)


def _astropy_wcs(sky: Wcs) -> WCS:
    a, b, c, d = sky.cd
    wcs = WCS(naxis=2)
    wcs.wcs.ctype = ["RA---TAN", "DEC--TAN"]
    wcs.wcs.crval = sky.crval
    wcs.wcs.crpix = sky.crpix
    wcs.wcs.cd = [[a, b], [c, d]]
    wcs.wcs.radesys = "ICRS"  # ingest takes FK5 J2000 as ICRS (ingest/instruments/sky.py)
    wcs.wcs.set()
    return wcs


def _pixel(wcs: WCS, ra: float, dec: float) -> tuple[float, float]:
    """0-based pixel coordinates (numpy's: the first pixel's centre is 0)."""
    x, y = wcs.wcs_world2pix([[ra, dec]], 0)[0]
    return float(x), float(y)


def _frame_centre_and_radius(frame: Frame) -> tuple[tuple[float, float], float]:
    n1, n2 = frame.size
    centre = frame.sky.wcs.world((n1 + 1) / 2, (n2 + 1) / 2)
    return centre, max(separation(centre, corner) for corner in frame.sky.wcs.corners(frame.size))


def pixel_box(frame: Frame, region: Shape | None) -> tuple[tuple[float, float], tuple[int, int]] | None:
    """(centre (x, y), size (ny, nx)) of the box to cut, as Cutout2D takes them; None when the
    region surely misses the frame."""
    n1, n2 = frame.size
    whole = (((n1 - 1) / 2, (n2 - 1) / 2), (n2, n1))
    if region is None:
        return whole
    sky = frame.sky.wcs
    centre, frame_radius = _frame_centre_and_radius(frame)
    wcs = _astropy_wcs(sky)
    if isinstance(region, Circle):
        middle = (region.ra, region.dec)
        if separation(middle, centre) > region.radius + frame_radius:
            return None
        if all(separation(middle, corner) <= region.radius for corner in sky.corners(frame.size)):
            return whole
        if separation(middle, sky.crval) + region.radius > _ROUND_WITHIN_DEG:
            return _sampled_box(frame, wcs, _in_circle(region))
        a, b, c, d = sky.cd
        scales = math.hypot(a, c), math.hypot(b, d)  # degrees per pixel along x and y
        side = [max(1, round(2 * region.radius / scale)) for scale in (scales[1], scales[0])]  # (ny, nx)
        return _pixel(wcs, *middle), (side[0], side[1])
    if isinstance(region, Range):
        return _range_box(frame, wcs, region)
    if any(separation(vertex, sky.crval) > _MAX_PROJECTED_DEG for vertex in region.vertices):
        raise RegionTooLarge(f"every vertex must lie within {_MAX_PROJECTED_DEG:g} degrees of the frame")
    return _projected_box(wcs, region.vertices)


def _projected_box(wcs: WCS, points) -> tuple[tuple[float, float], tuple[int, int]]:
    """The box of pixels that the projected ``points`` span."""
    xs, ys = np.asarray(wcs.wcs_world2pix(np.asarray(points, dtype=float), 0)).T
    # pixel i spans [i - 0.5, i + 0.5]: the first and last pixels that the polygon touches
    i0, i1 = math.ceil(xs.min() - 0.5), math.floor(xs.max() + 0.5)
    j0, j1 = math.ceil(ys.min() - 0.5), math.floor(ys.max() + 0.5)
    nx, ny = i1 - i0 + 1, j1 - j0 + 1
    return (i0 + (nx - 1) / 2, j0 + (ny - 1) / 2), (ny, nx)


def _range_box(frame: Frame, wcs: WCS, box: Range):
    ras = np.linspace(box.ra_min, box.ra_max, 33)
    decs = np.linspace(box.dec_min, box.dec_max, 33)
    edges = np.concatenate([np.c_[ras, np.full(33, box.dec_min)], np.c_[ras, np.full(33, box.dec_max)],
                            np.c_[np.full(33, box.ra_min), decs], np.c_[np.full(33, box.ra_max), decs]])
    nearest_equator = 0.0 if box.dec_min <= 0.0 <= box.dec_max else min(abs(box.dec_min), abs(box.dec_max))
    small = (box.dec_max - box.dec_min) < 1.0 and (box.ra_max - box.ra_min) * math.cos(
        math.radians(nearest_equator)) < 1.0  # its widest parallel
    if small and all(separation(tuple(point), frame.sky.wcs.crval) <= _MAX_PROJECTED_DEG for point in edges[::8]):
        return _projected_box(wcs, edges)

    def inside(ra: np.ndarray, dec: np.ndarray) -> np.ndarray:
        ra = np.where((ra == 0.0) & (box.ra_max == 360.0), 360.0, ra)
        return (box.ra_min <= ra) & (ra <= box.ra_max) & (box.dec_min <= dec) & (dec <= box.dec_max)
    return _sampled_box(frame, wcs, inside)


def _in_circle(circle: Circle):
    def inside(ra: np.ndarray, dec: np.ndarray) -> np.ndarray:
        ra, dec = np.radians(ra), np.radians(dec)
        ra0, dec0 = math.radians(circle.ra), math.radians(circle.dec)
        haversine = np.sin((dec - dec0) / 2) ** 2 + np.cos(dec) * math.cos(dec0) * np.sin((ra - ra0) / 2) ** 2
        return 2 * np.arcsin(np.sqrt(np.clip(haversine, 0, 1))) <= math.radians(circle.radius)
    return inside


def _sampled_box(frame: Frame, wcs: WCS, inside_region):
    """The box of the frame's pixels inside a large region (``inside_region(ra, dec)``, degree
    arrays), from a grid of pixels (the frame's edges included) widened by one step: no part of
    a region this large hides between them."""
    n1, n2 = frame.size
    step = max(1, -(-max(n1, n2) // 256))
    xs = np.unique(np.r_[np.arange(0, n1, step), n1 - 1])
    ys = np.unique(np.r_[np.arange(0, n2, step), n2 - 1])
    gx, gy = (grid.ravel() for grid in np.meshgrid(xs, ys))
    ra, dec = wcs.wcs_pix2world(gx, gy, 0)
    inside = inside_region(ra % 360.0, dec)
    if not inside.any():
        return None
    i0, i1 = max(0, gx[inside].min() - step), min(n1 - 1, gx[inside].max() + step)
    j0, j1 = max(0, gy[inside].min() - step), min(n2 - 1, gy[inside].max() + step)
    nx, ny = int(i1 - i0 + 1), int(j1 - j0 + 1)
    return (i0 + (nx - 1) / 2, j0 + (ny - 1) / 2), (ny, nx)


def _pixels(frame: Frame) -> np.ndarray:
    """The frame's pixels in their on-disk form (no BZERO/BSCALE applied), memory-mapped."""
    cards = frame.header.header
    bitpix = cards.get("BITPIX")
    dtype = _DTYPES.get(bitpix)
    if dtype is None:
        raise UnreadableFrame(f"BITPIX = {bitpix!r} is not a FITS pixel type")
    n1, n2 = frame.size
    shape, offset = (n2, n1), frame.header.data_offset
    length = n1 * n2 * np.dtype(dtype).itemsize
    with open(frame.path, "rb") as raw:
        compressed = raw.read(2) == b"\x1f\x8b"
    if compressed:  # no memory map of a gzip stream: decompress up to the end of the data
        with gzip.open(frame.path, "rb") as stream:
            stream.seek(offset)
            data = stream.read(length)
        if len(data) < length:
            raise UnreadableFrame("the file ends inside its data")
        return np.frombuffer(data, dtype=dtype).reshape(shape)
    if frame.path.stat().st_size < offset + length:
        raise UnreadableFrame("the file ends inside its data")
    return np.memmap(frame.path, dtype=dtype, mode="r", offset=offset, shape=shape)


def cut(frame: Frame, region: Shape | None) -> bytes | None:
    """The cutout as a FITS file, or None when no pixel of the frame is in the region."""
    box = pixel_box(frame, region)
    if box is None:
        return None
    position, size = box
    try:
        cutout = Cutout2D(_pixels(frame), position, size, mode="trim", copy=True)
    except (NoOverlapError, ValueError):  # ValueError: the box lies wholly outside after trimming
        return None
    rows, columns = cutout.slices_original
    offset = (columns.start, rows.start)
    return _fits_file(frame, cutout.data, offset)


def _card(key: str, value, comment: str = "") -> str:
    return fits.Card(key, value, comment).image


def _wcs_cards(sky: FrameWcs, offset: tuple[int, int]) -> list[str]:
    a, b, c, d = sky.wcs.cd
    crpix = (sky.wcs.crpix[0] - offset[0], sky.wcs.crpix[1] - offset[1])
    cards = [
        _card("WCSAXES", 2, "celestial WCS of the cutout (ICRS, TAN)"),
        _card("CTYPE1", "RA---TAN", "gnomonic projection, right ascension"),
        _card("CTYPE2", "DEC--TAN", "gnomonic projection, declination"),
        _card("CUNIT1", "deg"), _card("CUNIT2", "deg"),
        _card("CRVAL1", sky.wcs.crval[0], "[deg] RA at the reference pixel"),
        _card("CRVAL2", sky.wcs.crval[1], "[deg] Dec at the reference pixel"),
        _card("CRPIX1", crpix[0], "reference pixel, in the cutout"),
        _card("CRPIX2", crpix[1], "reference pixel, in the cutout"),
        _card("CD1_1", a), _card("CD1_2", b), _card("CD2_1", c), _card("CD2_2", d),
        _card("RADESYS", "ICRS"),
    ]
    if sky.derived:
        cards.append(_card("COMMENT", "The frame's header had no sky WCS: this one was derived by the archive"))
        cards.append(_card("COMMENT", "from the pointing and the plate scale, north up and east left assumed."))
    return cards


def _fits_file(frame: Frame, data: np.ndarray, offset: tuple[int, int]) -> bytes:
    ny, nx = data.shape
    out: list[str] = []
    for line in frame.header.text.split("\n"):
        card = line.ljust(CARD)[:CARD]
        keyword = card[:8].strip().upper()
        if _REPLACED.match(keyword):
            continue
        moved = _ALTERNATE_CRPIX.match(keyword)
        if moved and card[8:10] == "= ":
            try:
                value = parse_value(card[10:])
            except ValueError:
                value = None
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                comment = card[10:].split("/", 1)[1].strip() if "/" in card[10:] else ""
                card = _card(keyword, value - offset[int(moved.group(1)) - 1], comment)
        out.append(card)
        if keyword == "NAXIS":
            out += [_card("NAXIS1", nx, "columns of the cutout"), _card("NAXIS2", ny, "rows of the cutout")]
    out += _wcs_cards(frame.sky, offset)
    out += [
        _card("LTV1", -offset[0], "IRAF: cutout x = frame x + LTV1"),
        _card("LTV2", -offset[1], "IRAF: cutout y = frame y + LTV2"),
        _card("LTM1_1", 1.0), _card("LTM2_2", 1.0),
        _card("HISTORY", f"SODA cutout of {frame.obs_id}"[:72]),
        _card("HISTORY", f"frame pixels [{offset[0] + 1}:{offset[0] + nx},{offset[1] + 1}:{offset[1] + ny}]"),
    ]
    header = "".join(out) + "END".ljust(CARD)
    header += " " * (-len(header) % BLOCK)
    body = np.ascontiguousarray(data).tobytes()
    return header.encode("ascii") + body + b"\0" * (-len(body) % BLOCK)
