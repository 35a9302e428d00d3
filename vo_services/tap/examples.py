"""Example queries of this archive, served at /tap/examples (DALI 1.1 §2.3) and on /tap.

Every example runs against the real schema; a test executes each one.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Example:
    id: str
    name: str
    description: str
    query: str
    tables: tuple[str, ...]


EXAMPLES = (
    Example(
        "cone", "Observations around a position",
        "Every observation within half a degree of RA 150, Dec 20, nearest first; the spatial index "
        "answers the CONTAINS.",
        "SELECT TOP 100 obs_id, target_name, instrument_name, t_min, t_exptime,\n"
        "       DISTANCE(POINT('ICRS', s_ra, s_dec), POINT('ICRS', 150, 20)) AS dist\n"
        "FROM ivoa.obscore\n"
        "WHERE 1 = CONTAINS(POINT('ICRS', s_ra, s_dec), CIRCLE('ICRS', 150, 20, 0.5))\n"
        "ORDER BY dist",
        ("ivoa.obscore",),
    ),
    Example(
        "standard-star", "Kast spectra of a standard star",
        "Science spectra of Feige 110 taken with Kast, matched case-insensitively on the name the "
        "observers typed.",
        "SELECT obs_id, instrument, date_obs, exptime, grating, grism, dichroic, slit\n"
        "FROM lick.observations\n"
        "WHERE instrument LIKE 'Kast%' AND frame_type = 'science'\n"
        "  AND target_name ILIKE '%feige%110%'\n"
        "ORDER BY date_obs",
        ("lick.observations",),
    ),
    Example(
        "night-calibrations", "The calibration frames of one night",
        "Bias, flat and arc frames that go with one night's science frames on the Shane telescope.",
        "SELECT obs_id, instrument, frame_type, target_name, exptime, grating, grism, slit\n"
        "FROM lick.observations\n"
        "WHERE telescope = 'Shane' AND frame_type IN ('bias', 'flat', 'arc')\n"
        "  AND observing_night = '2019-05-02'\n"
        "ORDER BY instrument, date_obs",
        ("lick.observations",),
    ),
    Example(
        "holdings", "Files per instrument and kind of data",
        "An overview of the holdings that you may see.",
        "SELECT instrument_name, dataproduct_type, COUNT(*) AS n_files,\n"
        "       MIN(t_min) AS first_mjd, MAX(t_max) AS last_mjd\n"
        "FROM ivoa.obscore\n"
        "GROUP BY instrument_name, dataproduct_type\n"
        "ORDER BY instrument_name",
        ("ivoa.obscore",),
    ),
    Example(
        "nickel-images", "Nickel images in one filter and time range",
        "Direct images taken through the R filter in 2019 (t_min is MJD).",
        "SELECT o.obs_publisher_did, o.target_name, o.s_ra, o.s_dec, l.filters, l.airmass\n"
        "FROM ivoa.obscore AS o\n"
        "JOIN lick.observations AS l ON l.obs_publisher_did = o.obs_publisher_did\n"
        "WHERE o.instrument_name = 'Nickel Direct' AND l.filters = 'R'\n"
        "  AND o.t_min BETWEEN 58484 AND 58849",
        ("ivoa.obscore", "lick.observations"),
    ),
)
