"""URL map of the internal ingest API (served by its own gunicorn, on loopback by default).

``LICK_URLCONF=ingest.urls`` selects it (vo_services/settings.py); the handlers below answer in
JSON what no view does, in place of Django's HTML pages.
"""
from django.urls import path

from ingest import api

urlpatterns = [
    path("notifications", api.Notifications.as_view()),
    path("notifications/<int:notification_id>", api.NotificationStatus.as_view()),
    path("files", api.Files.as_view()),
    path("dirs", api.Directories.as_view()),
    path("failures", api.Failures.as_view()),
]

handler400 = "ingest.api.bad_request"
handler403 = "ingest.api.permission_denied"
handler404 = "ingest.api.not_found"
handler500 = "ingest.api.server_error"
