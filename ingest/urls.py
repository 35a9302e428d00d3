"""URL map of the internal ingest API (served by its own gunicorn, on loopback by default)."""
from django.urls import path

from ingest import api

urlpatterns = [
    path("notifications", api.Notifications.as_view()),
    path("notifications/<int:notification_id>", api.NotificationStatus.as_view()),
    path("files", api.Files.as_view()),
    path("dirs", api.Directories.as_view()),
    path("failures", api.Failures.as_view()),
]

handler404 = "ingest.api.not_found"
