"""URL map of the portal's pages (mounted at the site root by ``vo_services.urls``).

Every page path is listed in ``vo_services.errors.PORTAL`` so that a missing page is an HTML 404
rather than a VO endpoint's VOTable error.
"""
from django.urls import path

from vo_services.portal import mine, views

urlpatterns = [
    path("", views.home, name="home"),
    path("my/jobs", mine.my_jobs, name="my-jobs"),
    path("my/bundles", mine.my_bundles, name="my-bundles"),
]
