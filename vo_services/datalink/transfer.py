"""Sending a file: conditional requests, ranges, and optional hand-off to the front web server."""
from __future__ import annotations

import re
from email.utils import format_datetime, parsedate_to_datetime

from django.http import FileResponse, HttpRequest, HttpResponse

from archive.standards import FITS_MIME
from vo_services.datalink.files import ArchiveFile

CHUNK = 256 * 1024
_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


def _byte_range(header: str, size: int) -> tuple[int, int] | None | bool:
    """(first, last) of a single byte range; None for no or an ignorable header; False if unsatisfiable."""
    match = _RANGE.match(header.strip())
    if not match or match.groups() == ("", ""):
        return None  # several ranges or a malformed header: send the whole file (allowed)
    first, last = match.groups()
    if first == "":  # the last N bytes
        length = int(last)
        return (max(size - length, 0), size - 1) if length else False
    start = int(first)
    end = min(int(last), size - 1) if last else size - 1
    return (start, end) if start < size and start <= end else False


def _ranged(path, start: int, end: int):
    with path.open("rb") as f:
        f.seek(start)
        remaining = end - start + 1
        while remaining > 0:
            chunk = f.read(min(CHUNK, remaining))
            if not chunk:
                return
            remaining -= len(chunk)
            yield chunk


def file_response(request: HttpRequest, found: ArchiveFile, sendfile: str = "") -> HttpResponse:
    headers = {
        "ETag": found.etag,
        "Last-Modified": format_datetime(found.mtime, usegmt=True),
        "Accept-Ranges": "bytes",
        "Content-Disposition": f'attachment; filename="{found.name}"',
    }
    if request.headers.get("If-None-Match") == found.etag:
        return HttpResponse(status=304, headers=headers)
    since = request.headers.get("If-Modified-Since")
    if since:
        try:
            if int(found.mtime.timestamp()) <= int(parsedate_to_datetime(since).timestamp()):
                return HttpResponse(status=304, headers=headers)
        except (TypeError, ValueError):
            pass
    content_type = FITS_MIME
    if sendfile == "x-sendfile":  # Apache mod_xsendfile serves it; access was checked above
        return HttpResponse(headers={**headers, "X-Sendfile": str(found.path)}, content_type=content_type)
    if sendfile == "x-accel":  # nginx: an internal location mapped onto the archive root
        return HttpResponse(headers={**headers, "X-Accel-Redirect": f"/protected/{found.rel_path}"},
                            content_type=content_type)
    size = found.path.stat().st_size
    wanted = request.headers.get("Range")
    if wanted and request.headers.get("If-Range", found.etag) == found.etag:
        byte_range = _byte_range(wanted, size)
        if byte_range is False:
            return HttpResponse(status=416, headers={**headers, "Content-Range": f"bytes */{size}"})
        if byte_range:
            start, end = byte_range
            response = FileResponse(_ranged(found.path, start, end), status=206, content_type=content_type,
                                    headers=headers)
            response["Content-Range"] = f"bytes {start}-{end}/{size}"
            response["Content-Length"] = str(end - start + 1)
            return response
    response = FileResponse(found.path.open("rb"), content_type=content_type, headers=headers)
    response["Content-Length"] = str(size)
    return response
