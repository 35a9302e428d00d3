"""URL map of the portal's pages (mounted at the site root by ``vo_services.urls``).

Every page path is listed in ``vo_services.errors.PORTAL`` so that a missing page is an HTML 404
rather than a VO endpoint's VOTable error.
"""
from django.urls import path

from vo_services.portal import views

urlpatterns = [
    path("", views.home, name="home"),
]
