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


def test_pyvo_follows_datalinks_of_a_tap_result(live_archive, archive_root):
    """TOPCAT's and pyvo's path from a query to the data: the service descriptor in the result."""
    import urllib.request

    from archive.db import engine

    service = pyvo.dal.TAPService(f"{live_archive}/tap")
    result = service.search("SELECT TOP 3 * FROM ivoa.obscore WHERE dataproduct_type = 'image' ORDER BY obs_id")
    assert len(result) == 3
    with engine("owner").connect() as conn:
        paths = dict(conn.exec_driver_sql("SELECT obs_publisher_did, file_path FROM lick.observation "
                                          "WHERE obs_publisher_did = ANY (%s)",
                                          ([str(d) for d in result["obs_publisher_did"]],)).all())
    followed = 0
    for row, links in zip(result, result.iter_datalinks()):
        this = next(links.bysemantics("#this", include_narrower=False))
        assert urllib.request.urlopen(this.access_url).read() == (archive_root / paths[str(row["obs_publisher_did"])]).read_bytes()
        preview = next(links.bysemantics("#preview", include_narrower=False))  # no vocabulary download
        assert urllib.request.urlopen(preview.access_url).read().startswith(b"\x89PNG")
        followed += 1
    assert followed == 3


def test_a_pyvo_session_keeps_its_connection(live_archive, monkeypatch):
    """pyvo (a requests.Session underneath) sends every query of a session down one connection,
    which the server keeps open (vo_services.gunicorn_config): no TCP set-up per query. Streamed
    results and error answers keep it too."""
    import urllib3.connection
    from pyvo.utils.http import create_session

    connects = []
    connect = urllib3.connection.HTTPConnection.connect
    monkeypatch.setattr(urllib3.connection.HTTPConnection, "connect",
                        lambda conn: connects.append(conn.port) or connect(conn))
    session = create_session()
    cone = pyvo.dal.SCSService(f"{live_archive}/scs", session=session)
    tap = pyvo.dal.TAPService(f"{live_archive}/tap", session=session)
    everything = tap.search("SELECT * FROM ivoa.obscore")  # streamed: over 64 kB, chunked
    ra, dec = everything["s_ra"][0], everything["s_dec"][0]
    for _ in range(3):
        assert len(cone.search((ra, dec), 0.01)) >= 1
        assert len(tap.search("SELECT * FROM ivoa.obscore")) == len(everything)
    assert session.get(f"{live_archive}/scs?RA=400&DEC=0&SR=1").status_code == 400
    assert len(cone.search((ra, dec), 0.01)) >= 1
    assert len(connects) == 1
