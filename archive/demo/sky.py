"""Targets, Lick Observatory's sky and the clock, in closed form.

astropy's AltAz transform costs milliseconds per call; a night plan asks for thousands of
altitudes, so the generator uses the textbook hour-angle formulas instead. They are good to a
fraction of a degree, which is all an airmass card needs.
"""
from __future__ import annotations

import math
import random
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone

LICK_LATITUDE = 37.3433
LICK_LONGITUDE = -121.6367
MJD_EPOCH = datetime(1858, 11, 17, tzinfo=timezone.utc)


def sexagesimal_to_degrees(text: str, *, hours: bool = False) -> float:
    sign = -1.0 if text.strip().startswith("-") else 1.0
    d, m, s = (abs(float(part)) for part in text.split(":"))
    value = sign * (d + m / 60 + s / 3600)
    return value * 15 if hours else value


@dataclass(frozen=True)
class Target:
    """Something observers point at; ``kind`` decides who observes it and for how long."""

    name: str
    ra: float  # degrees, ICRS
    dec: float
    kind: str  # standard | galaxy | cluster | field | rvstar | transient
    year: int | None = None  # transients: the year of discovery

    @classmethod
    def at(cls, name: str, ra: str, dec: str, kind: str) -> Target:
        return cls(name, sexagesimal_to_degrees(ra, hours=True), sexagesimal_to_degrees(dec), kind)


#: Well-known objects with real positions, so that searches for them (Feige 110 is the archive's
#: own documentation example) find something. ``F150+20`` is the benchmark cone's field.
TARGETS: tuple[Target, ...] = (
    Target.at("Feige 110", "23:19:58.4", "-05:09:56", "standard"),
    Target.at("BD+28 4211", "21:51:11.0", "+28:51:50", "standard"),
    Target.at("Feige 34", "10:39:36.7", "+43:06:09", "standard"),
    Target.at("HZ 44", "13:23:35.3", "+36:07:59", "standard"),
    Target.at("BD+33 2642", "15:51:59.9", "+32:56:54", "standard"),
    Target.at("G191-B2B", "05:05:30.6", "+52:49:52", "standard"),
    Target.at("Feige 66", "12:37:23.5", "+25:04:00", "standard"),
    Target.at("Feige 67", "12:41:51.8", "+17:31:20", "standard"),
    Target.at("BD+26 2606", "14:49:02.4", "+25:42:09", "standard"),
    Target.at("BD+17 4708", "22:11:31.4", "+18:05:34", "standard"),
    Target.at("GD 71", "05:52:27.6", "+15:53:13", "standard"),
    Target.at("HD 19445", "03:08:25.6", "+26:19:51", "standard"),
    Target.at("M31", "00:42:44.3", "+41:16:09", "galaxy"),
    Target.at("M33", "01:33:50.9", "+30:39:37", "galaxy"),
    Target.at("M51", "13:29:52.7", "+47:11:43", "galaxy"),
    Target.at("M81", "09:55:33.2", "+69:03:55", "galaxy"),
    Target.at("M82", "09:55:52.7", "+69:40:46", "galaxy"),
    Target.at("M87", "12:30:49.4", "+12:23:28", "galaxy"),
    Target.at("M101", "14:03:12.6", "+54:20:57", "galaxy"),
    Target.at("M95", "10:43:57.7", "+11:42:14", "galaxy"),
    Target.at("M66", "11:20:15.0", "+12:59:30", "galaxy"),
    Target.at("NGC 1068", "02:42:40.7", "-00:00:48", "galaxy"),
    Target.at("NGC 3184", "10:18:17.0", "+41:25:28", "galaxy"),
    Target.at("NGC 4993", "13:09:47.7", "-23:23:02", "galaxy"),
    Target.at("NGC 6946", "20:34:52.3", "+60:09:14", "galaxy"),
    Target.at("NGC 7331", "22:37:04.1", "+34:24:56", "galaxy"),
    Target.at("M13", "16:41:41.2", "+36:27:36", "cluster"),
    Target.at("M67", "08:51:18.0", "+11:48:00", "cluster"),
    Target.at("M92", "17:17:07.4", "+43:08:09", "cluster"),
    Target.at("SA 104", "12:42:20.0", "-00:32:00", "field"),
    Target.at("SA 110", "18:43:00.0", "+00:29:00", "field"),
    Target.at("PG 1633+099", "16:35:26.0", "+09:47:53", "field"),
    Target.at("F150+20", "10:00:00.0", "+20:00:00", "field"),
    Target.at("HR4515", "11:45:17.0", "+08:15:29", "rvstar"),
    Target.at("HD 185144", "19:32:21.6", "+69:39:57", "rvstar"),
    Target.at("HD 10700", "01:44:04.1", "-15:56:15", "rvstar"),
    Target.at("HD 4628", "00:48:23.0", "+05:16:50", "rvstar"),
    Target.at("HD 26965", "04:15:16.3", "-07:39:10", "rvstar"),
    Target.at("HD 219134", "23:13:17.0", "+57:10:06", "rvstar"),
    Target.at("HD 75732", "08:52:35.8", "+28:19:51", "rvstar"),
    Target.at("HD 95128", "10:59:28.0", "+40:25:49", "rvstar"),
    Target.at("HD 141004", "15:48:09.5", "+01:34:18", "rvstar"),
    Target.at("HD 157214", "17:20:39.6", "+32:28:04", "rvstar"),
    Target.at("HD 201091", "21:06:53.9", "+38:44:58", "rvstar"),
    Target.at("G_258-33", "18:21:35.3", "+37:21:25", "rvstar"),
)
BENCHMARK_FIELD = next(t for t in TARGETS if t.name == "F150+20")


def transients(seed: int, first_year: int, last_year: int, per_year: int = 12) -> tuple[Target, ...]:
    """Made-up supernovae, named the IAU way (``SN 2023abc``), visible from Lick."""
    rng = random.Random(f"transients:{seed}")
    found = []
    for year in range(first_year, last_year + 1):
        for _ in range(per_year):
            letters = "".join(rng.choices("abcdefghijklmnopqrstuvwxyz", k=3))
            # Frame-type readers look for 'hg' (Nickel) and 'arc' in OBJECT; a supernova should not.
            letters = letters.replace("hg", "hk").replace("arc", "ark")
            prefix = rng.choice(("SN ", "SN", "AT"))
            ra, dec = rng.uniform(0, 360), math.degrees(math.asin(rng.uniform(-0.45, 0.95)))
            found.append(Target(f"{prefix}{year}{letters}", ra, dec, "transient", year))
    return tuple(found)


def mjd(moment: datetime) -> float:
    return (moment - MJD_EPOCH).total_seconds() / 86400.0


def local_sidereal_hours(moment: datetime) -> float:
    """Mean sidereal time at Lick (IAU 1982 linear term), hours."""
    gmst = 18.697374558 + 24.06570982441908 * (mjd(moment) + 2400000.5 - 2451545.0)
    return (gmst + LICK_LONGITUDE / 15.0) % 24.0


def hour_angle(ra: float, moment: datetime) -> float:
    """Hour angle in hours, in (-12, 12]."""
    ha = (local_sidereal_hours(moment) - ra / 15.0) % 24.0
    return ha - 24.0 if ha > 12.0 else ha


def altitude(ra: float, dec: float, moment: datetime) -> float:
    lat, d, h = math.radians(LICK_LATITUDE), math.radians(dec), math.radians(hour_angle(ra, moment) * 15)
    return math.degrees(math.asin(math.sin(lat) * math.sin(d) + math.cos(lat) * math.cos(d) * math.cos(h)))


def airmass(alt: float) -> float:
    """Pickering (2002): finite at the horizon, ~sec(z) high up."""
    alt = max(alt, 0.5)
    return 1.0 / math.sin(math.radians(alt + 244.0 / (165.0 + 47.0 * alt ** 1.1)))


def sun_times(night: date) -> tuple[datetime, datetime]:
    """Approximate sunset and next sunrise at Lick, UTC; a cosine through the solstices is enough."""
    season = math.cos(2 * math.pi * (night.timetuple().tm_yday - 172) / 365.25)
    midnight = datetime(night.year, night.month, night.day, tzinfo=timezone.utc) + timedelta(days=1)
    return midnight + timedelta(hours=2.2 + 1.3 * season), midnight + timedelta(hours=14.05 - 1.25 * season)


def local_noon(night: date) -> datetime:
    """Start of the observing night: noon PST of its date, in UTC."""
    return datetime(night.year, night.month, night.day, 20, tzinfo=timezone.utc)


def sexagesimal(value: float, *, decimals: int, pad: str = "0", signed: bool = False) -> str:
    """``12:22:56.07``-style text. ``pad`` is how the leading field is filled: ``"0"`` for
    ``01:23:44.03``, ``""`` for ``-1:14:03.20`` (NEWCAM hour angles), ``" "`` for APF's
    ``  8:15:29.2``.
    """
    sign = "-" if value < 0 else ("+" if signed else "")
    scale = 10 ** decimals
    total = round(abs(value) * 3600 * scale)
    whole, frac = divmod(total, 3600 * scale)
    minutes, rest = divmod(frac, 60 * scale)
    seconds = rest / scale
    sec_text = f"{seconds:0{3 + decimals if decimals else 2}.{decimals}f}"
    lead = f"{sign}{whole}"
    if pad == "0":
        lead = f"{sign}{whole:02d}"
    elif pad == " ":
        lead = f"{sign}{whole}".rjust(3)
    return f"{lead}:{minutes:02d}:{sec_text}"
