"""URL map of the TAP service, below /tap."""
from django.urls import path

from vo_services.tap import views

urlpatterns = [
    path("", views.index),
    path("availability", views.availability),
    path("tables", views.tables),
    path("tables/<str:name>", views.table),
    path("examples", views.examples),
]
