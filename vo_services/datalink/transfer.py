"""Sending a file: conditional requests, ranges, and optional hand-off to the front web server."""
from __future__ import annotations

import re
from email.utils import format_datetime, parsedate_to_datetime

from django.http import FileResponse, HttpRequest, HttpResponse

from archive.standards import FITS_MIME
from vo_services.datalink.files import ArchiveFile

CHUNK = 256 * 1024
# RFC 9110 §14.1: a range unit is case-insensitive; §14.1.1: first-pos "-" [last-pos], or "-" suffix-length
_RANGE = re.compile(r"^bytes=[ \t]*(\d*)-(\d*)[ \t]*$", re.IGNORECASE)


def _byte_range(header: str, size: int) -> tuple[int, int] | None | bool:
    """(first, last) of a single byte range; None for an ignorable header; False if unsatisfiable.

    RFC 9110 §14.2: a server may ignore a Range it does not support or that is invalid and send
    the whole file: several ranges, another unit, malformed text, a last-pos before the first-pos
    (§14.1.1 calls that invalid, not unsatisfiable). Unsatisfiable (§14.1.1, answered 416): a
    first-pos at or past the end, or a suffix of zero bytes."""
    match = _RANGE.match(header.strip())
    if not match or match.groups() == ("", ""):
        return None
    first, last = match.groups()
    if first == "":  # the last N bytes
        length = int(last)
        return (max(size - length, 0), size - 1) if length and size else False
    start = int(first)
    if last and int(last) < start:
        return None
    end = min(int(last), size - 1) if last else size - 1
    return (start, end) if start < size else False


def _range_applies(if_range: str | None, found: ArchiveFile) -> bool:
    """RFC 9110 §13.1.5: the Range counts only if the file is the one the client holds part of:
    the same strong entity tag, or exactly its Last-Modified date (a weak tag never matches)."""
    if if_range is None:
        return True
    if_range = if_range.strip()
    if if_range.startswith(('"', "W/")):
        return if_range == found.etag
    try:
        return int(parsedate_to_datetime(if_range).timestamp()) == int(found.mtime.timestamp())
    except (TypeError, ValueError, IndexError):
        return False


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
    if wanted and _range_applies(request.headers.get("If-Range"), found):
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
