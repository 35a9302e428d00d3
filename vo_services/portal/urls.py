"""URL map of the portal's pages (mounted at the site root by ``vo_services.urls``).

Every page path is listed in ``vo_services.errors.PORTAL`` so that a missing page is an HTML 404
rather than a VO endpoint's VOTable error.
"""
from django.urls import path

from vo_services.portal import mine, query_views, tonight_views, views

urlpatterns = [
    path("", views.home, name="home"),
    path("query", query_views.query, name="query"),
    path("query/jobs/<str:job_id>", query_views.query_job, name="query_job"),
    path("query/jobs/<str:job_id>/run", query_views.query_job_run, name="query_job_run"),
    path("query/jobs/<str:job_id>/abort", query_views.query_job_abort, name="query_job_abort"),
    path("tonight", tonight_views.tonight, name="tonight"),
    path("tonight/frames", tonight_views.tonight_frames, name="tonight_frames"),
    path("my/jobs", mine.my_jobs, name="my-jobs"),
    path("my/bundles", mine.my_bundles, name="my-bundles"),
]
