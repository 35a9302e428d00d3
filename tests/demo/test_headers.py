"""Generated headers look like the real samples and tell a consistent story night by night."""
from __future__ import annotations

import re
from collections import Counter, defaultdict
from datetime import date, datetime, timedelta, timezone

import numpy as np
import pytest
from astropy.io import fits

from archive.demo.header import TEMPLATE_DIR
from archive.demo.instruments import CAMERAS
from tests.demo.headers import fits_files, frame_type, header, instrument, start_time

#: The keywords the archive's readers (and PypeIt) use, per instrument, from the notes' section 2.
IMPORTANT = {
    "Kast Blue": {"VERSION", "OBSTYPE", "EXPTIME", "OBJECT", "OBSERVER", "PROGRAM", "RA", "DEC", "AIRMASS",
                  "DATE", "DATE-OBS", "DATE-BEG", "DATE-END", "GRISM_N", "BSPLIT_N", "SLIT_N", "GRATNG_N",
                  "GRTILT_P", "WCSNAME", "CRVAL1", "CRVAL2",
                  *(f"LAMPSTA{c}" for c in "12345ABCDEFGHIJK")},
    "Nickel Direct": {"VERSION", "INSTRUME", "OBSTYPE", "EXPTIME", "OBJECT", "OBSERVER", "PROGRAM", "RA", "DEC",
                      "AIRMASS", "FILTNAM", "DATE", "DATE-BEG", "DATE-END", "WCSNAME", "CRVAL1", "CRVAL2"},
    "Nickel Spectrograph": {"VERSION", "INSTRUME", "OBSTYPE", "EXPTIME", "OBJECT", "OBSERVER", "RA", "DEC",
                            "FILTNAM", "DATE-OBS", "DATE-STA", "DATE-END"},
    "ShaneAO/ShARCS": {"DATE-BEG", "DATE-OBS", "TIME-OBS", "TRUITIME", "COADDONE", "FILT1NAM", "FILT2NAM",
                       "APERNAM", "CALYNAM", "OBJECT", "OBSERVER", "PROGRAM", "RA", "DEC", "AIRMASS",
                       *(f"LAMPSTA{c}" for c in "12345")},
    "APF Levy": {"VERSION", "OBSTYPE", "EXPTIME", "OBJECT", "TOBJECT", "DECKRNAM", "ICELNAM", "OBSERVER",
                 "DATE-BEG", "DATE-OBS", "DATE-END", "RA", "DEC", "AIRMASS", "THORIUM1", "HALOGEN1"},
}
IMPORTANT["Kast Red"] = IMPORTANT["Kast Blue"]

SEXAGESIMAL = {  # (RA, DEC) as each system printed them
    "Kast Blue": (r"[0-2][0-9]:[0-5][0-9]:[0-5][0-9]\.[0-9]{2}", r"-?[0-9]{2}:[0-5][0-9]:[0-5][0-9]\.[0-9]"),
    "Nickel Direct": (r"[0-2][0-9]:[0-5][0-9]:[0-5][0-9]\.[0-9]{2}", r"-?[0-9]{2}:[0-5][0-9]:[0-5][0-9]\.[0-9]"),
    "Nickel Spectrograph": (r" +[0-2][0-9]:[0-5][0-9]:[0-5][0-9]\.[0-9]",
                            r" +-?[0-9]{2}:[0-5][0-9]:[0-5][0-9]\.[0-9]"),
    "ShaneAO/ShARCS": (r"[0-2][0-9]:[0-5][0-9]:[0-5][0-9]\.[0-9]{2}", r"-?[0-9]{2}:[0-5][0-9]:[0-5][0-9]\.[0-9]"),
    "APF Levy": (r"[0-2][0-9]:[0-5][0-9]:[0-5][0-9]\.[0-9]", r" *-?[0-9]{1,2}:[0-5][0-9]:[0-5][0-9]\.[0-9]"),
}
SEXAGESIMAL["Kast Red"] = SEXAGESIMAL["Kast Blue"]
NEWCAM_TIME = r"20[0-9]{2}-[01][0-9]-[0-3][0-9]T[0-2][0-9]:[0-5][0-9]:[0-5][0-9]\.[0-9]{2}"


@pytest.fixture
def headers(demo_headers):
    return demo_headers


def _camera(name: str):
    return next(camera for camera in CAMERAS.values() if camera.name == name)


def _night(path) -> date:
    return date.fromisoformat(f"{path.parts[-4]}-{path.parts[-3]}")


def _raw_value(hdr: fits.Header, keyword: str) -> str:
    """The value as written in the card, quotes stripped but padding kept."""
    image = hdr.cards[keyword].image
    return image[10:].split("'")[1] if "'" in image[10:] else image[10:30].strip()


def test_templates_are_the_real_samples():
    for camera in CAMERAS.values():
        for fmt in camera.formats:
            first = (TEMPLATE_DIR / fmt.template_file).read_text().splitlines()[0]
            assert first.startswith("# source: github.com/UCObservatories/lick_searchable_archive")


def test_each_instrument_has_the_real_sample_keywords(headers):
    seen = set()
    for path, hdr, name, quirk in headers:
        if quirk == "no_coordinates":
            continue
        keywords = set(hdr.keys())
        assert IMPORTANT[name] <= keywords, (path, IMPORTANT[name] - keywords)
        template = _camera(name).format(_night(path)).template
        assert template.keywords() <= keywords, (path, template.keywords() - keywords)
        seen.add(name)
    assert seen == set(IMPORTANT)


def test_identifying_values_and_their_real_formats(headers):
    for path, hdr, name, quirk in headers:
        if name.startswith("Kast"):
            assert hdr["VERSION"] == ("kastb" if name == "Kast Blue" else "kastr")
            assert path.name[0] == ("b" if name == "Kast Blue" else "r")
            obstypes = [card.value for card in hdr.cards if card.keyword == "OBSTYPE"]
            assert obstypes[0] in ("OBJECT", "DARK") and obstypes[1] == 1  # two OBSTYPE cards since 2018
            assert hdr["PROGRAM"] == "NEWCAM"
        if name == "Nickel Spectrograph":
            assert hdr["VERSION"] == "'nickel_spectrograph"  # sic, with the stray quote
            assert _raw_value(hdr, "OBJECT").startswith(" ")  # right-justified, as in 2006-2012
            assert re.fullmatch(r"[0-9]+\.[0-9]{6}", _raw_value(hdr, "EXPTIME"))
        if name == "ShaneAO/ShARCS":
            assert re.fullmatch(NEWCAM_TIME + "[0-9]", hdr["DATE-BEG"])
            assert re.fullmatch(r"20[0-9]{2}-[01][0-9]-[0-3][0-9]", hdr["DATE-OBS"])
            if int(path.parts[-4][:4]) >= 2015:
                assert hdr["DATE-OBS"].startswith("2007-")  # stale, like the real ones
            assert re.fullmatch(r"20[0-9]{2}[AB]_S[0-9]{3} \[[0-9]+\]|Engineering", hdr["PROGRAM"])
            assert hdr["DATAFILE"] == f"s{int(path.stem[1:]) - 1:04d}"
        if name == "APF Levy":
            assert path.name.startswith(hdr["OBSERVER"].strip())
        if name in ("Kast Blue", "Kast Red", "Nickel Direct", "APF Levy"):
            assert re.fullmatch(NEWCAM_TIME, hdr["DATE-BEG"]) and re.fullmatch(NEWCAM_TIME, hdr["DATE"])
        if quirk != "no_coordinates":
            ra, dec = SEXAGESIMAL[name]
            assert re.fullmatch(ra, _raw_value(hdr, "RA").rstrip()), (path, hdr["RA"])
            assert re.fullmatch(dec, _raw_value(hdr, "DEC").rstrip()), (path, hdr["DEC"])


def test_frame_types_read_back_as_generated(demo, headers):
    """The real archive's frame-type rules, applied to the headers, give the generator's counts."""
    counted: dict[str, Counter] = defaultdict(Counter)
    for path, hdr, name, _ in headers:
        counted[name][frame_type(path, hdr)] += 1
    assert counted == demo.counts


def test_times_increase_within_a_night(headers):
    streams = defaultdict(list)
    for path, hdr, name, _ in headers:
        prefix = re.match(r"[a-z-]+", path.name).group()
        streams[path.parent, prefix].append((int(re.search(r"[0-9]+", path.stem).group()), start_time(hdr)))
    for frames in streams.values():
        times = [moment for _, moment in sorted(frames)]
        assert times == sorted(times) and len(set(times)) == len(times)


def test_calibrations_every_night_before_the_science(headers):
    nights = defaultdict(list)
    for path, hdr, name, _ in headers:
        nights[path.parent, name].append((start_time(hdr), frame_type(path, hdr)))
    needed = {"Kast Blue": {"bias", "flat", "arc"}, "Kast Red": {"bias", "flat", "arc"},
              "Nickel Direct": {"bias", "flat"}, "Nickel Spectrograph": {"bias", "flat", "arc"},
              "ShaneAO/ShARCS": {"dark", "flat"}, "APF Levy": {"bias", "flat", "arc"}}
    for (directory, name), frames in nights.items():
        frames.sort()
        if frames[0][1] == "science":  # the file budget ran out before the first frame? never
            pytest.fail(f"{directory} starts with science")
        kinds = {kind for _, kind in frames}
        if "science" in kinds:  # a night cut by the file budget may stop during calibrations
            assert needed[name] <= kinds, (directory, name, kinds)
            first_science = next(i for i, (_, kind) in enumerate(frames) if kind == "science")
            assert needed[name] <= {kind for _, kind in frames[:first_science]} | {"focus"}


def test_science_targets_and_airmass_make_sense(headers):
    objects = Counter()
    for path, hdr, name, quirk in headers:
        if frame_type(path, hdr) == "science" and quirk != "no_coordinates":
            assert 1.0 <= hdr.get("AIRMASS", 1.0) < 2.0, path  # 2007 Nickel headers have none
            objects[str(hdr["OBJECT"]).strip()] += 1
    assert len(objects) > 30
    assert any("feige" in o.lower() or "BD+" in o for o in objects)


def test_airmass_agrees_with_astropy(headers):
    from astropy.coordinates import AltAz, EarthLocation, SkyCoord
    from astropy.time import Time
    from astropy.utils import iers

    iers.conf.auto_download = False
    lick = EarthLocation.from_geodetic(lon=-121.6367, lat=37.3433, height=1283)
    science = [(p, h) for p, h, name, q in headers
               if name == "Kast Blue" and q is None and frame_type(p, h) == "science"][:5]
    assert science
    for _, hdr in science:
        moment = Time(start_time(hdr).replace(tzinfo=timezone.utc))
        frame = AltAz(obstime=moment, location=lick)
        altaz = SkyCoord(hdr["CRVAL1"], hdr["CRVAL2"], unit="deg").transform_to(frame)
        assert hdr["AIRMASS"] == pytest.approx(float(altaz.secz), abs=0.03)


def test_data_matches_naxis(headers):
    for path, hdr, name, quirk in headers[::3]:
        if quirk == "missing_end":
            continue
        with fits.open(path) as hdul:
            data = hdul[0].data
            assert data.shape == (hdr["NAXIS2"], hdr["NAXIS1"])
            assert np.isfinite(data).all()
            assert (data.dtype.kind == "f") == (name == "ShaneAO/ShARCS")


def test_quirks_are_what_they_say(demo, headers):
    by_path = {path.relative_to(demo.root).as_posix(): (path, hdr) for path, hdr, _, _ in headers}
    for relative in demo.quirks["no_coordinates"]:
        assert "RA" not in by_path[relative][1] and "DEC" not in by_path[relative][1]
    for relative in demo.quirks["nul_byte"]:
        raw = by_path[relative][0].read_bytes()
        card = raw[raw.index(b"OBSERVER= '"):][:80]
        assert b"\0" in card.split(b"'")[1]  # inside the string value
    for relative in demo.quirks["missing_end"]:
        raw = by_path[relative][0].read_bytes()
        assert b"END" + b" " * 77 not in raw and len(raw) % 2880 == 0


def test_quirk_rate_zero_gives_clean_files(tmp_path):
    from archive.demo import generate_demo

    summary = generate_demo(tmp_path, seed=11, files=400, quirk_rate=0.0)
    assert summary.quirks == {}
    for path in fits_files(tmp_path):
        raw = path.read_bytes()
        cards = [raw[i:i + 80] for i in range(0, len(raw), 80)]
        end = cards.index(b"END".ljust(80))
        assert b"\0" not in b"".join(cards[:end])
        hdr = header(path)
        assert "RA" in hdr and "DEC" in hdr


def test_benchmark_cone_is_not_empty(headers):
    """Frames near RA=150, Dec=20, where the benchmark's cone search looks."""
    near = sum(1 for _, hdr, _, _ in headers if hdr.get("WCSNAME") and "CRVAL1" in hdr
               and abs(hdr["CRVAL1"] - 150) < 0.1 and abs(hdr["CRVAL2"] - 20) < 0.1)
    assert near >= 5


@pytest.fixture(scope="module")
def old_headers(tmp_path_factory):
    """A calendar from 2006: Kast's KAST-program and 2008-2017 NEWCAM headers, no ShARCS or APF yet."""
    from archive.demo import generate_demo

    root = tmp_path_factory.mktemp("old_demo")
    summary = generate_demo(root, seed=1, nights=40, start=date(2006, 8, 1), years=14, quirk_rate=0.0)
    return summary, [(path, header(path)) for path in fits_files(root)]


def test_older_kast_headers_follow_their_era(old_headers):
    summary, rows = old_headers
    eras = set()
    for path, hdr in rows:
        night = _night(path)
        if path.parent.name == "AO":
            assert night >= date(2014, 8, 1)
        if path.parent.name == "APF":
            assert night >= date(2013, 8, 1)
        if path.parent.name != "shane":
            continue
        template = _camera(instrument(path, hdr)).format(night).template
        assert template.keywords() <= set(hdr.keys())
        if night < date(2008, 7, 1):
            eras.add("KAST")
            assert hdr["INSTRUME"] == "KAST" and "VERSION" not in hdr and "EXPTIME" not in hdr
            assert hdr["SPSIDE"] in ("blue", "red") and isinstance(hdr["EXPOSURE"], int)
            assert re.fullmatch(r" +[+-][0-9]{2}:[0-5][0-9]:[0-5][0-9]\.[0-9]", _raw_value(hdr, "HA"))
        elif night < date(2018, 1, 1):
            eras.add("NEWCAM 2012")
            assert _raw_value(hdr, "OBJECT").startswith(" ") and "WCSNAME" not in hdr
            local = datetime.fromisoformat(hdr["DATE-STA"])
            offset = datetime.fromisoformat(hdr["DATE-OBS"]) - local - timedelta(hours=8)
            assert abs(offset.total_seconds()) < 0.1  # local PST beside UTC
        else:
            eras.add("NEWCAM")
            assert hdr.get("WCSNAME") == "Celestial coordinates"
    assert eras == {"KAST", "NEWCAM 2012", "NEWCAM"}


def test_older_frame_types_read_back_as_generated(old_headers):
    summary, rows = old_headers
    counted: dict[str, Counter] = defaultdict(Counter)
    for path, hdr in rows:
        counted[instrument(path, hdr)][frame_type(path, hdr)] += 1
    assert counted == summary.counts


def test_the_ingest_mapping_reads_them_alike(demo, headers):
    """Integration: ingest's header mapping finds the same instrument, frame type and night."""
    mapping = pytest.importorskip("ingest.mapping")
    for path, hdr, name, _ in headers[::10]:
        row = mapping.map_file(path, demo.root)
        assert (row.instrument, row.frame_type) == (name, frame_type(path, hdr)), path
        assert row.observing_night == _night(path) and row.date_obs is not None
