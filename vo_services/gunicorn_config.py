"""How gunicorn serves the VO services: ``gunicorn -c python:vo_services.gunicorn_config``.

One place for scripts/run.sh, the systemd unit, the tests and the benchmarks; each still says
where to listen and how many worker processes (``--bind``, ``--workers``); the command line
overrides anything here (``--threads 8``).

Threaded workers keep a client's connection open between requests (HTTP/1.1 keep-alive).
pyvo and astroquery (a ``requests.Session``), TOPCAT (Java's URL connections) and Apache's
mod_proxy towards its backend all reuse theirs, and a kept connection spares every query the
TCP set-up and gunicorn's accept: a cone search takes about 0.35 ms less, four fifths of its time
on a new connection (``bench/bench_cone_datalink.py``). A slow download or a long streamed result
also holds one thread, not a whole worker process. The archive's own code shares nothing
between requests but locked pools and caches that the GIL keeps whole.
"""
import os

# gthread, whose event loop gathers each request's header block before a thread serves it, and
# answers 408 when it takes longer than LICK_HEADER_TIMEOUT: a client sending its headers slowly
# holds no thread (vo_services/header_deadline.py; the body: vo_services/body_deadline.py).
worker_class = "vo_services.header_deadline.HeaderDeadlineWorker"
threads = 4
# Shorter than a proxy keeps an idle backend connection would race with its reuse: Apache's
# ProxyPass gets ttl=4 (docs/deployment.md).
keepalive = 5
timeout = 120
# gunicorn's run-time control socket is one path per user (~/.gunicorn/gunicorn.ctl), which the
# ingest API's gunicorn and test servers on the same host would share; nothing here uses it.
control_socket_disable = True
# Credentials that clients put into URLs never reach the access or error log.
logger_class = "vo_services.log_redaction.RedactingLogger"
# A GET with its ADQL in the URL may be long: gunicorn's largest bounded request line (Apache's
# LimitRequestLine default); beyond it the HTTP server answers 414, before any VO endpoint.
limit_request_line = 8190


def post_fork(server, worker) -> None:
    """Tell the application how many threads serve it: vo_services/sync_slots.py keeps one of
    them for cheap requests (``--threads`` on the command line included)."""
    os.environ["LICK_WEB_THREADS"] = str(worker.cfg.threads)
