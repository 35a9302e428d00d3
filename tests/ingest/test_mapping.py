"""The mapping's rules beyond the samples: quirks, fallbacks, unknown instruments, the row's shape."""
from __future__ import annotations

import dataclasses
from datetime import date, datetime, timezone

import pytest
from astropy.io import fits

from archive.schema import FRAME_TYPES, TELESCOPES, observation
from ingest.fitsread import UnreadableFile, parse_header_bytes
from ingest.flags import IngestFlag as F
from ingest.mapping import map_file, map_header
from ingest.metadata import ObservationMetadata
from ingest.nights import ArchivePath, mjd, night_of, night_start
from tests.ingest.samples import write_fits

NOT_FROM_THE_FILE = {"id", "obs_publisher_did", "obs_release_date", "file_size",
                     "file_mtime", "checksum", "ingested_at", "pos", "release_override", "grantees"}


def test_the_metadata_has_exactly_the_file_derived_columns():
    fields = {f.name for f in dataclasses.fields(ObservationMetadata)}
    assert fields == {c.name for c in observation.columns} - NOT_FROM_THE_FILE


def test_flag_values_are_stable():
    assert {f.name: f.value for f in F} == {
        "NO_LAMP_CARDS": 1, "DATE_BEG_UNUSABLE": 2, "DATE_OBS_USED": 4, "DATE_FROM_DIRECTORY": 8,
        "NO_OBJECT": 16, "NO_END_CARD": 32, "NO_SIMPLE_CARD": 64, "VERIFY_FIXED": 128,
        "UNKNOWN_INSTRUMENT": 256, "NO_COORDINATES": 512, "INVALID_CHARACTERS": 1024,
        "NO_OBSTYPE": 2048, "REPEATED_CARD": 4096, "STALE_DATE_OBS": 8192,
        "LOCAL_TIME_CONVERTED": 16384, "NO_EXPOSURE_TIME": 32768, "BAD_CARD_VALUE": 65536,
        "DATA_TRUNCATED": 131072}


def replaced(cards: bytes, keyword: str, new_card: str | None) -> bytes:
    """The cards with ``keyword``'s card replaced (or removed when ``new_card`` is None)."""
    out = []
    for at in range(0, len(cards), 80):
        old = cards[at:at + 80]
        if old[:8].decode().strip() == keyword:
            if new_card is not None:
                out.append(new_card.ljust(80).encode())
        else:
            out.append(old)
    return b"".join(out)


def mapped(cards: bytes, rel_path: str):
    read = parse_header_bytes(cards + b"END".ljust(80))
    return map_header(read.header, rel_path, read.flags, read.shape)


def test_a_corrupt_date_beg_falls_back_to_the_directory(samples):
    cards = replaced(samples["sharcs_1"].cards, "DATE-BEG", "DATE-BEG= '584556019-04-03T12:47:54.307'")
    meta = mapped(cards, samples["sharcs_1"].rel_path)
    assert F.DATE_BEG_UNUSABLE in F(meta.ingest_flags)
    assert F.STALE_DATE_OBS in F(meta.ingest_flags)  # DATE-OBS says 2007: not used either
    assert F.DATE_FROM_DIRECTORY in F(meta.ingest_flags)
    assert meta.date_obs == datetime(2019, 4, 16, 20, tzinfo=timezone.utc)  # noon UTC-8
    assert meta.t_min == pytest.approx(mjd(night_start(date(2019, 4, 16))))
    assert meta.t_max == pytest.approx(meta.t_min + 1)  # somewhere in that night
    assert meta.observing_night == date(2019, 4, 16)


def test_sharcs_in_the_ao_directory_before_2014_is_not_sharcs(samples):
    meta = mapped(samples["sharcs_3"].cards, "2013-11/20/AO/s0066.fits")
    assert meta.instrument == "Unknown" and meta.telescope == "Shane"
    assert F.UNKNOWN_INSTRUMENT in F(meta.ingest_flags)


def test_an_unknown_instrument_is_recorded_not_dropped():
    header = fits.Header([("SIMPLE", True), ("NAXIS", 2), ("NAXIS1", 640), ("NAXIS2", 480),
                          ("VERSION", "allsky"), ("DATE-OBS", "2021-03-04T05:06:07"),
                          ("EXPTIME", 30.0), ("OBJECT", "sky")])
    meta = map_header(header, "2021-03/03/allsky/a001.fits")
    assert (meta.instrument, meta.telescope, meta.frame_type) == ("Unknown", "Unknown", "unknown")
    assert meta.dataproduct_type == "image" and meta.t_exptime == 30.0
    assert F(meta.ingest_flags) == F.UNKNOWN_INSTRUMENT | F.NO_COORDINATES
    assert meta.facility_name and meta.instrument_name == "Unknown"


def test_outside_the_layout_the_night_comes_from_the_header():
    header = fits.Header([("SIMPLE", True), ("VERSION", "kastr"), ("EXPTIME", 1.0),
                          ("DATE-OBS", "2019-05-03T04:22:58.46"), ("OBJECT", "x")])
    meta = map_header(header, "incoming/r650.fits")
    assert meta.observing_night == date(2019, 5, 2) and meta.obs_id == "incoming/r650"


def test_outside_the_layout_without_a_date_there_is_no_row():
    header = fits.Header([("SIMPLE", True), ("VERSION", "kastr"), ("OBJECT", "x")])
    with pytest.raises(UnreadableFile, match="no observing night"):
        map_header(header, "incoming/r650.fits")


def test_newcam_program_is_not_a_program_but_sharcs_program_is(samples):
    assert mapped(samples["kast_red_1"].cards, samples["kast_red_1"].rel_path).program is None
    meta = mapped(samples["sharcs_1"].cards, samples["sharcs_1"].rel_path)
    assert (meta.program, meta.cover_id) == ("2019A_S014", "4662")


def test_kast_uses_the_string_obstype_of_the_two(samples):
    cards = replaced(samples["kast_red_1"].cards, "OBSTYPE", None)  # drop both
    cards = cards + "OBSTYPE =                    1 / IMAGE TYPE".ljust(80).encode() \
        + "OBSTYPE = 'DARK'".ljust(80).encode()
    meta = mapped(cards, samples["kast_red_1"].rel_path)
    assert meta.frame_type == "dark"  # 600 s with the shutter closed
    assert F.REPEATED_CARD in F(meta.ingest_flags)


def test_nul_bytes_in_a_real_header_are_repaired(samples, tmp_path):
    cards = replaced(samples["kast_blue_1"].cards, "OBJECT", "OBJECT  = 'blue\x00flat'")
    meta = map_file(write_fits(tmp_path / "2019-05/02/shane/b607.fits", cards), tmp_path)
    assert meta.target_name == "blue flat" and meta.frame_type == "flat"
    assert F.INVALID_CHARACTERS in F(meta.ingest_flags)


def test_a_bad_airmass_is_ignored_and_flagged(samples):
    cards = replaced(samples["kast_red_1"].cards, "AIRMASS", "AIRMASS = 'high'")
    meta = mapped(cards, samples["kast_red_1"].rel_path)
    assert meta.airmass is None and F.BAD_CARD_VALUE in F(meta.ingest_flags)


def test_a_missing_object_is_flagged(samples):
    meta = mapped(replaced(samples["nickel_direct_3"].cards, "OBJECT", None),
                  samples["nickel_direct_3"].rel_path)
    assert meta.target_name is None and F.NO_OBJECT in F(meta.ingest_flags)


def test_no_obstype_is_flagged_for_nickel(samples):
    meta = mapped(replaced(samples["nickel_direct_3"].cards, "OBSTYPE", None),
                  samples["nickel_direct_3"].rel_path)
    assert F.NO_OBSTYPE in F(meta.ingest_flags) and meta.frame_type == "focus"


def test_a_file_outside_the_root_is_unreadable(samples, tmp_path):
    path = write_fits(tmp_path / "elsewhere" / "x.fits", samples["apf_1"].cards)
    with pytest.raises(UnreadableFile, match="not under the archive root"):
        map_file(path, tmp_path / "root")


def test_values_are_always_within_the_schema(mapped_samples):
    for meta in mapped_samples:
        assert meta.frame_type in FRAME_TYPES and meta.telescope in TELESCOPES
        assert meta.s_ra is None or 0 <= meta.s_ra < 360
        assert meta.s_dec is None or -90 <= meta.s_dec <= 90
        assert meta.s_region is None or all(0 <= ra < 360 and -90 <= dec <= 90 for ra, dec in meta.s_region)
        assert meta.date_obs is None or meta.date_obs.tzinfo is not None
        assert night_of(meta.date_obs) == meta.observing_night


@pytest.fixture(scope="module")
def mapped_samples(sample_archive):
    root, paths = sample_archive
    return [map_file(path, root) for path in paths.values()]


@pytest.mark.parametrize("rel_path, obs_id, night, directory", [
    ("2019-05/02/shane/b607.fits", "2019-05/02/shane/b607", date(2019, 5, 2), "shane"),
    ("2019-05/02/AO/s0001.fits.gz", "2019-05/02/AO/s0001", date(2019, 5, 2), "AO"),
    ("2019-02/30/nickel/d1.fits", "2019-02/30/nickel/d1", None, "nickel"),
    ("misc/file.fits", "misc/file", None, None),
])
def test_archive_paths(rel_path, obs_id, night, directory):
    where = ArchivePath.parse(rel_path)
    assert (where.obs_id, where.night, where.directory) == (obs_id, night, directory)


def test_hamilton_best_effort_from_the_documented_keywords():
    header = fits.Header([
        ("SIMPLE", True), ("NAXIS", 2), ("NAXIS1", 4160), ("NAXIS2", 4136),
        ("DSENSOR", "e2v CCD203-82 4kx4k thin"), ("PLATENAM", "640:5.0"), ("DFILTNAM", "cuso4"),
        ("LAMPPOS", "Thorium-Argon"), ("OBJECT", "arcs"), ("EXPTIME", 30.0),
        ("DATE-OBS", "2014-06-10"), ("UT", "04:12:33.5"), ("RA", "16:41:41.6"), ("DEC", "+36:27:41"),
        ("OBSERVER", "Hamspec team")])
    meta = map_header(header, "2014-06/09/shane/d2001.fits")
    assert (meta.telescope, meta.instrument, meta.dataproduct_type) == ("Shane", "Hamilton", "spectrum")
    assert (meta.frame_type, meta.decker, meta.filters) == ("arc", "640:5.0", "cuso4")
    assert meta.date_obs == datetime(2014, 6, 10, 4, 12, 33, 500000, tzinfo=timezone.utc)
    assert meta.s_ra == pytest.approx((16 + 41 / 60 + 41.6 / 3600) * 15)
    assert meta.em_min is None and meta.ingest_flags == 0


def test_gzip_files_map_to_an_obs_id_without_both_suffixes(samples, tmp_path):
    import gzip

    sample = samples["kast_red_8"]
    path = tmp_path / "2012-01/18/shane/r1002.fits.gz"
    path.parent.mkdir(parents=True)
    path.write_bytes(gzip.compress(sample.cards + b" " * (-len(sample.cards) % 2880)))
    meta = map_file(path, tmp_path)
    assert (meta.obs_id, meta.file_path) == ("2012-01/18/shane/r1002", "2012-01/18/shane/r1002.fits.gz")
    assert meta.instrument == "Kast Red"


@pytest.mark.parametrize("sta, end, obs, expected, converted", [
    ("2006-12-06T21:09:01.0", "2006-12-06T21:09:03.0", "2006-12-07T05:09:04.77", "2006-12-07T05:09:01", True),
    ("2007-03-30T03:35:33.0", "2007-03-30T03:35:35.0", "2007-03-30T10:35:36.52", "2007-03-30T10:35:33", True),
    ("2012-01-19T00:54:12", "2012-01-19T00:54:15", "2012-01-19T00:54:16.31", "2012-01-19T00:54:12", False),
    ("2012-01-19T03:00:00", "2012-01-19T03:00:02", "2012-01-19T00:54:16.31", "2012-01-19T00:54:14.31", False),
])
def test_date_sta_in_local_time_is_converted_by_the_readout_time(sta, end, obs, expected, converted):
    # APF (2011) takes DATE-STA; Kast and Nickel take DATE-OBS itself (test_observatory_rules.py).
    header = fits.Header([("SIMPLE", True), ("VERSION", "apf"), ("EXPTIME", 2.0),
                          ("OBSTYPE", "OBJECT"), ("OBJECT", "m67"), ("DATE-STA", sta),
                          ("DATE-END", end), ("DATE-OBS", obs)])
    meta = map_header(header, "2012-01/18/APF/d1.fits")
    start = datetime.fromisoformat(expected).replace(tzinfo=timezone.utc)
    assert abs((meta.date_obs - start).total_seconds()) < 0.01
    assert (F.LOCAL_TIME_CONVERTED in F(meta.ingest_flags)) == converted


def test_sharcs_exposure_falls_back_to_itime_times_coadds(samples):
    cards = replaced(replaced(samples["sharcs_3"].cards, "TRUITIME", None), "COADDONE", None)
    meta = mapped(cards, samples["sharcs_3"].rel_path)
    assert meta.t_exptime == pytest.approx(4.0)  # ITIME = 4000 ms, COADDS = 1
