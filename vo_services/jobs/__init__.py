"""The job core: what TAP async jobs and download bundles share, written once.

Split as UWS services usually are (OpenCADC's uws-server among them):

- :mod:`.persistence` — a job is a row; its phase moves only by compare-and-set, its executor
  shows it is alive with a heartbeat, and its result is published by write-then-rename;
- :mod:`.executor` — sending a job to the workers by task name (a broker outage loses nothing)
  and running one in a worker: EXECUTING with a heartbeat, then COMPLETED, or ERROR on an
  exception;
- :mod:`.manager` — the sweeps Celery beat runs: stuck EXECUTING jobs become ERROR, QUEUED jobs
  whose broker message was lost are sent again, and expired ones lose their results.

Each kind of job describes itself once with a :class:`~.persistence.JobKind`; the web modules
send its task by name and never import the task modules.
"""
