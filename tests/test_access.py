"""The access rules against the real schedule tables."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timezone

import pytest

from archive.db import engine
from archive.errors import AdminError
from ingest.access import NEVER, AccessPolicy, AccessRules, Grant, add_years, night_start
from ingest.schedule import Schedule, import_schedule, parse_slot, read_schedule


@dataclass
class Meta:
    """The few metadata fields the rules read."""

    file_path: str
    telescope: str = "Shane"
    instrument: str = "Kast Red"
    frame_type: str = "science"
    observing_night: date = date(2019, 5, 2)
    date_obs: datetime | None = datetime(2019, 5, 3, 5, 0, tzinfo=timezone.utc)


SCHEDULE_CSV = """telescope,night,starts_at,ends_at,program_id,title,observers,release_date
Shane,2019-05-02,2019-05-03T03:00:00Z,2019-05-03T08:00:00Z,2019A_S014,Quasar hosts,jdoe;asmith,2021-06-01
Shane,2019-05-02,2019-05-03T08:00:00Z,2019-05-03T13:00:00Z,2019A_S020,Novae,bwayne,
Nickel,2019-05-02,,,2019A_N003,Supernovae,ckent,
"""


@pytest.fixture
def schedule(archive_db, tmp_path):
    path = tmp_path / "schedule.csv"
    path.write_text(SCHEDULE_CSV)
    with engine("ingest").begin() as conn:
        import_schedule(conn, read_schedule(path))
    conn = engine("ingest").connect()
    try:
        yield Schedule(conn)
    finally:
        conn.close()
        with engine("owner").begin() as owner:
            owner.exec_driver_sql("DELETE FROM lick.program WHERE program_id LIKE '2019A_%%'")


def test_science_frame_goes_to_the_program_scheduled_at_its_time(schedule):
    decision = AccessRules(schedule).decide(Meta("2019-05/02/shane/r101.fits"))
    assert decision.grants == (Grant("program:2019A_S014", decision.rule),)
    assert decision.rule.startswith("rule 4")
    assert decision.release_date == night_start(date(2021, 6, 1))


def test_second_half_of_the_night_and_default_release(schedule):
    late = Meta("2019-05/02/shane/r150.fits", date_obs=datetime(2019, 5, 3, 10, tzinfo=timezone.utc))
    decision = AccessRules(schedule, AccessPolicy(proprietary_years=2)).decide(late)
    assert [g.principal for g in decision.grants] == ["program:2019A_S020"]
    assert decision.release_date == night_start(date(2021, 5, 2))


def test_calibration_frames_go_to_everyone_scheduled_that_night(schedule):
    decision = AccessRules(schedule).decide(Meta("2019-05/02/shane/r1.fits", frame_type="bias"))
    assert sorted(g.principal for g in decision.grants) == ["program:2019A_S014", "program:2019A_S020"]
    # the later of the two release dates, so neither program's data is released early
    assert decision.release_date == night_start(date(2021, 6, 1))


def test_nobody_scheduled_means_public(schedule):
    decision = AccessRules(schedule).decide(Meta("2019-05/03/shane/r1.fits", observing_night=date(2019, 5, 3)))
    assert decision.grants == () and decision.rule.startswith("rule 5")
    assert decision.is_public_now


def test_always_public_files(schedule):
    rules = AccessRules(schedule)
    assert rules.decide(Meta("2019-05/02/shane/allsky.jpg")).grants == ()
    assert rules.decide(Meta("2019-05/02/shane/x.fits", instrument="All Sky")).grants == ()


def test_errors_fail_closed(schedule):
    decision = AccessRules(schedule).decide(Meta("2019-05/02/shane/r1.fits", observing_night=None))
    assert decision.failed and decision.release_date == NEVER and not decision.is_public_now


def test_a_whole_night_slot_covers_every_frame(schedule):
    decision = AccessRules(schedule).decide(Meta("2019-05/02/nickel/d5.fits", telescope="Nickel",
                                                 instrument="Nickel Direct", date_obs=None))
    assert [g.principal for g in decision.grants] == ["program:2019A_N003"]


def test_reimport_replaces_the_night(schedule, tmp_path):
    path = tmp_path / "new.json"
    path.write_text('[{"telescope": "Nickel", "night": "2019-05-02", "program_id": "2019A_N009", '
                    '"observers": ["dprince"]}]')
    with engine("ingest").begin() as conn:
        import_schedule(conn, read_schedule(path))
    with engine("ingest").connect() as conn:
        slots = Schedule(conn).slots("Nickel", date(2019, 5, 2))
    assert [s.program_id for s in slots] == ["2019A_N009"]


@pytest.mark.parametrize("record, message", [
    ({"telescope": "Keck", "night": "2019-05-02", "program_id": "x"}, "telescope 'Keck'"),
    ({"telescope": "Shane", "night": "May 2", "program_id": "x"}, "not an ISO 8601 date"),
    ({"telescope": "Shane", "night": "2019-05-02", "program_id": ""}, "program_id is empty"),
    ({"telescope": "Shane", "night": "2019-05-02", "program_id": "x", "starts_at": "2019-05-03T01:00"},
     "starts_at and ends_at"),
])
def test_bad_schedule_rows_name_the_row_and_problem(record, message):
    with pytest.raises(AdminError, match=message):
        parse_slot(record, "schedule.csv line 7")


def test_leap_day_release():
    assert add_years(date(2024, 2, 29), 2) == date(2026, 2, 28)


def _overrides(tmp_path, files: dict[str, str]):
    from ingest.overrides import Overrides

    night = tmp_path / "2019-05" / "02" / "shane"
    night.mkdir(parents=True)
    for name, text in files.items():
        (night / name).write_text(text)
    return Overrides(tmp_path)


def test_override_access_lines(schedule, tmp_path):
    overrides = _overrides(tmp_path, {
        "override.access": "r1*.fits access public\n",
        "override.2.access": "# newest wins\nr10*.fits access jdoe asmith\nr2*.fits access all-observers\n"
                             "r1*.fits access public\n",
    })
    rules = AccessRules(schedule, overrides=overrides)
    by_name = rules.decide(Meta("2019-05/02/shane/r101.fits"))
    assert [g.principal for g in by_name.grants] == ["user:jdoe", "user:asmith"]
    assert by_name.rule.startswith("rule 1")
    everyone = rules.decide(Meta("2019-05/02/shane/r200.fits"))
    assert sorted(g.principal for g in everyone.grants) == ["program:2019A_S014", "program:2019A_S020"]
    assert rules.decide(Meta("2019-05/02/shane/r150.fits")).grants == ()  # public, by the third line


def test_override_obstype_then_rules_apply(schedule, tmp_path):
    rules = AccessRules(schedule, overrides=_overrides(tmp_path, {"override.access": "r5*.fits obstype flat\n"}))
    meta = rules.correct(Meta("2019-05/02/shane/r55.fits"))
    assert meta.frame_type == "flat"
    assert rules.decide(meta).rule.startswith("rule 3")


def test_broken_override_fails_closed(schedule, tmp_path):
    rules = AccessRules(schedule, overrides=_overrides(tmp_path, {"override.access": "r5*.fits maybe\n"}))
    decision = rules.decide(Meta("2019-05/02/shane/r55.fits"))
    assert decision.failed and "line 1" in decision.rule and not decision.is_public_now


def test_reapply_access_after_a_schedule_change(archive_db, archive_root, tmp_path):
    """A file ingested as public becomes proprietary when its night is scheduled afterwards."""
    import shutil

    from ingest.pipeline import ingest_batch, reapply_access
    from tests.ingest.samples import load_samples, write_sample

    sample = next(s for s in load_samples() if s.key == "kast_red_1")
    path = write_sample(sample, archive_root, rel_path="1997-03/04/shane/r9.fits")
    try:
        ingest_batch([path], root=archive_root)
        rel = "1997-03/04/shane/r9.fits"
        with engine("owner").connect() as conn:
            telescope, night = conn.exec_driver_sql(
                "SELECT telescope, observing_night FROM lick.observation WHERE file_path = %s", (rel,)).one()
        schedule_file = tmp_path / "s.csv"
        schedule_file.write_text("telescope,night,program_id,release_date\n"
                                 f"{telescope},{night},1997A_X01,2099-01-01\n")
        with engine("ingest").begin() as conn:
            import_schedule(conn, read_schedule(schedule_file))
        assert reapply_access(night=night) >= 1
        with engine("owner").connect() as conn:
            release, principals = conn.exec_driver_sql(
                "SELECT o.obs_release_date, array_agg(g.principal) FROM lick.observation o "
                "JOIN lick.access_grant g ON g.observation_id = o.id WHERE o.file_path = %s "
                "GROUP BY o.obs_release_date", (rel,)).one()
        assert release.year == 2099 and principals == ["program:1997A_X01"]
    finally:
        shutil.rmtree(archive_root / "1997-03", ignore_errors=True)
        with engine("owner").begin() as conn:
            conn.exec_driver_sql("DELETE FROM lick.observation WHERE file_path LIKE '1997-03/%%'")
            conn.exec_driver_sql("DELETE FROM lick.program WHERE program_id = '1997A_X01'")
