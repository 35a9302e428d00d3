"""UWS 1.1 documents of jobs and job lists (vo-models), and the job list filters (§2.2.2.1)."""
from __future__ import annotations

from datetime import datetime, timezone

from django.db.models import QuerySet
from pydantic_xml import BaseXmlModel, element
from vo_models.uws.models import (
    NSMAP, ErrorSummary, JobSummary, Jobs, Parameter, ResultReference, Results, ShortJobDescription,
)
from vo_models.uws.types import ErrorType, ExecutionPhase

from vo_services.tap.models import Job, Phase


class JobParameters(BaseXmlModel, tag="parameters", ns="uws", nsmap=NSMAP):
    """All of a job's parameters as one list.

    vo-models' own ``Parameters`` needs one declared field per parameter id, and silently drops
    any other; TAP jobs take arbitrary parameters (UWS 1.1 leaves their names to the service).
    """

    parameter: list[Parameter] = element(tag="parameter", default_factory=list)


def job_url(base: str, job: Job) -> str:
    return f"{base}/async/{job.id}"


def _parameters(job: Job, base: str) -> JobParameters:
    params = []
    for name, value in job.parameters:
        # UWS §2.1.11: inline uploads are stored by the service and given by reference.
        by_reference = name == "UPLOAD" and ",param:" not in value and "://" in value
        params.append(Parameter(id=name.lower(), value=value, by_reference=by_reference))
    return JobParameters(parameter=params)


def job_document(job: Job, base: str) -> bytes:
    """``<uws:job version="1.1">`` with every element in UWS 1.1 Appendix B order."""
    error = None
    if job.phase == Phase.ERROR:
        error = ErrorSummary(message=job.error_summary or "the job failed",
                             type=ErrorType(job.error_type or "fatal"), has_detail=True)
    # Never skip_empty: ownerId, quote, startTime... are mandatory and nillable (the UWS 1.1 schema).
    summary = JobSummary[JobParameters](
        job_id=job.id, run_id=job.run_id, owner_id=job.owner, phase=ExecutionPhase(job.phase),
        quote=job.quote, creation_time=job.creation_time, start_time=job.start_time,
        end_time=job.end_time, execution_duration=job.execution_duration,
        destruction=job.destruction, parameters=_parameters(job, base),
        results=_results(job, base), error_summary=error,
    )
    return summary.to_xml(encoding="UTF-8", xml_declaration=True)


def job_list_document(jobs: QuerySet, base: str) -> bytes:
    refs = [ShortJobDescription(job_id=j.id, href=job_url(base, j), phase=ExecutionPhase(j.phase),
                                run_id=j.run_id, owner_id=j.owner, creation_time=j.creation_time)
            for j in jobs]
    return Jobs(jobref=refs).to_xml(encoding="UTF-8", xml_declaration=True)


def filter_jobs(jobs: QuerySet, phases: list[str], after: str | None, last: str | None) -> QuerySet:
    """UWS 1.1 §2.2.2.1: PHASE (repeatable, a union), AFTER, LAST; filters combine with AND.

    ARCHIVED jobs are listed only when asked for by PHASE.
    """
    if phases:
        unknown = [p for p in phases if p not in Phase.values]
        if unknown:
            raise ValueError(f"PHASE must be one of {', '.join(Phase.values)}, not {unknown[0]}")
        jobs = jobs.filter(phase__in=phases)
    else:
        jobs = jobs.exclude(phase=Phase.ARCHIVED)
    if after:
        try:
            moment = datetime.fromisoformat(after.strip().replace("Z", "+00:00"))
        except ValueError:
            raise ValueError(f"AFTER must be an ISO 8601 time, not '{after}'") from None
        if moment.tzinfo is None:  # UWS times are UTC
            moment = moment.replace(tzinfo=timezone.utc)
        jobs = jobs.filter(creation_time__gt=moment)
    if last:
        try:
            count = int(last)
        except ValueError:
            count = 0
        if count <= 0:
            raise ValueError(f"LAST must be a positive integer, not '{last}'")
        return jobs.order_by("-creation_time")[:count]
    return jobs.order_by("creation_time")


def parameters_document(job: Job, base: str) -> bytes:
    return _parameters(job, base).to_xml(encoding="UTF-8", xml_declaration=True)


def _results(job: Job, base: str) -> Results:
    """UWS §2.2.2.3 / TAP §2.2: one result, id "result", once the job completed."""
    if job.phase != Phase.COMPLETED:
        return Results(results=[])
    return Results(results=[ResultReference(id="result", href=f"{job_url(base, job)}/results/result",
                                            size=job.result_size, mime_type=job.result_mime)])


def results_document(job: Job, base: str) -> bytes:
    return _results(job, base).to_xml(encoding="UTF-8", xml_declaration=True)
