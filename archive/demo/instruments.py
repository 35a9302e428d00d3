"""The instruments of the demo archive and how each one's headers are filled in.

A :class:`Camera` writes one stream of files (Kast has two, blue and red, exposing together); a
:class:`Setup` is an observing mode on a telescope: which cameras, which calibrations observers
take, which targets they point at and for how long. Everything per instrument is data here; the
night planner and the writer are shared.
"""
from __future__ import annotations

import math
import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from archive.demo.exposure import Exposure
from archive.demo.header import NEWCAM, NEWCAM_2007, SHARCS, FloatStyle, HeaderTemplate, template
from archive.demo.sky import airmass, altitude, hour_angle, sexagesimal


def iso(moment: datetime, decimals: int) -> str:
    """``2019-05-03T04:22:58.46``: the NEWCAM style has 2 decimals, ShARCS 3."""
    unit = 10 ** (6 - decimals)  # microseconds per last digit
    moment += timedelta(microseconds=unit // 2)  # round, carrying into the seconds
    text = moment.strftime("%Y-%m-%dT%H:%M:%S")
    return f"{text}.{moment.microsecond // unit:0{decimals}d}" if decimals else text


@dataclass(frozen=True)
class CoordStyle:
    """How a system printed RA (hours), DEC and HA; see :func:`sky.sexagesimal` for ``pad``."""

    ra_decimals: int = 2
    dec_decimals: int = 1
    ha_decimals: int = 2
    dec_pad: str = "0"
    ha_pad: str = ""
    ha_signed: bool = False  # '+00:17:32.7' in the 2006 Kast headers

    def cards(self, ra: float, dec: float, ha: float) -> dict[str, str]:
        return {
            "RA": sexagesimal(ra / 15.0, decimals=self.ra_decimals),
            "DEC": sexagesimal(dec, decimals=self.dec_decimals, pad=self.dec_pad),
            "HA": sexagesimal(ha, decimals=self.ha_decimals, pad=self.ha_pad, signed=self.ha_signed),
        }


@dataclass(frozen=True)
class HeaderFormat:
    """How a camera's software wrote headers from ``since`` on: the sample and its value styles."""

    template_file: str
    since: date = date.min
    floats: FloatStyle = NEWCAM
    coords: CoordStyle = CoordStyle()
    time_decimals: int = 2
    #: Whether CRVAL1/2 are sky coordinates (2018+ NEWCAM, ShARCS) or pixel origins (older NEWCAM).
    celestial_wcs: bool = True
    #: 2006-2012 NEWCAM wrote DATE-STA/DATE-END in local PST (DATE-OBS stayed UTC).
    local_start_end: bool = False

    @property
    def template(self) -> HeaderTemplate:
        return template(self.template_file, self.floats)

    @property
    def bitpix(self) -> int:
        return int(self.template.number("BITPIX"))

    @property
    def bzero(self) -> float:
        return self.template.number("BZERO") if self.template.has("BZERO") else 0.0


@dataclass(frozen=True)
class Camera:
    """One stream of files: header formats over the years, file names, data shape, own cards."""

    key: str
    name: str
    directory: str
    formats: tuple[HeaderFormat, ...]  # oldest first
    file_name: str  # str.format pattern with ``n`` (frame number) and ``prefix``
    shape: tuple[int, int]  # numpy order: (NAXIS2, NAXIS1)
    dataproduct: str  # "spectrum" | "image"
    #: Airmass at the end of the exposure (APF) rather than at the start.
    airmass_at_end: bool = False
    extra: Callable[[Exposure, int], dict[str, object]] | None = None
    #: Where a night's frame numbers start: observers reset the counter, or forget to.
    first_numbers: tuple[int, ...] = (1, 1, 1, 100, 1001)

    def format(self, night: date) -> HeaderFormat:
        return [f for f in self.formats if f.since <= night][-1]

    def cards(self, exposure: Exposure, number: int) -> dict[str, object]:
        """The values that change from frame to frame; the template supplies the rest."""
        fmt = self.format(exposure.night)
        start, end = exposure.start, exposure.end
        readout = end + timedelta(seconds=1.5)
        values: dict[str, object] = {
            "NAXIS1": self.shape[1], "NAXIS2": self.shape[0],
            "DATASEC": f"[1:{self.shape[1]},1:{self.shape[0]}]",
            "OBSNUM": number,
            "TSEC": int(readout.timestamp()), "TUSEC": readout.microsecond,
            "DATE": iso(readout, fmt.time_decimals),
            "DATE-OBS": iso(start, fmt.time_decimals),
            "DATE-BEG": iso(start, fmt.time_decimals),
            "DATE-END": iso(end, fmt.time_decimals),
            "TIME": iso(start, 1)[11:],
            "EXPTIME": float(exposure.exptime),
            "EXPOSURE": round(exposure.exptime),
            "OBSTYPE": "DARK" if exposure.frame_type in ("bias", "dark") else "OBJECT",
            "OBJECT": exposure.object,
            "OBSERVER": exposure.observer,
            "EQUINOXU": start.year + (start.timetuple().tm_yday - 1) / 365.25,
        }
        if fmt.local_start_end:
            values["DATE-STA"] = iso(start - timedelta(hours=8), 1)
            values["DATE-END"] = iso(end - timedelta(hours=8), 1)
        ha = hour_angle(exposure.ra, start)
        alt = altitude(exposure.ra, exposure.dec, end if self.airmass_at_end else start)
        values.update(fmt.coords.cards(exposure.ra, exposure.dec, ha))
        values["AIRMASS"] = airmass(alt)
        if fmt.celestial_wcs:
            values.update({"CRVAL1": exposure.ra, "CRVAL2": exposure.dec,
                           "CRVAL1S": exposure.ra, "CRVAL2S": exposure.dec})
        values.update(exposure.cards)
        if self.extra:
            values.update(self.extra(exposure, number))
        return values


@dataclass(frozen=True)
class CalStep:
    """A block of calibration frames, with the OBJECT spellings observers really type."""

    frame_type: str
    objects: tuple[str, ...]
    exptime: float
    count: int
    cards: Mapping[str, object] = field(default_factory=dict)


@dataclass(frozen=True)
class Setup:
    """An observing mode: the cameras, the calibrations and the science a night on it holds."""

    key: str
    telescope: str
    cameras: tuple[Camera, ...]
    afternoon: tuple[CalStep, ...]
    #: Science exposure times by target kind; the kinds observed in this mode.
    exptimes: Mapping[str, tuple[float, float]]
    twilight: tuple[CalStep, ...] = ()
    morning: tuple[CalStep, ...] = ()
    visit: tuple[int, int] = (1, 3)  # exposures per target visit
    readout: float = 40.0  # seconds between exposures
    acquire: float = 240.0  # seconds to slew and acquire a new target
    idle: Mapping[str, object] = field(default_factory=dict)  # lamp states when nothing is on
    night_config: Callable[[random.Random], dict[str, object]] = lambda rng: {}
    visit_config: Callable[[random.Random], dict[str, object]] = lambda rng: {}
    unscheduled_observer: str = "Lick staff"


# --- Kast ------------------------------------------------------------------------------------

_KAST_LAMPS = {f"LAMPSTA{c}": "off" for c in "12345ABCDEFGHIJK"}
#: He, Hg-Cd, Neon and Ar: the usual Kast arc set.
_KAST_ARCS = {"LAMPSTAF": "on", "LAMPSTAG": "on", "LAMPSTAJ": "on", "LAMPSTAD": "on"}


def _kast_night(rng: random.Random) -> dict[str, object]:
    return {
        "GRISM_N": rng.choice(("600/4310", "600/4310", "452/3306", "830/3460")),
        "GRATNG_N": rng.choice(("300/7500", "600/7500", "600/7500", "1200/5000")),
        "GRTILT_P": rng.randrange(10750, 10850, 2) if rng.random() < 0.8 else rng.randrange(2300, 4700),
        "BSPLIT_N": rng.choice(("d55", "d55", "d57", "d46")),
        "SLIT_N": rng.choice(("1.0 arcsec", "2.0 arcsec", "2.0 arcsec", "0.5 arcsec", "1.5 arcsec")),
    }


#: The 2006-2012 NEWCAM style: right-justified strings, ``%f`` numbers, no sky WCS.
_NEWCAM_2012 = {"floats": NEWCAM_2007, "celestial_wcs": False, "local_start_end": True,
                "coords": CoordStyle(ra_decimals=1, ha_decimals=1, ha_pad="0")}
_NEWCAM_SINCE = date(2008, 7, 1)  # approximate: the 2006-2007 samples are KAST, the 2012 ones NEWCAM
#: Before NEWCAM, the KAST program: INSTRUME='KAST', SPSIDE, EXPOSURE, no lamp cards.
_KAST_PROGRAM = {"time_decimals": 1, "celestial_wcs": False,
                 "coords": CoordStyle(ra_decimals=1, ha_decimals=1, ha_pad="0", ha_signed=True)}
_MODERN = date(2018, 1, 1)  # the samples from 2018 on have the sky WCS and two OBSTYPE cards

KAST_BLUE = Camera("kast_blue", "Kast Blue", "shane", (
    HeaderFormat("kast_blue_2.hdr.txt", **_KAST_PROGRAM),
    HeaderFormat("kast_blue_3.hdr.txt", since=_NEWCAM_SINCE, **_NEWCAM_2012),
    HeaderFormat("kast_blue_1.hdr.txt", since=_MODERN),
), "b{n}.fits", (16, 256), "spectrum")
KAST_RED = Camera("kast_red", "Kast Red", "shane", (
    HeaderFormat("kast_red_4.hdr.txt", **_KAST_PROGRAM),
    HeaderFormat("kast_red_2.hdr.txt", since=_NEWCAM_SINCE, **_NEWCAM_2012),
    HeaderFormat("kast_red_1.hdr.txt", since=_MODERN),
), "r{n}.fits", (16, 256), "spectrum")

KAST = Setup(
    key="kast", telescope="Shane", cameras=(KAST_BLUE, KAST_RED),
    afternoon=(
        CalStep("bias", ("bias", "Bias", "biases"), 0, 10),
        CalStep("flat", ("dome flat", "flat", "domeflat blue"), 15, 5, {"LAMPSTA5": "on"}),
        CalStep("flat", ("dome flat", "flat", "domeflat red"), 4, 5, {"LAMPSTA2": "on"}),
        CalStep("arc", ("arc", "arcs", "HeHgCd arc"), 20, 3, _KAST_ARCS),
    ),
    morning=(CalStep("arc", ("arc", "arcs morning"), 20, 1, _KAST_ARCS),),
    exptimes={"standard": (30, 180), "galaxy": (600, 1800), "transient": (300, 1800), "field": (300, 1200)},
    visit=(1, 3), readout=45, acquire=300, idle=_KAST_LAMPS, night_config=_kast_night,
)

# --- Nickel ----------------------------------------------------------------------------------

NICKEL_DIRECT_CAMERA = Camera("nickel_direct", "Nickel Direct", "nickel",
                              (HeaderFormat("nickel_direct_2.hdr.txt"),), "d{n}.fits", (64, 64), "image")
#: Only 2006-2007 spectrograph headers are known, so every year gets that style.
NICKEL_SPECTROGRAPH_CAMERA = Camera("nickel_spectrograph", "Nickel Spectrograph", "nickel",
                                    (HeaderFormat("nickel_spectrograph_2.hdr.txt", **_NEWCAM_2012),),
                                    "spec{n}.fits", (16, 256), "spectrum")


def _filters(*names: str) -> tuple[CalStep, ...]:
    return tuple(CalStep("flat", (f"sky flat {f}", f"twilight flat {f}", "skyflat"), 8, 3, {"FILTNAM": f})
                 for f in names)


NICKEL_DIRECT = Setup(
    key="nickel_direct", telescope="Nickel", cameras=(NICKEL_DIRECT_CAMERA,),
    afternoon=(CalStep("bias", ("bias", "Bias", "bias frame"), 0, 9),
               CalStep("flat", ("dome flat", "domeflat V"), 10, 5, {"FILTNAM": "V"})),
    twilight=(*_filters("B", "V", "R"),
              CalStep("focus", ("focus", "Focusing 14", "focus run"), 20, 4, {"FILTNAM": "R"})),
    morning=(CalStep("flat", ("morning flats", "sky flat I"), 5, 3, {"FILTNAM": "I"}),),
    exptimes={"standard": (10, 60), "galaxy": (120, 600), "cluster": (30, 300), "field": (60, 300),
              "transient": (120, 600)},
    visit=(2, 5), readout=25, acquire=150,
    visit_config=lambda rng: {"FILTNAM": rng.choice(("B", "V", "R", "I", "V", "R"))},
)

NICKEL_SPECTROGRAPH = Setup(
    key="nickel_spectrograph", telescope="Nickel", cameras=(NICKEL_SPECTROGRAPH_CAMERA,),
    afternoon=(CalStep("bias", ("bias",), 0, 5),
               CalStep("flat", ("dome flat", "flat"), 30, 5),
               CalStep("arc", ("neon lamp", "HgNe lamp", "hg lamp"), 2, 3)),
    exptimes={"standard": (60, 300), "galaxy": (900, 1800), "rvstar": (60, 600)},
    visit=(1, 2), readout=30, acquire=300,
    night_config=lambda rng: {"FILTNAM": "Open",
                              "APERNAM": rng.choice(("A1 - 2.9 arcsec", "A2 - 1.9 arcsec"))},
)

# --- ShARCS ----------------------------------------------------------------------------------


def _sharcs_cards(exposure: Exposure, number: int) -> dict[str, object]:
    """ShARCS times an exposure as TRUITIME x COADDONE and keeps a stale DATE-OBS after 2014."""
    coadds = 1 if exposure.exptime <= 30 else math.ceil(exposure.exptime / 30)
    itime = exposure.exptime / coadds
    true_itime = round(max(itime - 1.09042, itime * 0.7), 5)
    start = exposure.start
    # In 2014 DATE-OBS was right; later files carry a date from the software's 2007 build.
    date_obs = start.strftime("%Y-%m-%d") if exposure.night.year < 2015 else \
        ("2007-11-24" if exposure.night.year % 2 else "2007-06-30")
    return {
        "DATE-OBS": date_obs,
        "TIME-OBS": iso(start, 3)[11:],
        "TIME-END": iso(exposure.end, 3)[11:],
        "RMPSTART": iso(start - timedelta(seconds=1.454), 3),
        "ITIME0": round(itime * 1e6), "ITIME": round(itime * 1000),
        "COADDS0": coadds, "COADDONE": coadds, "TRUITIME": true_itime, "RDITIME": true_itime,
        "DATAFILE": f"s{number - 1:04d}", "FRAMENUM": number,
        "PROGRAM": exposure.program_card,
    }


_SHARCS_FORMAT = HeaderFormat("sharcs_1.hdr.txt", floats=SHARCS, coords=CoordStyle(ha_pad="0"), time_decimals=3)
SHARCS_CAMERA = Camera("sharcs", "ShaneAO/ShARCS", "AO", (_SHARCS_FORMAT,), "s{n:04d}.fits", (32, 32), "image",
                       extra=_sharcs_cards, first_numbers=(0, 0, 1))

SHARCS_SETUP = Setup(
    key="sharcs", telescope="Shane", cameras=(SHARCS_CAMERA,),
    afternoon=(CalStep("dark", ("dark", "darks"), 15, 5, {"FILT2NAM": "Blank25"}),
               CalStep("flat", ("domeflats", "dome flat Ks"), 10, 5, {"LAMPSTA1": "on", "FILT1NAM": "Ks"}),
               CalStep("flat", ("domeflats", "dome flat J"), 10, 5, {"LAMPSTA1": "on", "FILT1NAM": "J"})),
    exptimes={"rvstar": (10, 60), "galaxy": (30, 120), "cluster": (15, 60), "standard": (5, 20)},
    visit=(5, 9), readout=8, acquire=600,
    idle={**_KAST_LAMPS, "FILT2NAM": "Open", "CALYNAM": "Open"},
    night_config=lambda rng: {"APERNAM": rng.choice(("Open", "Open", "Pinhole-100um"))},
    visit_config=lambda rng: {"FILT1NAM": rng.choice(("Ks", "J", "H", "BrG-2.16"))},
)

# --- APF -------------------------------------------------------------------------------------


def _apf_cards(exposure: Exposure, number: int) -> dict[str, object]:
    """APF labels the frame in OBJECT and names the star in TOBJECT; blank on calibrations."""
    midpoint = iso(exposure.start + (exposure.end - exposure.start) / 2, 6)
    values: dict[str, object] = {"TOBJECT": exposure.target_name or "", "THEMIDPT": midpoint,
                                 "AMIDPT": midpoint}
    if exposure.frame_type != "science":
        values["EL"] = 90.0
    else:
        values["EL"] = round(altitude(exposure.ra, exposure.dec, exposure.start), 4)
    return values


_APF_FORMAT = HeaderFormat("apf_1.hdr.txt",
                           coords=CoordStyle(ra_decimals=1, dec_pad=" ", ha_decimals=1, ha_pad=" "))
APF_CAMERA = Camera("apf", "APF Levy", "APF", (_APF_FORMAT,), "{prefix}{n}.fits", (32, 128), "spectrum",
                    airmass_at_end=True, extra=_apf_cards, first_numbers=(100, 178, 236, 512))

_APF_IDLE = {"HALOGEN1": "Off", "HALOGEN2": "Off", "THORIUM1": "Off", "THORIUM2": "Off",
             "CMIRRNAM": "Out", "CSRCNAM": "Halogen Sphere", "ICELNAM": "Out"}
_APF_FLAT = {"HALOGEN1": "On", "HALOGEN2": "On", "CMIRRNAM": "In", "DECKRNAM": "W (1.00:3.0)"}

APF = Setup(
    key="apf", telescope="APF", cameras=(APF_CAMERA,),
    afternoon=(CalStep("bias", ("Bias",), 0, 5),
               CalStep("dark", ("Dark",), 300, 2),
               CalStep("flat", ("WideFlat",), 1, 10, _APF_FLAT),
               CalStep("flat", ("NarrowFlat",), 2, 5, {**_APF_FLAT, "DECKRNAM": "N (0.50:8.0)"}),
               CalStep("arc", ("ThAr",), 4, 3, {"THORIUM1": "On", "CSRCNAM": "ThAr1", "CMIRRNAM": "In",
                                                 "DECKRNAM": "W (1.00:3.0)"}),
               CalStep("flat", ("Iodine",), 10, 2, {**_APF_FLAT, "ICELNAM": "In"})),
    morning=(CalStep("arc", ("ThAr",), 4, 2, {"THORIUM1": "On", "CSRCNAM": "ThAr1", "CMIRRNAM": "In"}),),
    exptimes={"rvstar": (60, 900), "standard": (60, 600)},
    visit=(1, 3), readout=40, acquire=180, idle=_APF_IDLE,
    visit_config=lambda rng: {"ICELNAM": "In", "DECKRNAM": rng.choice(("W (1.00:3.0)", "M (1.00:8.0)"))},
    unscheduled_observer="ucsc-eng",
)

SETUPS: dict[str, Setup] = {s.key: s for s in (KAST, NICKEL_DIRECT, NICKEL_SPECTROGRAPH, SHARCS_SETUP, APF)}
CAMERAS: dict[str, Camera] = {c.key: c for s in SETUPS.values() for c in s.cameras}
