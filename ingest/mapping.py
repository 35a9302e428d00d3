"""From a FITS file to its observation's metadata: read the header, pick the instrument, map.

:func:`map_file` is what the ingest pipeline calls; :func:`map_header` is the pure part (also
used to re-derive rows from stored headers). The instrument mappings in
:mod:`ingest.instruments` read what differs between instruments; this module adds what does
not: the observing night, the times in MJD with the directory-date fallback, the position and
footprint, the identifiers and the header text.

Position and footprint:

* images with a usable celestial WCS: the image centre, the four corners as ``s_region`` and
  their largest separation as ``s_fov``;
* images without one: the WCS reference point or the RA/DEC cards, and where the instrument's
  field is known a polygon around the circle that holds it (the orientation is unknown);
* spectra: the WCS reference point (the slit) or the RA/DEC cards; ``s_fov`` is the slit
  length where known and ``s_region`` is NULL (a slit is too thin to be worth a polygon).
"""
from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from astropy.io import fits

from ingest.cards import HeaderCards
from ingest.fitsread import UnreadableFile, read_primary_header
from ingest.flags import IngestFlag
from ingest.instruments import INSTRUMENTS, UNKNOWN
from ingest.instruments.base import Cards, Instrument, Reading
from ingest.instruments.sky import (
    Wcs, celestial_wcs, circle, counter_clockwise, diameter, pointing_from_cards)
from ingest.metadata import ObservationMetadata
from ingest.nights import ArchivePath, mjd, night_of, night_start

CALIB_LEVEL = 1  # raw frames, in instrumental units


def map_file(path: Path, archive_root: Path, rel_path: str | None = None) -> ObservationMetadata:
    """The metadata of the file at ``path`` under ``archive_root``.

    ``rel_path`` is the file's archive path when the caller has resolved it already (bulk
    ingest resolves a batch's paths together). Raises :class:`UnreadableFile` (with a reason)
    for files that cannot give a row, and ``OSError`` when the file cannot be read at all. A
    mistake in a mapping is reported as an unreadable file too (reason ``internal error ...``),
    so one bad file never stops a batch.
    """
    if rel_path is None:
        try:
            rel_path = Path(path).resolve().relative_to(Path(archive_root).resolve()).as_posix()
        except ValueError:
            raise UnreadableFile(f"{path} is not under the archive root {archive_root}") from None
    read = read_primary_header(path)
    try:
        return map_header(read.header, rel_path, read.flags, read.shape, text=read.text)
    except UnreadableFile:
        raise
    except Exception as exc:  # noqa: BLE001  (see the docstring)
        raise UnreadableFile(f"internal error mapping the header: {type(exc).__name__}: {exc}") from exc


def map_header(header: fits.Header, rel_path: str, flags: IngestFlag = IngestFlag(0),
               shape: tuple[int, ...] = (), *, text: str | None = None) -> ObservationMetadata:
    """The metadata of a file from its primary header and its archive-relative path.

    ``flags`` are the repairs the reader made; ``shape`` is (NAXIS1, NAXIS2, ...); ``text`` is
    the header as read (:attr:`PrimaryHeader.text`), which saves formatting it again.
    """
    where = ArchivePath.parse(rel_path)
    cards = Cards(header, IngestFlag(flags))
    with warnings.catch_warnings():  # astropy warns about each odd card; the flags say it once
        warnings.simplefilter("ignore")
        reading = instrument_for(cards, where).read(cards, where)
        night, start, end = _times(cards, where, reading)
        position, s_fov, s_region = _position(cards, reading, shape)
    image = reading.dataproduct_type == "image" and len(shape) >= 2
    return ObservationMetadata(
        obs_id=where.obs_id,
        dataproduct_type=reading.dataproduct_type,
        calib_level=CALIB_LEVEL,
        target_name=reading.target_name,
        s_ra=position[0] if position else None,
        s_dec=position[1] if position else None,
        s_fov=s_fov,
        s_region=s_region,
        s_xel1=shape[0] if image else None,
        s_xel2=shape[1] if image else None,
        t_min=mjd(start),
        t_max=mjd(end),
        t_exptime=reading.exptime,
        em_min=reading.em[0] if reading.em else None,
        em_max=reading.em[1] if reading.em else None,
        em_xel=None,
        instrument_name=reading.instrument,
        facility_name=reading.facility_name,
        telescope=reading.telescope,
        instrument=reading.instrument,
        frame_type=reading.frame_type,
        observing_night=night,
        date_obs=start,
        filters=reading.filters,
        grating=reading.grating,
        grism=reading.grism,
        slit=reading.slit,
        dichroic=reading.dichroic,
        decker=reading.decker,
        aperture=reading.aperture,
        airmass=reading.airmass,
        observer=reading.observer,
        program=reading.program,
        cover_id=reading.cover_id,
        ingest_flags=int(cards.flags),
        header=text if text is not None else header_text(header),
        file_path=rel_path,
    )


def instrument_for(cards: Cards, where: ArchivePath) -> Instrument:
    """The first mapping that claims the file, else the one for unknown instruments."""
    return next((i for i in INSTRUMENTS if i.claims(cards, where)), UNKNOWN)


def header_text(header) -> str:
    """The header as stored: one card a line, right-stripped, without END."""
    if isinstance(header, HeaderCards):
        return header.lines()
    text = header.tostring(sep="\n", endcard=False, padding=False)
    return "\n".join(line.rstrip() for line in text.split("\n"))


def _times(cards: Cards, where: ArchivePath, reading: Reading):
    """Observing night, start and end. Without a usable date the file gets its whole night."""
    start, end = reading.start, reading.end
    if start is None:
        if where.night is None:
            raise UnreadableFile("no observing night: the path is not YYYY-MM/DD/<dir>/<file> "
                                 "and the header has no usable date")
        cards.flag(IngestFlag.DATE_FROM_DIRECTORY)
        start = night_start(where.night)
        return where.night, start, start + timedelta(days=1)
    if end is None or end < start:
        end = start + timedelta(seconds=reading.exptime or 0)
    return where.night or night_of(start), start, end


def _position(cards: Cards, reading: Reading, shape: tuple[int, ...]):
    """((ra, dec) or None, s_fov, s_region) as the module docstring describes."""
    wcs = celestial_wcs(cards)
    image = reading.dataproduct_type == "image"
    region = None
    if wcs is not None and image and wcs.usable and len(shape) >= 2 and shape[0] and shape[1]:
        centre = wcs.world((shape[0] + 1) / 2, (shape[1] + 1) / 2)
        region = wcs.corners(shape)
    elif wcs is not None:
        centre = wcs.crval
    else:
        centre = pointing_from_cards(cards)
    if centre is None:
        cards.flag(IngestFlag.NO_COORDINATES)
        return None, reading.slit_length if not image else None, None
    centre = _normalised(centre)
    if not image:
        return centre, reading.slit_length, None
    if region is None and reading.field_size:
        radius = math.hypot(*reading.field_size) / 2
        region = circle(*centre, radius)
        return centre, 2 * radius, counter_clockwise(region, centre)
    if region is None:
        return centre, None, None
    return centre, diameter(region), counter_clockwise(region, centre)


def _normalised(point: tuple[float, float]) -> tuple[float, float]:
    ra = point[0] % 360.0
    return (0.0 if ra >= 360.0 else ra), max(-90.0, min(90.0, point[1]))


@dataclass(frozen=True)
class FrameWcs:
    """The celestial WCS of an image frame, as its cutouts are cut (SODA): ``derived`` when the
    header had none and it was made from the pointing and the instrument's plate scale."""

    wcs: Wcs
    derived: bool


def frame_wcs(header, rel_path: str, shape: tuple[int, ...]) -> FrameWcs | None:
    """The sky WCS of the image frame at ``rel_path``: the header's (primary, else Lick's
    alternate ``S``) when usable; else a TAN WCS centred on the pointing (the WCS reference point
    or the RA/DEC cards) with the instrument's plate scale (its field size over the pixels),
    north up and east left, the cameras' usual orientation. None for spectra and for frames
    without a position or a known plate scale.

    ``header`` is what :func:`ingest.fitsread.read_primary_header` read; ``shape`` is (NAXIS1,
    NAXIS2).
    """
    where = ArchivePath.parse(rel_path)
    cards = Cards(header)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        reading = instrument_for(cards, where).read(cards, where)
        if reading.dataproduct_type != "image" or len(shape) < 2 or not shape[0] or not shape[1]:
            return None
        found = celestial_wcs(cards)
        if found is not None and found.usable:
            return FrameWcs(found, derived=False)
        pointing = found.crval if found is not None else pointing_from_cards(cards)
    if pointing is None or not reading.field_size:
        return None
    scale = reading.field_size[1] / shape[1]  # along NAXIS2, which no overscan columns widen
    if not 1e-8 < scale < 1.0:
        return None
    centre = ((shape[0] + 1) / 2, (shape[1] + 1) / 2)
    return FrameWcs(Wcs(centre, _normalised(pointing), (-scale, 0.0, 0.0, scale)), derived=True)
