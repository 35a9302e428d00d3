"""What a FITS file says about its observation: the file-derived columns of ``lick.observation``.

The writer (:mod:`ingest.store`) adds what does not come from the file's content: the row id, the
publisher DID, the release date and access, the file's size, mtime and checksum, the ingest time.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime


@dataclass(frozen=True)
class ObservationMetadata:
    # ObsCore
    obs_id: str  # archive path without the .fits / .fits.gz suffix, e.g. 2019-05/02/shane/b607
    dataproduct_type: str  # 'image' or 'spectrum'
    calib_level: int
    target_name: str | None
    s_ra: float | None  # ICRS degrees, [0, 360)
    s_dec: float | None  # ICRS degrees
    s_fov: float | None  # degrees: the footprint's diameter (images) or the slit length (spectra)
    s_region: list[tuple[float, float]] | None  # (ra, dec) vertices in degrees, counter-clockwise
    s_xel1: int | None
    s_xel2: int | None
    t_min: float | None  # MJD, UTC
    t_max: float | None  # MJD, UTC
    t_exptime: float | None  # seconds
    em_min: float | None  # metres
    em_max: float | None  # metres
    em_xel: int | None
    instrument_name: str
    facility_name: str
    # Lick
    telescope: str  # 'Shane', 'Nickel', 'APF' or 'Unknown'
    instrument: str  # 'Kast Blue', 'Nickel Direct', 'ShaneAO/ShARCS', ..., 'Unknown'
    frame_type: str  # science, bias, dark, flat, arc, focus, unknown
    observing_night: date  # local date at the start of the night (noon to noon, UTC-8)
    date_obs: datetime | None  # start of the exposure, aware UTC
    filters: str | None
    grating: str | None
    grism: str | None
    slit: str | None
    dichroic: str | None
    decker: str | None
    aperture: str | None
    airmass: float | None
    observer: str | None
    program: str | None
    cover_id: str | None
    ingest_flags: int
    header: str  # the primary header, one card a line, right-stripped, without END
    file_path: str  # relative to the archive root
