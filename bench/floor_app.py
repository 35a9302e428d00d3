"""A WSGI application that answers every request with the same small VOTable-sized body.

Served by gunicorn as the archive is, it measures what HTTP costs before any of the archive's
code runs: the connection, gunicorn's parsing and writing, and the client. The cone search's
ratio to direct SQL is read against it (:mod:`bench.bench_cone_datalink`).
"""
BODY = b"<VOTABLE/>".ljust(4000)


def application(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/xml;content=x-votable"),
                              ("Content-Length", str(len(BODY)))])
    return [BODY]
