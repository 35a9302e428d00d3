"""The real clients astronomers use, against the real server: pyvo and astroquery."""
from __future__ import annotations

import pyvo


def test_pyvo_sync_async_and_metadata(live_archive):
    service = pyvo.dal.TAPService(f"{live_archive}/tap")
    query = "SELECT TOP 20 obs_id, target_name, s_ra, s_dec, t_min FROM ivoa.obscore ORDER BY t_min"
    sync = service.search(query)
    assert len(sync) > 0
    job = service.submit_job(query)
    job.run()
    job.wait(phases=["COMPLETED", "ERROR", "ABORTED"], timeout=60)
    assert job.phase == "COMPLETED"
    assert list(job.fetch_result().to_table()["obs_id"]) == list(sync.to_table()["obs_id"])
    job.delete()
    assert len(service.run_async(query)) == len(sync)
    assert "ivoa.obscore" in [t.name for t in service.tables]


def test_pyvo_async_error_has_phase_error(live_archive):
    service = pyvo.dal.TAPService(f"{live_archive}/tap")
    job = service.submit_job("SELECT nothing FROM nowhere")
    job.run()
    job.wait(phases=["COMPLETED", "ERROR", "ABORTED"], timeout=60)
    assert job.phase == "ERROR" and "nowhere" in job.job.errorsummary.message.content


def test_astroquery_tapplus(live_archive):
    from astroquery.utils.tap.core import TapPlus

    tap = TapPlus(url=f"{live_archive}/tap", verbose=False)
    result = tap.launch_job("SELECT TOP 5 obs_id, instrument_name FROM ivoa.obscore").get_results()
    assert len(result) == 5 and "instrument_name" in result.colnames
    # (TapPlus.load_table reads ESA's own esatapplus:flags extension of VOSI, so it is ESA-only.)
    job = tap.launch_job_async("SELECT COUNT(*) AS n FROM ivoa.obscore")
    assert job.get_phase() == "COMPLETED" and job.get_results()["n"][0] > 0
