"""URL map of the public VO services."""
from django.urls import path

from vo_services import views

urlpatterns = [
    path("", views.home, name="home"),
]
