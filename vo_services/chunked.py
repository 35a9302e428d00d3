"""Request bodies, bounded as they arrive, and chunked ones given a length, for Django.

The bound (:data:`vo_services.tap.limits.MAX_REQUEST_BYTES`: every upload a request may hold at
its hard limit, plus the other parameters) is enforced before Django reads anything: a body
whose Content-Length is larger is refused at once, unread, so that a 2 GB upload never reaches
Django's spooling to disk (issue #13); a chunked body is cut off as soon as it passes the bound.

Django reads a request body only up to CONTENT_LENGTH, which a ``Transfer-Encoding: chunked``
request does not have, so such a POST (as STILTS and TOPCAT send uploads) would arrive empty:
this wrapper reads it (gunicorn has already undone the chunking) and hands Django a body with a
length.
"""
from __future__ import annotations

import io
import tempfile

from vo_services.tap.limits import MAX_REQUEST_BYTES
from vo_services.encoders.errors import error_document

IN_MEMORY = 1024 * 1024


class BoundedBodies:
    def __init__(self, application, max_body: int = MAX_REQUEST_BYTES):
        self.application = application
        self.max_body = max_body

    def __call__(self, environ, start_response):
        length = environ.get("CONTENT_LENGTH", "").strip()
        if length.isdigit() and int(length) > self.max_body:
            return self._too_large(start_response)
        if "chunked" in environ.get("HTTP_TRANSFER_ENCODING", "").lower() and not length:
            body = tempfile.SpooledTemporaryFile(max_size=IN_MEMORY)
            size = 0
            source = environ["wsgi.input"]
            while chunk := source.read(64 * 1024):
                size += len(chunk)
                if size > self.max_body:
                    body.close()
                    return self._too_large(start_response)
                body.write(chunk)
            body.seek(0)
            environ["wsgi.input"] = body if size > IN_MEMORY else io.BytesIO(body.read())
            environ["CONTENT_LENGTH"] = str(size)
        return self.application(environ, start_response)

    def _too_large(self, start_response):
        """413 with a DALI error document (DALI 1.1 §4.2), before any of the body is read."""
        document = error_document(f"UsageFault: the request body is larger than {self.max_body} bytes, "
                                  "the most this service accepts (uploads included)")
        start_response("413 Content Too Large", [("Content-Type", "application/x-votable+xml"),
                                                 ("Content-Length", str(len(document)))])
        return [document]
