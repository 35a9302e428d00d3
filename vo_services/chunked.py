"""Requests with a chunked body, as STILTS and TOPCAT send uploads, for Django.

Django reads a request body only up to CONTENT_LENGTH, which a ``Transfer-Encoding: chunked``
request does not have, so such a POST would arrive empty. This WSGI wrapper reads the body
(gunicorn has already undone the chunking), up to a limit, and hands Django a body with a length.
"""
from __future__ import annotations

import io
import tempfile

MAX_BODY = 64 * 1024 * 1024
IN_MEMORY = 1024 * 1024


class ChunkedBodies:
    def __init__(self, application, max_body: int = MAX_BODY):
        self.application = application
        self.max_body = max_body

    def __call__(self, environ, start_response):
        if "chunked" in environ.get("HTTP_TRANSFER_ENCODING", "").lower() and not environ.get("CONTENT_LENGTH"):
            body = tempfile.SpooledTemporaryFile(max_size=IN_MEMORY)
            size = 0
            source = environ["wsgi.input"]
            while chunk := source.read(64 * 1024):
                size += len(chunk)
                if size > self.max_body:
                    start_response("413 Content Too Large", [("Content-Type", "text/plain")])
                    return [f"request body larger than {self.max_body} bytes\n".encode()]
                body.write(chunk)
            body.seek(0)
            environ["wsgi.input"] = body if size > IN_MEMORY else io.BytesIO(body.read())
            environ["CONTENT_LENGTH"] = str(size)
        return self.application(environ, start_response)
