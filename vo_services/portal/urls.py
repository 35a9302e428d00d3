"""URL map of the portal's pages (mounted at the site root by ``vo_services.urls``).

Every page path is listed in ``vo_services.errors.PORTAL`` so that a missing page is an HTML 404
rather than a VO endpoint's VOTable error.
"""
from django.urls import path

from vo_services.portal import basket_views, mine, query_views, search_views, tonight_views, views

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
    path("search", search_views.search_page, name="search"),
    path("search/targets", search_views.target_names, name="search_targets"),
    path("observation/<path:obs_id>", search_views.observation_page, name="observation"),
    path("basket", basket_views.basket_page, name="basket"),
    path("basket/add", basket_views.basket_add, name="basket_add"),
    path("basket/remove", basket_views.basket_remove, name="basket_remove"),
    path("basket/clear", basket_views.basket_clear, name="basket_clear"),
    path("basket/calibrations", basket_views.basket_calibrations, name="basket_calibrations"),
    path("basket/download", basket_views.basket_download, name="basket_download"),
    path("basket/bundle/<str:bundle_id>", basket_views.bundle_page, name="basket_bundle"),
]
