"""The job core (vo_services/jobs) on real rows: what both TAP jobs and bundles rely on."""
from __future__ import annotations

import pytest

from vo_services.datalink import bundle_jobs
from vo_services.jobs import executor, persistence
from vo_services.jobs.persistence import Phase
from vo_services.tap import jobs, results
from vo_services.tap.models import Job

pytestmark = pytest.mark.django_db(transaction=True)


def _queued_job() -> Job:
    """A QUEUED TAP job whose message was never sent (no worker takes it behind our back)."""
    job = jobs.create(None, [("LANG", "ADQL"), ("QUERY", "SELECT TOP 1 obs_id FROM ivoa.obscore")])
    assert persistence.set_phase(jobs.KIND, job.id, (Phase.PENDING,), Phase.QUEUED)
    return job


def _no_explanation(job, exc):
    return None


def test_every_kind_is_sent_to_a_task_the_worker_has():
    """Tasks are sent by name: a kind whose task no module of the worker registers, or a beat
    entry naming no task, would queue work that nobody runs."""
    import importlib

    from lick.worker import app

    for module in app.conf.include:
        importlib.import_module(module)
    for name in [jobs.KIND.task, bundle_jobs.KIND.task] + [e["task"] for e in app.conf.beat_schedule.values()]:
        assert name in app.tasks, name


def test_an_unforeseen_failure_ends_in_error_not_executing():
    """Before the core, a TAP job whose executor raised something unforeseen stayed EXECUTING
    until the stuck sweep; now it is ERROR at once, with the kind's internal-error summary."""
    job = _queued_job()

    def work(row):
        raise RuntimeError("a bug")

    assert executor.execute(jobs.KIND, job.id, work, _no_explanation).startswith("ERROR")
    job.refresh_from_db()
    assert job.phase == Phase.ERROR and job.error_summary == jobs.KIND.internal_error
    assert job.error_type == "fatal" and job.end_time is not None


def test_a_known_failure_gives_its_own_message():
    job = _queued_job()

    def work(row):
        raise ValueError("no such column")

    executor.execute(jobs.KIND, job.id, work, lambda row, exc: f"explained: {exc}")
    job.refresh_from_db()
    assert job.phase == Phase.ERROR and job.error_summary == "explained: no such column"


def test_a_job_stopped_while_it_ran_keeps_its_phase_and_loses_its_result():
    job = _queued_job()

    def work(row):
        final = results.results_dir() / f"{row.id}.csv"
        with persistence.result_file(final) as out:
            out.write(b"a\n1\n")
        jobs.abort(Job.objects.get(id=row.id))  # the user's ABORT, while the worker finishes
        return {"result_file": final.name, "result_size": final.stat().st_size}

    assert "discarded" in executor.execute(jobs.KIND, job.id, work, _no_explanation)
    job.refresh_from_db()
    assert job.phase == Phase.ABORTED and job.result_file is None
    assert list(results.results_dir().glob(f"*{job.id}*")) == []


def test_only_a_queued_job_runs():
    job = _queued_job()
    assert persistence.set_phase(jobs.KIND, job.id, (Phase.QUEUED,), Phase.ABORTED)
    ran = []
    assert executor.execute(jobs.KIND, job.id, ran.append, _no_explanation).startswith("not queued")
    assert ran == [] and Job.objects.get(id=job.id).phase == Phase.ABORTED


def test_a_result_appears_whole_or_not_at_all(tmp_path):
    final = tmp_path / "result.xml"
    with pytest.raises(OSError):
        with persistence.result_file(final) as out:
            out.write(b"half")
            raise OSError("disk full")
    assert list(tmp_path.iterdir()) == [], "neither the result nor its partial file"
    with persistence.result_file(final) as out:
        out.write(b"whole")
        assert not final.exists(), "not published before it is complete"
    assert final.read_bytes() == b"whole" and list(tmp_path.iterdir()) == [final]
