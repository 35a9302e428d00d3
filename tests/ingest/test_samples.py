"""Every real header sample, mapped: the extracted values, one by one.

Expected values are read off the sample headers by hand (see each comment); positions of images
with a WCS are checked against astropy's own WCS, times to a second, positions to an arcsecond.
"""
from __future__ import annotations

import warnings
from datetime import date, datetime, timezone

import pytest
from astropy.io import fits
from astropy.wcs import WCS

from ingest.flags import IngestFlag as F
from ingest.mapping import map_file
from ingest.nights import mjd

ARCSEC = 1 / 3600
SECOND = 1 / 86400
NM = 1e-9


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=timezone.utc)


def hms(h, m, s):
    return (h + m / 60 + s / 3600) * 15


def dms(d, m, s, sign=1):
    return sign * (d + m / 60 + s / 3600)


def _precessed(ra, dec, equinox):
    """ICRS of FK5 coordinates at the equinox of the date (2006-2012 pointing cards)."""
    import astropy.units as u
    from astropy.coordinates import FK5, ICRS, SkyCoord
    from astropy.time import Time

    icrs = SkyCoord(ra * u.deg, dec * u.deg, frame=FK5(equinox=Time(equinox, format="jyear"))).transform_to(ICRS())
    return icrs.ra.deg, icrs.dec.deg


# key: expected values. 'start'/'end' are UTC; 'pos' is (ra, dec) degrees or None; 'pos': 'wcs'
# means the image centre computed by astropy.wcs; 'em' is (min, max) in nm.
EXPECTED = {
    "apf_1": dict(  # 2019 APF science: TOBJECT, DECKRNAM, DATE-BEG/DATE-END
        night=date(2019, 5, 23), telescope="APF", instrument="APF Levy", product="spectrum",
        frame_type="science", target="HR4515", start="2019-05-24T04:04:19.13",
        end="2019-05-24T04:04:23.10", exptime=3.97, pos=(hms(11, 45, 17.0), dms(8, 15, 29.2)),
        airmass=1.148, decker="W (1.00:3.0)", slit="W (1.00:3.0)", em=(374, 970),
        s_fov=3.0 * ARCSEC, observer="ucb-blo", program=None, flags=F.NO_END_CARD),
    "apf_2": dict(  # 2011 commissioning: DATE-STA (here UTC), OBSTYPE DARK, 0 s; RA/DEC of 2009.2
        night=date(2011, 5, 18), telescope="APF", instrument="APF Levy", frame_type="bias",
        target="Baseline", start="2011-05-19T17:20:36", exptime=0.0,
        pos=_precessed(hms(0, 29, 43), 0.0, 2009.199951), decker=None, observer="Radovan", flags=F.NO_END_CARD),
    "kast_blue_1": dict(  # 2019 dome flat: flat lamp 5 on; two OBSTYPE cards
        night=date(2019, 5, 2), telescope="Shane", instrument="Kast Blue", product="spectrum",
        frame_type="flat", target="blue flat", start="2019-05-03T01:03:06.50",
        end="2019-05-03T01:03:56.50", exptime=50.0, pos=(114.4820175171, 37.41376113892),
        airmass=1.0, grism="600/4310", grating=None, dichroic="d55", slit="0.5 arcsec",
        decker="Spect", filters=None, em=(330, 550), s_fov=145 * ARCSEC, observer="Rich",
        program=None, flags=F.NO_END_CARD | F.REPEATED_CARD),
    "kast_blue_2": dict(  # 2006 old header: INSTRUME=KAST, SPSIDE=blue, EXPOSURE, no lamps
        night=date(2006, 8, 17), instrument="Kast Blue", frame_type="science",
        target="sn2006eb uv", start="2006-08-18T10:31:16", exptime=2400.0,
        pos=(hms(1, 14, 16.9), dms(0, 0, 31.0)), airmass=None, grism="600/4310", dichroic="d55",
        slit="2 arcsec", decker="finger", observer="Moore, Steele", program=None,
        flags=F.NO_END_CARD | F.NO_LAMP_CARDS),
    "kast_blue_3": dict(  # 2012: right-justified strings, DATE-STA in local PST, OBSTYPE DARK
        night=date(2012, 1, 18), instrument="Kast Blue", frame_type="bias", target="Bias",
        start="2012-01-19T00:58:14.73", exptime=0.0, pos=(hms(0, 42, 48.9), dms(37, 20, 25.0)),
        grism="830/3460", dichroic="d46", slit="2.0 arcsec", em=(320, 460),
        observer="Bennert Rosen Pancoast", flags=F.NO_END_CARD),
    "kast_blue_4": dict(  # 2018 arc: line lamps G and J on
        night=date(2018, 11, 16), instrument="Kast Blue", frame_type="arc", target="arc_2",
        start="2018-11-17T03:08:07.58", end="2018-11-17T03:08:52.58", exptime=45.0,
        pos=(341.3089294434, 37.27571105957), grism="452/3306", dichroic="d57",
        slit="2.0 arcsec", em=(320, 560), observer="Thomas Brink",
        flags=F.NO_END_CARD | F.REPEATED_CARD),
    "kast_red_1": dict(  # 2019 science
        night=date(2019, 5, 2), instrument="Kast Red", frame_type="science", target="AT2019 ehk",
        start="2019-05-03T04:22:58.46", end="2019-05-03T04:32:58.46", exptime=600.0,
        pos=(185.7337799072, 15.82609844208), airmass=1.139999985695, grating="600/7500",
        grism=None, dichroic="d55", slit="2.0 arcsec", em=(550, 1000),
        observer="Jiani Ding, Minghao Yue", program=None, flags=F.NO_END_CARD | F.REPEATED_CARD),
    "kast_red_2": dict(  # 2012: no lamp cards, OBJECT says flat; DATE-STA in UTC here
        night=date(2012, 1, 2), instrument="Kast Red", frame_type="flat", target="IR flat",
        start="2012-01-03T06:12:31.11", exptime=1.0, pos=(hms(1, 42, 48.5), dms(29, 22, 13.0)),
        airmass=1.31, grating="300/7500", dichroic="d55", em=(550, 1100), observer="Silverman",
        flags=F.NO_END_CARD | F.NO_LAMP_CARDS),
    "kast_red_3": dict(  # 2018 arc
        night=date(2018, 11, 16), instrument="Kast Red", frame_type="arc", target="arc_05",
        start="2018-11-17T03:15:20.54", exptime=10.0, pos=(343.1081542969, 37.27479171753),
        grating="300/7500", dichroic="d57", slit="0.5 arcsec", em=(570, 1100),
        flags=F.NO_END_CARD | F.REPEATED_CARD),
    "kast_red_4": dict(  # 2006 old header: arc named in OBJECT
        night=date(2006, 8, 17), instrument="Kast Red", frame_type="arc", target="IR arc R2",
        start="2006-08-18T10:16:20", exptime=1.0, pos=(hms(23, 38, 48.7), dms(20, 40, 6.0, -1)),
        grating="300/7500", slit="2 arcsec", flags=F.NO_END_CARD | F.NO_LAMP_CARDS),
    "kast_red_5": dict(  # 2019 short DARK header: no OBJECT, no position, time from DATE
        night=date(2019, 12, 16), instrument="Kast Red", frame_type="bias", target=None,
        start="2019-12-17T01:00:59.73", exptime=0.2, pos=None, grating=None, em=None,
        flags=F.NO_END_CARD | F.NO_OBJECT | F.NO_COORDINATES),
    "kast_red_6": dict(  # 2007 old header: RA seconds written as 60.0
        night=date(2007, 8, 10), instrument="Kast Red", frame_type="flat", target="flat",
        start="2007-08-11T00:59:09", exptime=1.0, pos=(hms(14, 12, 0), dms(37, 25, 57.0)),
        grating="300/7500", decker="open", observer="Childress, Thomas",
        flags=F.NO_END_CARD | F.NO_LAMP_CARDS),
    "kast_red_8": dict(  # 2012 file with an END card: no flag for it
        night=date(2012, 1, 18), instrument="Kast Red", frame_type="arc", target="Arc",
        start="2012-01-19T00:54:16.31", exptime=3.0,
        pos=(hms(0, 38, 52.5), dms(37, 20, 26.0)), airmass=1.0, grating="600/5000",
        dichroic="d46", slit="0.5 arcsec", em=(460, 750), flags=F.NO_LAMP_CARDS),
    "nickel_direct_1": dict(  # 2019 bias
        night=date(2019, 5, 6), telescope="Nickel", instrument="Nickel Direct", product="image",
        frame_type="bias", target="Bias", start="2019-05-07T04:14:46.33", exptime=0.0,
        pos="wcs", airmass=1.00080704689, filters="B", aperture="Open", em=(390, 490),
        xel=(1056, 1024), observer="Matthew Salinas, Jonathan Hood, Tatiana Gibson",
        program=None, flags=F.NO_END_CARD),
    "nickel_direct_2": dict(  # OBSTYPE DARK, 15 s, though OBJECT says 'morning flats'
        night=date(2019, 5, 13), instrument="Nickel Direct", frame_type="dark",
        target="morning flats", start="2019-05-14T18:00:03.91", exptime=15.0, pos="wcs",
        filters="V", em=(500, 600), flags=F.NO_END_CARD),
    "nickel_direct_3": dict(
        night=date(2019, 5, 24), instrument="Nickel Direct", frame_type="focus",
        target="Focusing 14", start="2019-05-25T07:28:38.48", exptime=80.13, pos="wcs",
        end="2019-05-25T07:31:58.53",  # DATE-END: a focus run spans more than EXPTIME
        airmass=1.038442492485, filters="V", flags=F.NO_END_CARD),
    "nickel_direct_5": dict(  # 2012, RA/DEC removed; DATE-STA in local PST
        night=date(2012, 1, 25), instrument="Nickel Direct", frame_type="science", target="m67",
        start="2012-01-26T07:07:32.63", exptime=20.0, pos=None,
        s_fov=None, airmass=1.19, filters="V", observer="Daniel Cohen, BY Choi",
        flags=F.NO_END_CARD | F.NO_COORDINATES),
    "nickel_direct_6": dict(  # DATE-OBS and DATE removed: DATE-BEG still there
        night=date(2018, 6, 24), instrument="Nickel Direct", frame_type="flat", target="dflat",
        start="2018-06-25T02:37:11.13", exptime=3.0, pos="wcs", filters="V",
        flags=F.NO_END_CARD),
    "nickel_spectrograph_1": dict(  # '''nickel_spectrograph' (stray quote); DATE-STA in PST
        night=date(2006, 12, 6), telescope="Nickel", instrument="Nickel Spectrograph",
        product="spectrum", frame_type="arc", target="neon lamp", start="2006-12-07T05:09:04.77",
        exptime=2.0, pos=(hms(0, 15, 1.8), dms(20, 15, 2.0)), grating="2", aperture="A9",
        filters=None, em=None, observer="S. Browne",
        flags=F.NO_END_CARD),
    "nickel_spectrograph_2": dict(  # OBJECT 'bias' but a 30 s open exposure: contradictory
        night=date(2007, 4, 24), instrument="Nickel Spectrograph", frame_type="unknown",
        target="bias", start="2007-04-25T03:08:54.00", exptime=30.0,
        pos=(hms(9, 14, 45.8), dms(7, 31, 40.0, -1)), filters="U", aperture="A1 - 2.9 arcsec",
        flags=F.NO_END_CARD),
    "nickel_spectrograph_3": dict(  # DATE-STA in PDT (UTC-7)
        night=date(2007, 3, 29), instrument="Nickel Spectrograph", frame_type="arc", target="Hg",
        start="2007-03-30T10:35:36.52", exptime=2.0, flags=F.NO_END_CARD),
    "nickel_spectrograph_5": dict(
        night=date(2006, 9, 20), instrument="Nickel Spectrograph", frame_type="flat",
        target="flat field lamp", start="2006-09-21T09:21:18.97", exptime=25.0,
        flags=F.NO_END_CARD),
    "nickel_villages_1": dict(  # VERSION=villages; SCFIL 900/40; DATE-STA in PDT
        night=date(2008, 4, 16), telescope="Nickel", instrument="Nickel Villages", product="image",
        frame_type="science", target="Bet Gem", start="2008-04-17T05:34:46.94", exptime=5.0,
        pos=(hms(22, 41, 13.4), dms(39, 58, 43.0)), filters="900/40", em=(880, 920),
        observer=None, flags=F.NO_END_CARD),
    "sharcs_1": dict(  # 2019: DATE-BEG good, DATE-OBS stale (2007); Blank25 in: a dark
        night=date(2019, 4, 16), telescope="Shane", instrument="ShaneAO/ShARCS", product="image",
        frame_type="dark", target="G_258-33", start="2019-04-17T12:47:54.307", exptime=2.90958,
        pos="wcs", airmass=1.00060259, filters="BrG-2.16", grism=None, aperture="Pinhole-100um",
        em=(2150, 2180), program="2019A_S014", cover_id="4662", observer="Robertson",
        xel=(2048, 2048), flags=F.NO_END_CARD),
    "sharcs_2": dict(  # 2014: no DATE-BEG, DATE-OBS on the night; 10 coadds; K grism
        night=date(2014, 5, 20), instrument="ShaneAO/ShARCS", frame_type="flat",
        target="domeflats", start="2014-05-20T22:49:25.515", exptime=0.9797,
        pos=(hms(8, 37, 44.74), dms(37, 22, 13.2)), filters="K", grism="CaF-Kgrism",
        aperture="Slit-100um-H", program="Keplertargets", cover_id=None, xel=(90, 100),
        s_fov=((90 ** 2 + 100 ** 2) ** 0.5) * 0.033 * ARCSEC,
        flags=F.NO_END_CARD | F.DATE_BEG_UNUSABLE | F.DATE_OBS_USED),
    "sharcs_3": dict(
        night=date(2018, 11, 20), instrument="ShaneAO/ShARCS", frame_type="science",
        target="Seeing", start="2018-11-21T07:56:19.755", exptime=2.90958, pos="wcs",
        filters="BrG-2.16", aperture="Open", program="Seeing", observer="G. Duchene",
        flags=F.NO_END_CARD),
    "sharcs_4": dict(
        night=date(2019, 1, 22), instrument="ShaneAO/ShARCS", frame_type="dark",
        target="alignment", start="2019-01-22T22:19:34.384", exptime=1.45479, pos="wcs",
        program="transit planet follow up", flags=F.NO_END_CARD),
    "sharcs_5": dict(  # 2014 commissioning: CALYNAM 'Red Light' is an arc; no RA/DEC
        night=date(2014, 4, 16), instrument="ShaneAO/ShARCS", frame_type="arc",
        target="K6021275", start="2014-04-16T22:32:10.004", exptime=14.5479, pos=None,
        grism="CaF-Kgrism", filters="K", aperture="Home", program="commissioning1",
        flags=F.NO_END_CARD | F.DATE_BEG_UNUSABLE | F.DATE_OBS_USED | F.NO_COORDINATES),
    "sharcs_6": dict(  # 2014 short header: no OBJECT, no lamps, no position
        night=date(2014, 5, 20), instrument="ShaneAO/ShARCS", frame_type="unknown", target=None,
        start="2014-05-20T23:15:39.078", exptime=0.19594, pos=None,
        flags=(F.NO_END_CARD | F.NO_LAMP_CARDS | F.DATE_BEG_UNUSABLE | F.DATE_OBS_USED
               | F.NO_OBJECT | F.NO_COORDINATES)),
}

_FIELDS = {  # expected key -> ObservationMetadata attribute
    "telescope": "telescope", "instrument": "instrument", "product": "dataproduct_type",
    "frame_type": "frame_type", "target": "target_name", "airmass": "airmass",
    "filters": "filters", "grating": "grating", "grism": "grism", "slit": "slit",
    "dichroic": "dichroic", "decker": "decker", "aperture": "aperture", "observer": "observer",
    "program": "program", "cover_id": "cover_id", "night": "observing_night",
}


def test_every_sample_has_expectations(samples):
    assert set(samples) == set(EXPECTED)


@pytest.fixture(scope="module")
def mapped(sample_archive):
    root, paths = sample_archive
    return {key: map_file(path, root) for key, path in paths.items()}


@pytest.mark.parametrize("key", sorted(EXPECTED))
def test_sample(key, mapped, samples):
    meta, expected = mapped[key], EXPECTED[key]
    for name, attribute in _FIELDS.items():
        if name in expected:
            value = expected[name]
            assert getattr(meta, attribute) == (pytest.approx(value) if isinstance(value, float) else value), name
    start = utc(expected["start"])
    assert meta.date_obs == start  # to the microsecond: the header's full precision
    assert meta.t_min == pytest.approx(mjd(start), abs=SECOND)
    end = utc(expected["end"]) if "end" in expected else None
    assert meta.t_max == pytest.approx(mjd(end) if end else meta.t_min + expected["exptime"] / 86400,
                                       abs=SECOND)
    assert meta.t_exptime == pytest.approx(expected["exptime"])
    assert meta.ingest_flags == int(expected["flags"]), F(meta.ingest_flags).names()
    if "em" in expected:
        if expected["em"] is None:
            assert meta.em_min is None and meta.em_max is None
        else:
            assert (meta.em_min, meta.em_max) == pytest.approx(tuple(w * NM for w in expected["em"]))
    if "s_fov" in expected:
        assert meta.s_fov == (pytest.approx(expected["s_fov"]) if expected["s_fov"] else None)
    if "xel" in expected:
        assert (meta.s_xel1, meta.s_xel2) == expected["xel"]
    _check_position(meta, expected.get("pos", "any"), samples[key].cards)
    assert meta.obs_id == samples[key].rel_path.removesuffix(".fits")
    assert meta.file_path == samples[key].rel_path
    assert meta.calib_level == 1
    assert meta.header.splitlines()[0].startswith("SIMPLE  =")
    assert all(len(line) <= 80 and line == line.rstrip() for line in meta.header.splitlines())


def _check_position(meta, expected, cards: bytes):
    if expected == "any":
        assert (meta.s_ra is None) == (meta.s_dec is None)
        return
    if expected is None:
        assert meta.s_ra is None and meta.s_dec is None
        return
    if expected == "wcs":  # the image centre, by astropy's WCS
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            header = fits.Header.fromstring(cards.decode("ascii"))
            wcs = WCS(header, naxis=2)
            ra, dec = wcs.all_pix2world([[(header["NAXIS1"] + 1) / 2, (header["NAXIS2"] + 1) / 2]], 1)[0]
            corners = wcs.calc_footprint(header)
        expected = (ra, dec)
        assert meta.s_region is not None and len(meta.s_region) == 4
        for corner in corners:
            assert min(_distance(corner, v) for v in meta.s_region) < ARCSEC
    assert meta.s_ra == pytest.approx(expected[0] % 360, abs=ARCSEC)
    assert meta.s_dec == pytest.approx(expected[1], abs=ARCSEC)
    assert 0 <= meta.s_ra < 360


def _distance(a, b):
    from ingest.instruments.sky import separation
    return separation(tuple(a), tuple(b))
