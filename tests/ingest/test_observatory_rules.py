"""The observatory's per-instrument rules (shared/lick_archive_notes.md) on headers built like real ones.

Each test takes a real header sample and changes only the cards the rule reads, so that the rest
of the header is what such a file really carries. The last test follows the time of a frame from
its header to what users read through the published views, to the header's precision.
"""
from __future__ import annotations

from datetime import date, datetime, timezone

import pytest

from ingest.flags import IngestFlag as F
from ingest.nights import mjd
from tests.ingest.samples import write_fits
from tests.ingest.test_mapping import mapped, replaced

#: A microsecond in days: what a double-precision MJD keeps around the year 2000 (~1e-11 d).
MICROSECOND = 1e-6 / 86400

#: A 2007 Nickel direct frame as NEWCAM wrote it: DATE-OBS in UTC to the hundredth of a second,
#: DATE-STA/DATE-END in local time (PDT, UTC-7) to the whole second.
NICKEL_2007 = {
    "DATE-OBS": "DATE-OBS= '2007-06-15T05:12:47.38' / UTC DATE AND TIME OF OBSERVATION",
    "DATE-STA": "DATE-STA= '2007-06-14T22:12:17.0' / START OF OBSERVATION",
    "DATE-END": "DATE-END= '2007-06-14T22:12:47.0' / END OF OBSERVATION",
    "EXPTIME": "EXPTIME =            30.000000 / Exp time (not counting shutter error)",
}
NICKEL_2007_PATH = "2007-06/14/nickel/d1042.fits"
NICKEL_2007_START = datetime(2007, 6, 15, 5, 12, 47, 380000, tzinfo=timezone.utc)


def with_cards(cards: bytes, new: dict[str, str | None]) -> bytes:
    for keyword, card in new.items():
        cards = replaced(cards, keyword, card)
    return cards


def nickel_2007(samples) -> bytes:
    return with_cards(samples["nickel_direct_5"].cards, NICKEL_2007)


# --- Kast: exposure <= 1 s is a bias, before the lamps are looked at -----------------------------

def kast_2019_red(samples, exptime: float, lamps_on: tuple[str, ...] = (), target: str = "arc") -> bytes:
    """The 2019 Kast red science header with another exposure time, lamps and OBJECT."""
    new = {"EXPTIME": f"EXPTIME = {exptime:20} / Exp time (not counting shutter error)",
           "OBJECT": f"OBJECT  = '{target:<18}'"}
    for lamp in lamps_on:
        new[f"LAMPSTA{lamp}"] = f"LAMPSTA{lamp}= 'on                ' / Shane line lamp #{lamp} status"
    return with_cards(samples["kast_red_1"].cards, new)


def test_a_one_second_kast_frame_with_arc_lamps_on_is_a_bias(samples):
    meta = mapped(kast_2019_red(samples, 1, lamps_on=("G", "J")), samples["kast_red_1"].rel_path)
    assert meta.frame_type == "bias"


def test_a_one_second_kast_frame_with_a_flat_lamp_on_is_a_bias(samples):
    meta = mapped(kast_2019_red(samples, 0.5, lamps_on=("5",), target="dome flat"),
                  samples["kast_red_1"].rel_path)
    assert meta.frame_type == "bias"


def test_a_kast_arc_lamp_on_for_longer_than_an_arc_is_unknown(samples):
    assert mapped(kast_2019_red(samples, 61, lamps_on=("G",)), samples["kast_red_1"].rel_path).frame_type == "arc"
    assert mapped(kast_2019_red(samples, 62, lamps_on=("G",)), samples["kast_red_1"].rel_path).frame_type == "unknown"


def test_a_kast_frame_with_every_lamp_off_is_science_whatever_object_says(samples):
    meta = mapped(kast_2019_red(samples, 30, target="flat"), samples["kast_red_1"].rel_path)
    assert meta.frame_type == "science"


# --- Kast and Nickel: DATE-OBS, to the header's precision ---------------------------------------

def test_a_2007_nickel_frame_keeps_the_hundredths_of_date_obs(samples):
    meta = mapped(nickel_2007(samples), NICKEL_2007_PATH)
    assert meta.instrument == "Nickel Direct"
    assert meta.date_obs == NICKEL_2007_START  # not DATE-STA, local or converted, to the second
    assert meta.t_min == pytest.approx(mjd(NICKEL_2007_START), abs=MICROSECOND)
    assert meta.t_max == pytest.approx(mjd(NICKEL_2007_START) + 30 / 86400, abs=MICROSECOND)
    assert meta.observing_night == date(2007, 6, 14)
    assert F.LOCAL_TIME_CONVERTED not in F(meta.ingest_flags)


def test_a_2012_kast_frame_is_dated_by_date_obs(samples):
    meta = mapped(samples["kast_red_8"].cards, samples["kast_red_8"].rel_path)
    assert meta.date_obs == datetime(2012, 1, 19, 0, 54, 16, 310000, tzinfo=timezone.utc)


def test_nickel_without_date_obs_takes_date_beg_to_the_hundredth(samples):
    meta = mapped(samples["nickel_direct_1"].cards, samples["nickel_direct_1"].rel_path)
    assert meta.date_obs == datetime(2019, 5, 7, 4, 14, 46, 330000, tzinfo=timezone.utc)


# --- Nickel: OBSTYPE DARK is a bias only at 0 s -------------------------------------------------

def test_a_short_nickel_dark_is_a_dark_not_a_bias(samples):
    cards = with_cards(samples["nickel_direct_2"].cards, {
        "EXPTIME": "EXPTIME =                  0.2 / Exp time (not counting shutter error)"})
    assert mapped(cards, samples["nickel_direct_2"].rel_path).frame_type == "dark"
    cards = with_cards(cards, {"EXPTIME": "EXPTIME =                    0 / Exp time (not counting shutter error)"})
    assert mapped(cards, samples["nickel_direct_2"].rel_path).frame_type == "bias"


# --- End to end: what users read keeps the precision ---------------------------------------------

def test_sub_second_times_survive_ingest_and_the_published_views(samples, archive_db, archive_root, query_conn):
    from ingest.pipeline import ingest_batch

    path = write_fits(archive_root / NICKEL_2007_PATH, nickel_2007(samples) + b"END".ljust(80),
                      samples["nickel_direct_5"].data_size())
    try:
        report = ingest_batch([path], root=archive_root)
        assert report.inserted == 1, report.failed
        obs_id = NICKEL_2007_PATH.removesuffix(".fits")
        with query_conn.cursor() as cur:  # anonymous: the 2007 frame is long public
            cur.execute("SELECT t_min, t_max FROM ivoa.obscore WHERE obs_id = %s", (obs_id,))
            t_min, t_max = cur.fetchone()
            cur.execute("SELECT date_obs FROM lick.observations WHERE obs_id = %s", (obs_id,))
            (date_obs,) = cur.fetchone()
    finally:  # leave the session's archive as the other tests expect it
        path.unlink()
        ingest_batch([path], root=archive_root)
    assert t_min == pytest.approx(mjd(NICKEL_2007_START), abs=MICROSECOND)
    assert t_max == pytest.approx(mjd(NICKEL_2007_START) + 30 / 86400, abs=MICROSECOND)
    assert date_obs == NICKEL_2007_START.replace(tzinfo=None)  # the view's TIMESTAMP is UTC
