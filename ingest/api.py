"""The internal ingest REST API: token-protected, served apart from the public VO URLs.

    POST /notifications        {"event": "changed"|"deleted", "paths": [...]} -> 202 {"id", "status", "url"}
    GET  /notifications/<id>   the notification's status and outcome
    GET  /files?dir=<rel dir>  the stored size and mtime of each file of a directory (watcher resync)
    GET  /dirs                 every directory that holds stored files (watcher resync)
    GET  /failures             files that could not be ingested, with their reasons

Every answer is JSON, errors too: ``{"error": "..."}`` with the fitting HTTP status, whatever
goes wrong and wherever (a view, a bad body, a NUL character, an unknown path, a wrong Host,
an unexpected exception): the API has its own URL conf (:mod:`ingest.urls`, its error handlers
below) and its own short middleware list (``vo_services/settings.py``), nothing of the public
services' HTML or VOTable pages.
"""
from __future__ import annotations

import hmac
import logging

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, JsonResponse
from rest_framework import status
from rest_framework.exceptions import APIException, AuthenticationFailed, ParseError
from rest_framework.parsers import JSONParser
from rest_framework.permissions import BasePermission
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView, exception_handler
from sqlalchemy import func, select

from archive.config import get_settings
from archive.db import engine
from archive.schema import ingest_failure, observation
from ingest import notifications
from ingest.notifications import BadNotification

log = logging.getLogger(__name__)


class IngestToken(BasePermission):
    """``Authorization: Bearer <LICK_INGEST_TOKEN>``; with no token configured, nobody gets in."""

    def has_permission(self, request, view) -> bool:
        expected = get_settings().ingest_token
        given = request.headers.get("Authorization", "")
        if not expected or not hmac.compare_digest(given.encode(), f"Bearer {expected}".encode()):
            raise AuthenticationFailed("a valid 'Authorization: Bearer <ingest token>' header is required")
        return True


def json_errors(exc, context):
    """DRF's handler, reshaped to ``{"error": message}``; anything unexpected becomes a JSON 500."""
    if isinstance(exc, RequestDataTooBig):
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        return Response({"error": f"the request body is over {limit} bytes: send fewer paths per notification"},
                        status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE)
    response = exception_handler(exc, context)
    if response is None:
        log.error("ingest API: unexpected error", exc_info=exc)
        return Response({"error": "internal error; see the server log"}, status=500)
    detail = exc.detail if isinstance(exc, APIException) else str(exc)
    if isinstance(detail, dict):
        detail = "; ".join(f"{k}: {v}" for k, v in detail.items())
    elif isinstance(detail, list):
        detail = "; ".join(map(str, detail))
    response.data = {"error": str(detail)}
    if response.status_code == 403 and isinstance(exc, AuthenticationFailed):
        response.status_code = 401
    return response


class IngestView(APIView):
    permission_classes = [IngestToken]
    authentication_classes: list = []
    parser_classes = [JSONParser]  # a form or any other body: 415, in JSON
    renderer_classes = [JSONRenderer]  # never DRF's HTML pages, whatever Accept says

    def get_exception_handler(self):
        return json_errors

    def initial(self, request: Request, *args, **kwargs) -> None:
        super().initial(request, *args, **kwargs)
        query = request.META.get("QUERY_STRING", "")
        if "%00" in query or "\x00" in query:  # PostgreSQL text cannot hold one: it would be a 500
            raise ParseError("the query string holds a NUL character (%00)")

    def bad(self, message: str) -> Response:
        return Response({"error": message}, status=status.HTTP_400_BAD_REQUEST)


class Notifications(IngestView):
    def post(self, request: Request) -> Response:
        from ingest.tasks import process_notification

        if not isinstance(request.data, dict):
            return self.bad("expected a JSON object {\"event\": ..., \"paths\": [...]}")
        try:
            paths = notifications.normalise_paths(request.data.get("paths"), get_settings().archive_root)
            with engine("ingest").begin() as conn:
                notification_id = notifications.create(conn, request.data.get("event", "changed"), paths)
        except BadNotification as exc:
            return self.bad(str(exc))
        # Queued after the commit, so the worker always finds the row. Should the broker be
        # down, the row stays 'queued' and the beat task requeue_stale_notifications sends it.
        try:
            process_notification.delay(notification_id)
        except Exception as exc:  # noqa: BLE001  (kombu raises many kinds of connection errors)
            log.warning("notification %s recorded but not queued: %s", notification_id, exc)
        return Response({"id": notification_id, "status": "queued",
                         "url": f"{get_settings().ingest_url}/notifications/{notification_id}"},
                        status=status.HTTP_202_ACCEPTED)


class NotificationStatus(IngestView):
    def get(self, request: Request, notification_id: int) -> Response:
        with engine("ingest").connect() as conn:
            found = notifications.get(conn, notification_id)
        if found is None:
            return Response({"error": f"no notification {notification_id}"}, status=404)
        return Response(found)


class Files(IngestView):
    def get(self, request: Request) -> Response:
        directory = request.query_params.get("dir", "").strip("/")
        if not directory or ".." in directory.split("/"):
            return self.bad("'dir' must name a directory inside the archive, e.g. 2019-05/02/shane")
        prefix = directory.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "/%"
        with engine("ingest").connect() as conn:
            rows = conn.execute(select(observation.c.file_path, observation.c.file_size,
                                       observation.c.file_mtime)
                                .where(observation.c.file_path.like(prefix))
                                .order_by(observation.c.file_path))
            files = [{"path": r.file_path, "size": r.file_size, "mtime": r.file_mtime.timestamp()}
                     for r in rows]
        return Response({"dir": directory, "files": files})


class Directories(IngestView):
    def get(self, request: Request) -> Response:
        """So that a resync also notices directories removed from disk as a whole."""
        directory = func.regexp_replace(observation.c.file_path, "/[^/]*$", "")
        with engine("ingest").connect() as conn:
            dirs = conn.execute(select(directory).distinct().order_by(directory)).scalars().all()
        return Response({"dirs": dirs})


class Failures(IngestView):
    def get(self, request: Request) -> Response:
        with engine("ingest").connect() as conn:
            rows = conn.execute(select(ingest_failure).order_by(ingest_failure.c.file_path))
            return Response({"failures": [
                {"path": r.file_path, "reason": r.reason, "attempts": r.attempts,
                 "last_failed_at": r.last_failed_at.isoformat()} for r in rows]})


# Django's error handlers for this URL conf (ingest/urls.py): what no view answers.

def bad_request(request: HttpRequest, exception=None) -> JsonResponse:
    """A request Django refuses before any view; the message does not repeat the request."""
    return JsonResponse({"error": "bad request (unknown Host, or malformed)"}, status=400)


def permission_denied(request: HttpRequest, exception=None) -> JsonResponse:
    return JsonResponse({"error": "forbidden"}, status=403)


def not_found(request: HttpRequest, exception=None) -> JsonResponse:
    return JsonResponse({"error": f"no such resource: {request.path!r}"}, status=404)


def server_error(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"error": "internal error; see the server log"}, status=500)
